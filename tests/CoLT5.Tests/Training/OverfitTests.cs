// A tiny model drives the loss on one fixed batch below 0.05 within a bounded number of steps, for CoLT5, the T5
// baseline and the attention-free FNet and Sparse Mixer encoders: the forward, backward, clipping and optimizer steps
// fit together.
using System.Linq;
using CoLT5.Model.Data;
using CoLT5.Model.Training;
using Xunit;

namespace CoLT5.Tests.Training;

public sealed class OverfitTests
{
    /// <summary>Always the same batch.</summary>
    private sealed class FixedBatch(Seq2SeqBatch batch) : ITrainingData
    {
        public Seq2SeqBatch Batch(long index) => batch;
    }

    [Theory]
    [InlineData("colt5")]
    [InlineData("t5")]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void TinyModelOverfitsATinyBatch(string encoder)
    {
        var task = new KeyValueRetrievalTask(3, TrainingTestKit.MiniRetrieval().Retrieval);
        var examples = task.Dataset(RetrievalSplit.Train, 4, TrainingData.Tokenizer);
        var batch = Seq2SeqBatch.Collate(examples, 0, new BatchPadding(8, 4));
        var options = new TrainingOptions
        {
            Optimizer = OptimizerKind.AdamW,
            LearningRate = 1e-2,
            MaxSteps = 300,
            BatchSize = 4,
            ClipNorm = 1.0,
            EvalSize = 0,
            Seed = 5,
        };
        // Sparse Mixer's sequence kernel covers the batch's padded length
        var width = batch.AttentionMask.Length / examples.Count;
        using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(encoder) with
        {
            DModel = 32,
            DKv = 8,
            MixingLength = width,
        }, options, new FixedBatch(batch));
        var losses = Enumerable.Range(0, (int)options.MaxSteps).Select(_ => trainer.TrainStep().Loss)
            .TakeWhile(loss => loss >= 0.05).ToList();
        Assert.True(losses.Count < options.MaxSteps, $"loss still {losses[^1]:F4} after {losses.Count} steps");
    }
}
