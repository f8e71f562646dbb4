// Held-out evaluation: teacher-forced loss (token-weighted) and greedy exact match, in evaluation mode without
// gradients; the model's training/evaluation mode is restored afterwards and no random stream is touched.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using CoLT5.Model.Data;
using CoLT5.Model.Generation;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Model.Training;

/// <summary>Loss and exact-match accuracy of a model on examples.</summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates <paramref name="examples"/> in order, <paramref name="batchSize"/> at a time. A prediction is correct
    /// when the greedy output up to EOS equals the target up to EOS (token ids; what
    /// <see cref="Seq2SeqMetrics.ExactMatch(ReadOnlySpan{int}, ReadOnlySpan{int}, Tokenization.ITokenizer)"/> decides
    /// for byte tokens). Generation runs for as many tokens as the batch's longest target.
    /// </summary>
    /// <returns>The result, or null when <paramref name="cancellationToken"/> stopped it between batches.</returns>
    public static EvaluationResult? Evaluate(Seq2SeqModel model, IReadOnlyList<Seq2SeqExample> examples,
        int batchSize, BatchPadding? padding = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var clock = Stopwatch.StartNew();
        var wasTraining = model.Training;
        double lossSum = 0;
        long tokens = 0;
        var correct = 0;
        model.Eval();
        try
        {
            using var noGrad = Tensor.NoGrad();
            for (var start = 0; start < examples.Count; start += batchSize)
            {
                if (cancellationToken.IsCancellationRequested)
                    return null;
                var count = Math.Min(batchSize, examples.Count - start);
                var members = new Seq2SeqExample[count];
                var longestTarget = 1;
                for (var i = 0; i < count; i++)
                {
                    members[i] = examples[start + i];
                    longestTarget = Math.Max(longestTarget, members[i].TargetIds.Length);
                }
                using var scope = DisposeScope.Enter();
                var batch = Seq2SeqBatch.Collate(members, model.Config.PadTokenId, padding);
                using var t = batch.ToTensors(model.Parameters.Device);
                var targetTokens = batch.TargetTokenCount;
                if (targetTokens > 0)
                {
                    using var output = model.Forward(t.InputIds, batch.AttentionMask, t.DecoderInputIds, t.Labels);
                    lossSum += output.Loss!.Item() * targetTokens;
                    tokens += targetTokens;
                }
                var generated = SequenceGenerator.Generate(model, t.InputIds, batch.AttentionMask,
                    new GenerationOptions { MaxNewTokens = longestTarget }, CancellationToken.None);   // cancelled between batches
                for (var i = 0; i < count; i++)
                {
                    if (SameAnswer(generated.Sequences[i].AsSpan(1), members[i].TargetIds, model.Config.EosTokenId))
                        correct++;
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return new EvaluationResult(examples.Count, tokens == 0 ? double.NaN : lossSum / tokens, correct,
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>True when both sequences agree up to their first <paramref name="eosId"/> (or end).</summary>
    public static bool SameAnswer(ReadOnlySpan<int> predicted, ReadOnlySpan<int> target, int eosId) =>
        UpToEos(predicted, eosId).SequenceEqual(UpToEos(target, eosId));

    private static ReadOnlySpan<int> UpToEos(ReadOnlySpan<int> ids, int eosId)
    {
        var end = ids.IndexOf(eosId);
        return end < 0 ? ids : ids[..end];
    }
}
