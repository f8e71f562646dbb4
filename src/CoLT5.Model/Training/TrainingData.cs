// The trainer's view of data: micro-batch i on demand (so a resumed run seeks by index), plus the two built-in
// sources — the retrieval task's endless example stream and an in-memory dataset reshuffled every epoch.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Training;

/// <summary>A deterministic, seekable stream of training micro-batches.</summary>
public interface ITrainingData
{
    /// <summary>Micro-batch <paramref name="index"/> (0-based); the same index always gives the same batch.</summary>
    Seq2SeqBatch Batch(long index);

    /// <summary>How many leading micro-batches form a warm-up unlike the rest (e.g. shorter documents); 0 when
    /// every batch is alike. Used to report the step time at the data's full size.</summary>
    long WarmupBatches => 0;
}

/// <summary>
/// The built-in retrieval task: batch i holds train-split examples i·B … i·B + B − 1 — of the warm-up stage batch i
/// falls in, if any, else of the task itself.
/// </summary>
public sealed class RetrievalTrainingData : ITrainingData
{
    private readonly KeyValueRetrievalTask task;
    private readonly (long End, KeyValueRetrievalTask Task)[] stages;
    private readonly ITokenizer tokenizer;
    private readonly int batchSize;
    private readonly BatchPadding padding;

    /// <summary>Batches of <paramref name="batchSize"/> examples of <paramref name="task"/>, after the optional
    /// document-length <paramref name="warmup"/>.</summary>
    /// <exception cref="ArgumentException">A warm-up stage is empty or its length does not suit the task.</exception>
    public RetrievalTrainingData(KeyValueRetrievalTask task, ITokenizer tokenizer, int batchSize, BatchPadding padding,
        IReadOnlyList<RetrievalStage>? warmup = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        this.task = task;
        this.tokenizer = tokenizer;
        this.batchSize = batchSize;
        this.padding = padding ?? new BatchPadding();
        stages = StageTasks(task, warmup ?? []);
    }

    /// <inheritdoc/>
    public long WarmupBatches => stages.Length == 0 ? 0 : stages[^1].End;

    /// <inheritdoc/>
    public Seq2SeqBatch Batch(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var first = checked(index * batchSize);
        if (first + batchSize > int.MaxValue)
            throw new InvalidOperationException("the retrieval task's example index exceeds int.MaxValue");
        var source = task;
        foreach (var (end, stageTask) in stages)
        {
            if (index < end)
            {
                source = stageTask;
                break;
            }
        }
        var examples = new Seq2SeqExample[batchSize];
        for (var i = 0; i < batchSize; i++)
            examples[i] = source.Example(RetrievalSplit.Train, (int)first + i).ToSeq2Seq(tokenizer);
        return Seq2SeqBatch.Collate(examples, tokenizer.PadId, padding);
    }

    private static (long End, KeyValueRetrievalTask Task)[] StageTasks(KeyValueRetrievalTask task,
        IReadOnlyList<RetrievalStage> warmup)
    {
        var result = new (long, KeyValueRetrievalTask)[warmup.Count];
        long end = 0;
        for (var s = 0; s < warmup.Count; s++)
        {
            var (batches, length) = warmup[s];
            if (batches <= 0)
                throw new ArgumentException($"retrieval warm-up stage {s} has {batches} batches; it needs at least 1");
            if (length <= 0 || length > task.Options.MaxDocumentLength)
                throw new ArgumentException($"retrieval warm-up stage {s} has documents of {length} characters; " +
                    $"they must lie in [1, {task.Options.MaxDocumentLength}] (the task's longest)");
            end = checked(end + batches);
            var options = task.Options with
            {
                MinDocumentLength = length,
                MaxDocumentLength = length,
                MinDistance = length / 2,
            };
            try
            {
                result[s] = (end, new KeyValueRetrievalTask(task.Seed, options));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"retrieval warm-up stage {s} ({length} characters): {e.Message}", e);
            }
        }
        return result;
    }
}

