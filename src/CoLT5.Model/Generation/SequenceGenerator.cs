// Greedy decoding and beam search over a Seq2SeqModel, with the encoder run once, cross keys/values projected once,
// and a self-attention key/value cache. Follows Hugging Face generate() (transformers 4.36) step for step so that
// imported checkpoints produce identical sequences.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CoLT5.Tensors;

namespace CoLT5.Model.Generation;

/// <summary>Autoregressive decoding.</summary>
public static class SequenceGenerator
{
    /// <summary>Decodes every input row (ids (B, n) int32, mask B·n) greedily or with beams.</summary>
    /// <param name="model">The model (put in evaluation mode for the call, then restored).</param>
    /// <param name="inputIds">(B, n) int32 input ids.</param>
    /// <param name="mask">B·n padding mask, true = real token.</param>
    /// <param name="options">Length, beams and returned sequences.</param>
    /// <param name="cancellationToken">Checked before the encoder and before every decoding step.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static GenerationResult Generate(Seq2SeqModel model, Tensor inputIds, bool[] mask, GenerationOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxNewTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "max_new_tokens must be at least 1");
        if (options.NumBeams < 1 || options.NumReturnSequences < 1 || options.NumReturnSequences > options.NumBeams)
            throw new ArgumentOutOfRangeException(nameof(options), "need 1 ≤ num_return_sequences ≤ num_beams");
        cancellationToken.ThrowIfCancellationRequested();
        using var noGrad = Tensor.NoGrad();
        var wasTraining = model.Training;
        model.Eval();
        try
        {
            return options.NumBeams == 1 && options.NumReturnSequences == 1
                ? Greedy(model, inputIds, mask, options, cancellationToken)
                : BeamSearch.Run(model, inputIds, mask, options, cancellationToken);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private static GenerationResult Greedy(Seq2SeqModel model, Tensor inputIds, bool[] mask, GenerationOptions options,
        CancellationToken cancellationToken)
    {
        var config = model.Config;
        var batch = inputIds.Shape[0];
        using var encoded = model.Encode(inputIds, mask);
        using var state = model.StartDecoding(encoded, mask);
        var sequences = Enumerable.Range(0, batch).Select(_ => new List<int> { config.DecoderStartTokenId }).ToArray();
        var finished = new bool[batch];
        var steps = new List<double[][]>();
        var next = Enumerable.Repeat(config.DecoderStartTokenId, batch).ToArray();
        for (var step = 0; step < options.MaxNewTokens && !finished.All(f => f); step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var ids = Tensor.FromArray<int>(next, new Shape(batch, 1), inputIds.Device);
            using var logits = model.DecodeLogits(ids, state);                 // (B, 1, V)
            var values = logits.ToDoubleArray();
            var vocab = logits.Shape[2];
            var rows = new double[batch][];
            for (var b = 0; b < batch; b++)
            {
                rows[b] = values.AsSpan(b * vocab, vocab).ToArray();
                // finished rows keep receiving pad (their logits are still reported, as Hugging Face does)
                var token = finished[b] ? config.PadTokenId : ArgMax(rows[b]);
                sequences[b].Add(token);
                next[b] = token;
                finished[b] |= token == config.EosTokenId;
            }
            steps.Add(rows);
        }
        return new GenerationResult(sequences.Select(s => s.ToArray()).ToArray(), null, [.. steps]);
    }

    /// <summary>Index of the first maximum.</summary>
    public static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
