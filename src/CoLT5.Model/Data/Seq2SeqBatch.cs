// Collates examples into padded (B, T) arrays with Hugging Face T5's conventions: attention mask, labels with
// −100 at padding, and decoder inputs = labels shifted right with pad as the start token.
using System;
using System.Collections.Generic;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors;

namespace CoLT5.Model.Data;

/// <summary>
/// How a batch's sequence lengths are chosen: the longest sequence rounded up to a multiple, or a fixed length.
/// The input multiple defaults to 128 (one LongT5 local-attention block at radius 127), the target multiple to 8.
/// </summary>
/// <param name="InputMultiple">Round the longest input up to a multiple of this.</param>
/// <param name="TargetMultiple">Round the longest target up to a multiple of this.</param>
/// <param name="FixedInputLength">When set, every batch has exactly this input length.</param>
/// <param name="FixedTargetLength">When set, every batch has exactly this target length.</param>
public sealed record BatchPadding(int InputMultiple = 128, int TargetMultiple = 8, int? FixedInputLength = null,
    int? FixedTargetLength = null)
{
    /// <summary>Pads to the longest sequence of the batch, no rounding.</summary>
    public static BatchPadding Longest { get; } = new(1, 1);

    /// <summary>Pads every batch to the same fixed lengths.</summary>
    public static BatchPadding Fixed(int inputLength, int targetLength) => new(1, 1, inputLength, targetLength);

    /// <summary>The padded input length for a batch whose longest input is <paramref name="longest"/>.</summary>
    public int InputLengthFor(int longest) => LengthFor(longest, InputMultiple, FixedInputLength, "input");

    /// <summary>The padded target length for a batch whose longest target is <paramref name="longest"/>.</summary>
    public int TargetLengthFor(int longest) => LengthFor(longest, TargetMultiple, FixedTargetLength, "target");

    private static int LengthFor(int longest, int multiple, int? fixedLength, string side)
    {
        if (fixedLength is { } length)
        {
            if (longest > length)
                throw new ArgumentException($"an {side} of {longest} tokens exceeds the fixed {side} length " +
                    $"{length}; truncate examples first (Seq2SeqExample.Truncate)");
            return length;
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(multiple);
        return Math.Max(1, (longest + multiple - 1) / multiple * multiple);
    }
}

/// <summary>
/// A padded batch as row-major host arrays of shape (B, T). <see cref="InputIds"/> is padded with the pad id and
/// <see cref="AttentionMask"/> is true on real tokens. <see cref="Labels"/> holds the target ids with −100 at
/// padding; <see cref="DecoderInputIds"/> is the labels shifted right by one with the pad id as the start token
/// and −100 replaced by the pad id (Hugging Face T5's <c>_shift_right</c>).
/// </summary>
public sealed class Seq2SeqBatch
{
    private Seq2SeqBatch(int batchSize, int inputLength, int targetLength, int padId)
    {
        BatchSize = batchSize;
        InputLength = inputLength;
        TargetLength = targetLength;
        PadId = padId;
        InputIds = new int[batchSize * inputLength];
        AttentionMask = new bool[batchSize * inputLength];
        DecoderInputIds = new int[batchSize * targetLength];
        Labels = new int[batchSize * targetLength];
    }

    /// <summary>Rows in the batch.</summary>
    public int BatchSize { get; }

    /// <summary>Padded encoder length.</summary>
    public int InputLength { get; }

    /// <summary>Padded decoder length.</summary>
    public int TargetLength { get; }

    /// <summary>The pad id used (also the decoder start id).</summary>
    public int PadId { get; }

    /// <summary>Encoder ids, (B, InputLength) row-major.</summary>
    public int[] InputIds { get; }

    /// <summary>True at real encoder tokens, false at padding; (B, InputLength).</summary>
    public bool[] AttentionMask { get; }

    /// <summary>Decoder inputs: labels shifted right, pad first; (B, TargetLength).</summary>
    public int[] DecoderInputIds { get; }

    /// <summary>Target ids, −100 at padding; (B, TargetLength).</summary>
    public int[] Labels { get; }

    /// <summary>Number of label positions that count in the loss (not −100).</summary>
    public int TargetTokenCount
    {
        get
        {
            var count = 0;
            foreach (var id in Labels)
            {
                if (id != TokenConventions.IgnoreIndex)
                    count++;
            }
            return count;
        }
    }

    /// <summary>Pads <paramref name="examples"/> into one batch.</summary>
    /// <exception cref="ArgumentException">No examples, or an example exceeds a fixed length.</exception>
    public static Seq2SeqBatch Collate(IReadOnlyList<Seq2SeqExample> examples, int padId,
        BatchPadding? padding = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
            throw new ArgumentException("a batch needs at least one example", nameof(examples));
        padding ??= new BatchPadding();
        int longestInput = 0, longestTarget = 0;
        foreach (var example in examples)
        {
            longestInput = Math.Max(longestInput, example.InputIds.Length);
            longestTarget = Math.Max(longestTarget, example.TargetIds.Length);
        }
        var batch = new Seq2SeqBatch(examples.Count, padding.InputLengthFor(longestInput),
            padding.TargetLengthFor(longestTarget), padId);
        for (var b = 0; b < examples.Count; b++)
            batch.Fill(b, examples[b]);
        return batch;
    }

    /// <summary>
    /// Writes the decoder inputs for one row of labels: <c>[start] + labels[:-1]</c>, with −100 replaced by
    /// <paramref name="padId"/>.
    /// </summary>
    public static void ShiftRight(ReadOnlySpan<int> labels, Span<int> destination, int decoderStartId, int padId)
    {
        if (destination.Length != labels.Length)
            throw new ArgumentException("destination and labels must have the same length", nameof(destination));
        if (labels.Length == 0)
            return;
        destination[0] = decoderStartId;
        for (var t = 1; t < labels.Length; t++)
        {
            var id = labels[t - 1];
            destination[t] = id == TokenConventions.IgnoreIndex ? padId : id;
        }
    }

    /// <summary>Copies the batch to int32 / bool tensors on <paramref name="device"/> (null: the default).</summary>
    public Seq2SeqBatchTensors ToTensors(Device? device = null)
    {
        var inputShape = new Shape(BatchSize, InputLength);
        var targetShape = new Shape(BatchSize, TargetLength);
        Tensor? inputIds = null, mask = null, decoderInputIds = null;
        try
        {
            inputIds = Tensor.FromArray<int>(InputIds, inputShape, device);
            mask = Tensor.FromArray<bool>(AttentionMask, inputShape, device);
            decoderInputIds = Tensor.FromArray<int>(DecoderInputIds, targetShape, device);
            var labels = Tensor.FromArray<int>(Labels, targetShape, device);
            return new Seq2SeqBatchTensors(inputIds, mask, decoderInputIds, labels);
        }
        catch
        {
            inputIds?.Dispose();
            mask?.Dispose();
            decoderInputIds?.Dispose();
            throw;
        }
    }

    private void Fill(int row, Seq2SeqExample example)
    {
        var input = InputIds.AsSpan(row * InputLength, InputLength);
        var mask = AttentionMask.AsSpan(row * InputLength, InputLength);
        example.InputIds.CopyTo(input);
        input[example.InputIds.Length..].Fill(PadId);
        mask[..example.InputIds.Length].Fill(true);

        var labels = Labels.AsSpan(row * TargetLength, TargetLength);
        example.TargetIds.CopyTo(labels);
        labels[example.TargetIds.Length..].Fill(TokenConventions.IgnoreIndex);
        ShiftRight(labels, DecoderInputIds.AsSpan(row * TargetLength, TargetLength), PadId, PadId);
    }
}

/// <summary>A batch as tensors: ids int32 (B, T), attention mask bool (B, Tin). Disposing frees all four.</summary>
public sealed class Seq2SeqBatchTensors : IDisposable
{
    internal Seq2SeqBatchTensors(Tensor inputIds, Tensor attentionMask, Tensor decoderInputIds, Tensor labels)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        DecoderInputIds = decoderInputIds;
        Labels = labels;
    }

    /// <summary>Encoder ids, int32 (B, Tin).</summary>
    public Tensor InputIds { get; }

    /// <summary>Encoder mask, bool (B, Tin): true at real tokens.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Decoder inputs, int32 (B, Tout).</summary>
    public Tensor DecoderInputIds { get; }

    /// <summary>Labels, int32 (B, Tout), −100 at padding.</summary>
    public Tensor Labels { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        DecoderInputIds.Dispose();
        Labels.Dispose();
    }
}