/// <summary>
/// An in-memory dataset in epochs: epoch e is <see cref="BucketBatcher.Epoch"/> over every example with a generator
/// keyed by (seed, e), so batch i = batch i mod E of epoch i / E, where E is the batches per epoch.
/// </summary>
public sealed class ShuffledTrainingData : ITrainingData
{
    private readonly IReadOnlyList<Seq2SeqExample> examples;
    private readonly BucketBatcher batcher;
    private readonly ulong seed;
    private long cachedEpoch = -1;
    private List<Seq2SeqBatch> cached = [];

    /// <summary>Batches <paramref name="examples"/> (at least one) with <paramref name="batcher"/>.</summary>
    public ShuffledTrainingData(IReadOnlyList<Seq2SeqExample> examples, BucketBatcher batcher, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(batcher);
        if (examples.Count == 0)
            throw new ArgumentException("there are no training examples", nameof(examples));
        this.examples = examples;
        this.batcher = batcher;
        this.seed = seed;
        BatchesPerEpoch = EpochBatches(0).Count;
    }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <inheritdoc/>
    public Seq2SeqBatch Batch(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return EpochBatches(index / BatchesPerEpoch)[(int)(index % BatchesPerEpoch)];
    }

    private List<Seq2SeqBatch> EpochBatches(long epoch)
    {
        if (epoch != cachedEpoch)
        {
            // SplitMix64-style mixing gives every epoch an unrelated Philox key.
            var key = seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1);
            key = (key ^ (key >> 31)) * 0xBF58476D1CE4E5B9UL;
            cached = [.. batcher.Epoch(examples, new Generator(key ^ (key >> 29)))];
            cachedEpoch = epoch;
        }
        return cached;
    }
}

/// <summary>Opens the data a <see cref="TrainingDataSpec"/> describes (byte tokenizer, or the spec's SentencePiece
/// model for JSONL text).</summary>
public static class TrainingData
{
    /// <summary>The tokenizer every built-in source uses.</summary>
    public static ITokenizer Tokenizer { get; } = new ByteTokenizer();

