// Generation honours its cancellation token (checked before the encoder and before every decoding step): a cancelled
// token stops greedy and beam search with an OperationCanceledException and leaves the model's mode as it was.
using System;
using System.Threading;
using CoLT5.Model;
using CoLT5.Model.Generation;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class GenerationCancellationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ACancelledTokenStopsGeneration(int beams)
    {
        using var model = Seq2SeqModel.Create(ModelTestKit.Micro("colt5"), seed: 1);
        var (ids, mask) = ModelTestKit.Inputs(2, 9, model.Config.VocabSize, 4);
        var options = new GenerationOptions { MaxNewTokens = 5, NumBeams = beams };
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            SequenceGenerator.Generate(model, ids, mask, options, cancelled.Token));
        Assert.True(model.Training, "the model's mode is restored");
        var result = SequenceGenerator.Generate(model, ids, mask, options, TestContext.Current.CancellationToken);
        Assert.Equal(2, result.Sequences.Length);
    }
}
