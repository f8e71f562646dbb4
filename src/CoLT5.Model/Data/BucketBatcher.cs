// Length-bucketed batching: shuffle, sort by length inside windows of many batches, cut into batches and shuffle
// the batch order. Deterministic for a given Generator state; every random draw comes from that Generator.
using System;
using System.Collections.Generic;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>
/// Groups examples of similar length so padding stays small. Examples are shuffled, taken in windows of
/// <c>batchSize × windowBatches</c>, sorted inside each window by (input length, target length, shuffled
/// position), cut into batches, and the batches of a window are yielded in shuffled order. Each batch is padded
/// per <see cref="BatchPadding"/>. The same examples and Generator seed always give the same batches.
/// </summary>
public sealed class BucketBatcher
{
    /// <summary>Creates a batcher.</summary>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="padId">Pad id of the tokenizer.</param>
    /// <param name="padding">Length rule for each batch (default: inputs to a multiple of 128, targets of 8).</param>
    /// <param name="windowBatches">Batches per sorting window; 1 disables bucketing beyond a single batch.</param>
    /// <param name="dropLast">Drop a final batch smaller than <paramref name="batchSize"/>.</param>
    public BucketBatcher(int batchSize, int padId, BatchPadding? padding = null, int windowBatches = 64,
        bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowBatches);
        BatchSize = batchSize;
        PadId = padId;
        Padding = padding ?? new BatchPadding();
        WindowBatches = windowBatches;
        DropLast = dropLast;
    }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The pad id written into padded positions.</summary>
    public int PadId { get; }

    /// <summary>How each batch's lengths are chosen.</summary>
    public BatchPadding Padding { get; }

    /// <summary>Batches per sorting window.</summary>
    public int WindowBatches { get; }

    /// <summary>Whether a final short batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>One epoch over an in-memory dataset: a full shuffle first, then windows as described above.</summary>
    public IEnumerable<Seq2SeqBatch> Epoch(IReadOnlyList<Seq2SeqExample> examples, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(rng);
        return EpochIterator(examples, rng);
    }

    /// <summary>Batches a stream (e.g. a UL2 generator or a file) window by window, reading one window ahead.</summary>
    public IEnumerable<Seq2SeqBatch> Stream(IEnumerable<Seq2SeqExample> examples, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(rng);
        return StreamIterator(examples, rng);
    }

    /// <summary>A uniformly random permutation of 0..n−1 (Fisher–Yates with <paramref name="rng"/>).</summary>
    public static int[] Permutation(int n, Generator rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentNullException.ThrowIfNull(rng);
        var order = new int[n];
        for (var i = 0; i < n; i++)
            order[i] = i;
        Shuffle(order, rng);
        return order;
    }

    private IEnumerable<Seq2SeqBatch> EpochIterator(IReadOnlyList<Seq2SeqExample> examples, Generator rng)
    {
        var order = Permutation(examples.Count, rng);
        var size = WindowSize(examples.Count);
        var window = new List<Seq2SeqExample>(size);
        for (var i = 0; i < order.Length; i++)
        {
            window.Add(examples[order[i]]);
            if (window.Count == size || i == order.Length - 1)
            {
                foreach (var batch in Window(window, rng, shuffleFirst: false))
                    yield return batch;
                window.Clear();
            }
        }
    }

    private IEnumerable<Seq2SeqBatch> StreamIterator(IEnumerable<Seq2SeqExample> examples, Generator rng)
    {
        var size = WindowSize(int.MaxValue);
        var window = new List<Seq2SeqExample>(size);
        foreach (var example in examples)
        {
            window.Add(example);
            if (window.Count < size)
                continue;
            foreach (var batch in Window(window, rng, shuffleFirst: true))
                yield return batch;
            window.Clear();
        }
        foreach (var batch in Window(window, rng, shuffleFirst: true))
            yield return batch;
    }

    private int WindowSize(int available) =>
        (int)Math.Max(1, Math.Min((long)BatchSize * WindowBatches, available));

    private List<Seq2SeqBatch> Window(List<Seq2SeqExample> window, Generator rng, bool shuffleFirst)
    {
        var batches = new List<Seq2SeqBatch>();
        if (window.Count == 0)
            return batches;
        var order = shuffleFirst ? Permutation(window.Count, rng) : Identity(window.Count);
        var keys = new (int Input, int Target, int Position)[window.Count];
        for (var i = 0; i < order.Length; i++)
        {
            var example = window[order[i]];
            keys[i] = (example.InputIds.Length, example.TargetIds.Length, i);
        }
        // Keys are distinct (position breaks ties), so the sorted order is fully determined.
        Array.Sort(keys, order);
        for (var start = 0; start < order.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, order.Length - start);
            if (count < BatchSize && DropLast)
                break;
            var members = new Seq2SeqExample[count];
            for (var j = 0; j < count; j++)
                members[j] = window[order[start + j]];
            batches.Add(Seq2SeqBatch.Collate(members, PadId, Padding));
        }
        Shuffle(batches, rng);
        return batches;
    }

    private static int[] Identity(int n)
    {
        var order = new int[n];
        for (var i = 0; i < n; i++)
            order[i] = i;
        return order;
    }

    private static void Shuffle<T>(IList<T> items, Generator rng)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