    /// <summary>The tokenizer of <paramref name="spec"/>'s text: its SentencePiece model (T5's 100 sentinels) when
    /// it names one, else the byte tokenizer.</summary>
    /// <exception cref="DataFormatException">The SentencePiece model is missing, changed since the spec recorded
    /// its SHA-256, or malformed.</exception>
    public static ITokenizer TokenizerFor(TrainingDataSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.SentencePieceModel is not { } model)
            return Tokenizer;
        if (!File.Exists(model))
            throw new DataFormatException($"SentencePiece model {model} does not exist");
        if (spec.SentencePieceSha256 is { } sha && Sha256(model) != sha)
            throw new DataFormatException($"SentencePiece model {model} changed since the run recorded it");
        try
        {
            return SentencePieceTokenizer.Load(model, SentencePieceTokenizer.T5SentinelCount);
        }
        catch (SentencePieceFormatException e)
        {
            throw new DataFormatException(e.Message, e);
        }
    }

    /// <summary>The training batches of <paramref name="spec"/>, <paramref name="batchSize"/> examples
    /// each.</summary>
    /// <exception cref="FileNotFoundException">The JSONL file does not exist.</exception>
    /// <exception cref="DataFormatException">A bad line, an over-long example, or no examples.</exception>
    public static ITrainingData Open(TrainingDataSpec spec, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind == TrainingDataKind.Retrieval)
        {
            RequireBytes(spec);
            var task = RetrievalTask(spec);
            return new RetrievalTrainingData(task, Tokenizer, batchSize, spec.Padding, spec.RetrievalWarmup);
        }
        var all = ReadJsonl(RequirePath(spec), spec);
        var count = spec.EvalPath is null ? all.Count - spec.HeldOut : all.Count;
        if (count <= 0)
            throw new DataFormatException($"{spec.Path}: no training examples are left after holding out " +
                $"{spec.HeldOut} of {all.Count} for evaluation");
        var batcher = new BucketBatcher(batchSize, TokenizerFor(spec).PadId, spec.Padding);
        return new ShuffledTrainingData(all.Take(count).ToList(), batcher, spec.Seed);
    }

    /// <summary>The first <paramref name="count"/> held-out examples of <paramref name="spec"/> (fewer when
    /// fewer exist).</summary>
    public static IReadOnlyList<Seq2SeqExample> HeldOut(TrainingDataSpec spec, int count)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (spec.Kind == TrainingDataKind.Retrieval)
        {
            RequireBytes(spec);
            return RetrievalTask(spec).Dataset(RetrievalSplit.HeldOut, count, Tokenizer);
        }
        if (spec.EvalPath is { } evalPath)
            return ReadJsonl(evalPath, spec).Take(count).ToList();
        var all = ReadJsonl(RequirePath(spec), spec);
        var heldOut = Math.Min(spec.HeldOut, all.Count);
        return all.Skip(all.Count - heldOut).Take(count).ToList();
    }

    /// <summary>
    /// Reads and tokenizes a JSONL file with the spec's tokenizer (<see cref="TokenizerFor"/>; EOS appended). An
    /// example longer than the spec's limits is a <see cref="DataFormatException"/> naming its line, unless the spec
    /// truncates.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">A bad line, an over-long example, or no examples at all.</exception>
    public static List<Seq2SeqExample> ReadJsonl(string path, TrainingDataSpec limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (!File.Exists(path))
            throw new FileNotFoundException($"data file {path} does not exist", path);
        var tokenizer = TokenizerFor(limits);
        var examples = new List<Seq2SeqExample>();
        foreach (var record in JsonlSeq2SeqReader.Read(path))
        {
            var input = tokenizer.Encode(record.Input, appendEos: true);
            var target = tokenizer.Encode(record.Target, appendEos: true);
            if (!limits.Truncate)
            {
                CheckLength(path, record.LineNumber, "input", input.Length, limits.MaxInputLength);
                CheckLength(path, record.LineNumber, "target", target.Length, limits.MaxTargetLength);
            }
            examples.Add(new Seq2SeqExample(input, target)
                .Truncate(limits.MaxInputLength, limits.MaxTargetLength, tokenizer.EosId));
        }
        if (examples.Count == 0)
            throw new DataFormatException($"{path}: no examples (the file is empty or holds only blank lines)");
        return examples;
    }

    // The built-in task builds its examples from byte ids.
    private static void RequireBytes(TrainingDataSpec spec)
    {
        if (spec.SentencePieceModel is not null)
            throw new DataFormatException("the built-in retrieval task is byte-tokenized; a SentencePiece model " +
                "needs JSONL data");
    }

    /// <summary>SHA-256 of a file as lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void CheckLength(string path, long line, string side, int length, int limit)
    {
        if (length > limit)
            throw new DataFormatException(path, line, $"the {side} is {length} tokens with EOS, longer than the " +
                $"limit of {limit} (raise the max {side} length or truncate)");
    }

    private static KeyValueRetrievalTask RetrievalTask(TrainingDataSpec spec)
    {
        var task = new KeyValueRetrievalTask(spec.Seed, spec.Retrieval);
        if (task.Options.MaxInputTokens > spec.MaxInputLength || task.Options.TargetTokens > spec.MaxTargetLength)
            throw new ArgumentException($"the retrieval task's inputs reach {task.Options.MaxInputTokens} tokens " +
                $"and targets {task.Options.TargetTokens}, over the limits {spec.MaxInputLength} / " +
                $"{spec.MaxTargetLength}");
        return task;
    }

    private static string RequirePath(TrainingDataSpec spec) =>
        spec.Path ?? throw new ArgumentException("a JSONL data spec needs a path", nameof(spec));
}
