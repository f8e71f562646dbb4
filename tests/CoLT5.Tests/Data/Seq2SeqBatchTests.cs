// Collation against Hugging Face T5's conventions (shift-right, −100 labels), tensors, truncation and bucketing.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class Seq2SeqBatchTests
{
    private static readonly Seq2SeqExample[] HandExamples =
    [
        new([10, 11, 12, 1], [20, 21, 1]),
        new([13, 1], [22, 1]),
    ];

    [Fact]
    public void HandExampleMatchesHuggingFaceT5()
    {
        // HF: labels padded with −100; decoder_input_ids = _shift_right(labels) = [0] + labels[:-1], −100 → pad
        var batch = Seq2SeqBatch.Collate(HandExamples, padId: 0, BatchPadding.Longest);
        Assert.Equal((2, 4, 3), (batch.BatchSize, batch.InputLength, batch.TargetLength));
        Assert.Equal([10, 11, 12, 1, 13, 1, 0, 0], batch.InputIds);
        Assert.Equal([true, true, true, true, true, true, false, false], batch.AttentionMask);
        Assert.Equal([20, 21, 1, 22, 1, -100], batch.Labels);
        Assert.Equal([0, 20, 21, 0, 22, 1], batch.DecoderInputIds);
        Assert.Equal(5, batch.TargetTokenCount);
    }

    [Fact]
    public void ShiftRightReplacesIgnoreIndexWithPad()
    {
        var decoder = new int[5];
        Seq2SeqBatch.ShiftRight([7, 8, 1, -100, -100], decoder, decoderStartId: 0, padId: 0);
        Assert.Equal([0, 7, 8, 1, 0], decoder);
        Seq2SeqBatch.ShiftRight([-100, 5, 6], decoder.AsSpan(0, 3), decoderStartId: 2, padId: 9);
        Assert.Equal([2, 9, 5], decoder[..3]);
    }

    [Fact]
    public void PaddingRoundsUpToMultiplesOrUsesFixedLengths()
    {
        var example = new Seq2SeqExample([.. Enumerable.Range(3, 130), 1], [5, 6, 1]);
        var rounded = Seq2SeqBatch.Collate([example], 0, new BatchPadding());
        Assert.Equal((256, 8), (rounded.InputLength, rounded.TargetLength));
        Assert.Equal(131, rounded.AttentionMask.Count(m => m));
        Assert.Equal([5, 6, 1, -100, -100, -100, -100, -100], rounded.Labels);
        var fixedBatch = Seq2SeqBatch.Collate([example], 0, BatchPadding.Fixed(200, 4));
        Assert.Equal((200, 4), (fixedBatch.InputLength, fixedBatch.TargetLength));
        var error = Assert.Throws<ArgumentException>(
            () => Seq2SeqBatch.Collate([example], 0, BatchPadding.Fixed(100, 4)));
        Assert.Contains("fixed input length 100", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Seq2SeqBatch.Collate([], 0));
    }

    [Fact]
    public void TensorsHaveTheRightShapesDtypesAndValues()
    {
        var batch = Seq2SeqBatch.Collate(HandExamples, padId: 0, BatchPadding.Longest);
        using var tensors = batch.ToTensors(Device.Cpu);
        Assert.Equal(new Shape(2, 4), tensors.InputIds.Shape);
        Assert.Equal(new Shape(2, 4), tensors.AttentionMask.Shape);
        Assert.Equal(new Shape(2, 3), tensors.DecoderInputIds.Shape);
        Assert.Equal(new Shape(2, 3), tensors.Labels.Shape);
        Assert.Equal(DType.Int32, tensors.InputIds.DType);
        Assert.Equal(DType.Bool, tensors.AttentionMask.DType);
        Assert.Equal(DType.Int32, tensors.Labels.DType);
        Assert.Equal(batch.InputIds, tensors.InputIds.ToArray<int>());
        Assert.Equal(batch.AttentionMask, tensors.AttentionMask.ToArray<bool>());
        Assert.Equal(batch.DecoderInputIds, tensors.DecoderInputIds.ToArray<int>());
        Assert.Equal(batch.Labels, tensors.Labels.ToArray<int>());
    }

    [Fact]
    public void TruncationKeepsEosLast()
    {
        var tok = new ByteTokenizer();
        var example = Seq2SeqExample.FromText(tok, "abcdef", "xyz", maxInputLength: 4, maxTargetLength: 10);
        Assert.Equal(tok.Encode("abc", appendEos: true), example.InputIds);
        Assert.Equal(tok.Encode("xyz", appendEos: true), example.TargetIds);
        var cut = example.Truncate(maxInputLength: 2, maxTargetLength: 3, tok.EosId);
        Assert.Equal(tok.Encode("a", appendEos: true), cut.InputIds);
        Assert.Equal(tok.Encode("xy", appendEos: true), cut.TargetIds);
        Assert.Same(example, example.Truncate(4, 4, tok.EosId));
        Assert.Equal([1], Seq2SeqExample.TruncateWithEos([5, 6], 1, 1));
    }

    private static List<Seq2SeqExample> VariedExamples(int count, ulong seed)
    {
        var rng = new Generator(seed);
        return [.. Enumerable.Range(0, count).Select(i => new Seq2SeqExample(
            [.. Enumerable.Repeat(100 + i % 50, 1 + rng.NextInt(600)), 1],
            [.. Enumerable.Repeat(7, 1 + rng.NextInt(30)), 1]))];
    }

    [Fact]
    public void BucketingIsDeterministicAndCoversEveryExampleOnce()
    {
        var examples = VariedExamples(1000, 5);
        var batcher = new BucketBatcher(batchSize: 16, padId: 0, windowBatches: 8);
        var first = batcher.Epoch(examples, new Generator(42)).ToList();
        var again = batcher.Epoch(examples, new Generator(42)).ToList();
        var other = batcher.Epoch(examples, new Generator(43)).ToList();
        Assert.Equal(first.Select(b => b.InputIds), again.Select(b => b.InputIds));
        Assert.NotEqual(first.Select(b => b.InputIds.Length), other.Select(b => b.InputIds.Length));
        Assert.Equal(63, first.Count);                                    // 62 full batches and one of 8
        Assert.Equal(1000, first.Sum(b => b.BatchSize));
        Assert.All(first, b => Assert.Equal(0, b.InputLength % 128));
        Assert.All(first, b => Assert.Equal(0, b.TargetLength % 8));
        // every example appears exactly once: compare the multiset of (input length, target length) pairs
        var seen = first.SelectMany(Rows).OrderBy(x => x).ToList();
        var expected = examples.Select(e => (e.InputIds.Length, e.TargetIds.Length)).OrderBy(x => x).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal(62, batcher.Epoch(examples, new Generator(1)).Count(b => b.BatchSize == 16));
        var dropping = new BucketBatcher(16, 0, windowBatches: 8, dropLast: true);
        Assert.All(dropping.Epoch(examples, new Generator(42)), b => Assert.Equal(16, b.BatchSize));
    }

    [Fact]
    public void BucketingReducesPadding()
    {
        var examples = VariedExamples(2048, 9);
        static long Padding(IEnumerable<Seq2SeqBatch> batches) =>
            batches.Sum(b => (long)b.AttentionMask.Count(m => !m));
        var bucketed = Padding(new BucketBatcher(16, 0, BatchPadding.Longest, windowBatches: 32)
            .Epoch(examples, new Generator(3)));
        var unsorted = Padding(new BucketBatcher(16, 0, BatchPadding.Longest, windowBatches: 1)
            .Epoch(examples, new Generator(3)));
        Assert.True(bucketed * 5 < unsorted, $"bucketed padding {bucketed} vs unsorted {unsorted}");
    }

    [Fact]
    public void StreamBatchingMatchesItselfAndKeepsAllExamples()
    {
        var examples = VariedExamples(300, 11);
        var batcher = new BucketBatcher(8, 0, windowBatches: 4);
        var a = batcher.Stream(examples, new Generator(5)).ToList();
        var b = batcher.Stream(examples, new Generator(5)).ToList();
        Assert.Equal(a.Select(x => x.Labels), b.Select(x => x.Labels));
        Assert.Equal(300, a.Sum(x => x.BatchSize));
        Assert.Equal(
            examples.Select(e => (e.InputIds.Length, e.TargetIds.Length)).OrderBy(x => x),
            a.SelectMany(Rows).OrderBy(x => x));
    }

    [Fact]
    public void PermutationIsAPermutation()
    {
        var p = BucketBatcher.Permutation(1000, new Generator(1));
        Assert.Equal(Enumerable.Range(0, 1000), p.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), p);
    }

    private static IEnumerable<(int, int)> Rows(Seq2SeqBatch batch)
    {
        for (var r = 0; r < batch.BatchSize; r++)
        {
            var input = batch.AttentionMask.AsSpan(r * batch.InputLength, batch.InputLength).Count(true);
            var target = batch.Labels.AsSpan(r * batch.TargetLength, batch.TargetLength).Count(-100);
            yield return (input, batch.TargetLength - target);
        }
    }
}
