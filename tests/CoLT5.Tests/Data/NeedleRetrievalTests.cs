// The retrieval task's filler ("needle") layout and the training data's document-length warm-up: records hidden
// in filler text stay unambiguous and far from the question, and warm-up batches follow their stages exactly.
using System;
using System.Linq;
using System.Text.RegularExpressions;
using CoLT5.Model.Data;
using CoLT5.Model.Training;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class NeedleRetrievalTests
{
    private static readonly KeyValueRetrievalOptions Needles = BuiltInTask.Defaults.Task with { RecordCount = 4 };

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void RecordsHideInFillerFarBeforeTheQuestion(int recordCount)
    {
        var o = Needles with { RecordCount = recordCount };
        var task = new KeyValueRetrievalTask(99, o);
        var record = new Regex(@"\[([0-9]{4})=([A-Z]{3})\]");
        foreach (var ex in task.Examples(RetrievalSplit.HeldOut).Take(60))
        {
            var document = ex.Input[..ex.QuestionStart];
            Assert.InRange(document.Length, o.MinDocumentLength, o.MaxDocumentLength);
            Assert.Equal("?[" + ex.Key, ex.Input[ex.QuestionStart..]);
            var records = record.Matches(document);
            Assert.Equal(recordCount, records.Count);
            Assert.Equal(recordCount, records.Select(m => m.Groups[1].Value).Distinct().Count());
            // outside the records there is only filler
            var rest = record.Replace(document, "");
            Assert.Equal(document.Length - recordCount * o.RecordLength, rest.Length);
            Assert.Matches("^[a-z ]*$", rest);
            // the queried record is where the example says, and far from the question
            Assert.Equal($"[{ex.Key}={ex.Target}]", document.Substring(ex.RecordStart, o.RecordLength));
            Assert.Equal(document.Length - ex.RecordStart - o.RecordLength, ex.Distance);
            Assert.True(ex.Distance >= o.MinDistance, $"distance {ex.Distance} < {o.MinDistance}");
        }
    }

    [Fact]
    public void FillerMustNotLookLikeARecord()
    {
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, Needles with { FillerAlphabet = "ab=" }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, Needles with { FillerAlphabet = "aA" }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, Needles with { FillerAlphabet = "aa" }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, Needles with { RecordCount = 0 }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, Needles with { RecordCount = 100_000 }));
    }

    [Fact]
    public void WarmupBatchesFollowTheirStagesThenTheTask()
    {
        var spec = TrainingDataSpec.ForRetrieval(5, BuiltInTask.Defaults.Task) with
        {
            RetrievalWarmup = [new(2, 64), new(1, 256)],
        };
        var data = TrainingData.Open(spec, batchSize: 3);
        int[] DocumentLengths(long batch)
        {
            var b = data.Batch(batch);
            // each input is document + question (6) + EOS
            return Enumerable.Range(0, 3).Select(i => b.InputIds.AsSpan(i * b.InputLength, b.InputLength)
                .ToArray().Count(id => id != 0) - 7).ToArray();
        }
        Assert.All(DocumentLengths(0), n => Assert.Equal(64, n));
        Assert.All(DocumentLengths(1), n => Assert.Equal(64, n));
        Assert.All(DocumentLengths(2), n => Assert.Equal(256, n));
        Assert.All(DocumentLengths(3), n => Assert.InRange(n, 2048, 4000));
        // deterministic: the same batch index gives the same batch
        Assert.Equal(data.Batch(1).InputIds, TrainingData.Open(spec, 3).Batch(1).InputIds);
    }

    [Fact]
    public void BuiltInWarmupSpansTheSameStepsWhateverTheAccumulation()
    {
        var task = BuiltInTask.Defaults.Task;
        var one = BuiltInTask.WarmupFor(task);
        var four = BuiltInTask.WarmupFor(task, gradientAccumulation: 4);
        Assert.Equal(BuiltInTask.Defaults.Warmup, one);
        Assert.Equal(one.Select(s => s.Batches * 4), four.Select(s => s.Batches));
        Assert.Equal(one.Select(s => s.DocumentLength), four.Select(s => s.DocumentLength));
        // a shorter task keeps only the stages shorter than its shortest document
        Assert.All(BuiltInTask.WarmupFor(BuiltInTask.ScaledTask(512)), s => Assert.True(s.DocumentLength < 256));
    }

    [Fact]
    public void WarmupStagesAreValidated()
    {
        var spec = TrainingDataSpec.ForRetrieval(5, BuiltInTask.Defaults.Task);
        Assert.Throws<ArgumentException>(() => TrainingData.Open(spec with { RetrievalWarmup = [new(0, 64)] }, 2));
        Assert.Throws<ArgumentException>(() => TrainingData.Open(spec with { RetrievalWarmup = [new(5, 9000)] }, 2));
        // too short for a record 64/2 characters before the question
        Assert.Throws<ArgumentException>(() => TrainingData.Open(spec with { RetrievalWarmup = [new(5, 12)] }, 2));
    }
}
