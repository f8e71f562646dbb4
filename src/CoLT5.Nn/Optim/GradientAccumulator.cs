// Gradient accumulation: K micro-batches back-propagate into the same .Grad tensors, then one optimizer step on
// their average (optionally clipped) — the same update as one batch K times as large with a mean loss.
using System;
using CoLT5.Tensors;

namespace CoLT5.Nn.Optim;

/// <summary>
/// Turns K micro-batch backward passes into one optimizer step. Each micro-batch's loss is its own mean (do not
/// divide it by K); <c>Backward</c> adds its gradient into <see cref="Tensor.Grad"/>. After the K-th call to
/// <see cref="MicroStep"/> the accumulator multiplies the summed gradients by 1/K, clips their global norm when
/// <see cref="MaxGradNorm"/> is set, steps the optimizer and clears the gradients. With equal micro-batch sizes
/// the update equals that of one batch of K× the size.
/// <code>
/// var acc = new GradientAccumulator(optimizer, microBatches: 4, maxGradNorm: 1.0);
/// foreach (var micro in batches) { using var loss = Loss(micro); loss.Backward(); acc.MicroStep(); }
/// acc.Flush(); // a trailing partial group, if any
/// </code>
/// </summary>
public sealed class GradientAccumulator
{
    /// <summary>Accumulates <paramref name="microBatches"/> backward passes per step of
    /// <paramref name="optimizer"/>, clipping the averaged gradient at <paramref name="maxGradNorm"/> when
    /// given.</summary>
    public GradientAccumulator(IOptimizer optimizer, int microBatches, double? maxGradNorm = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        if (maxGradNorm is < 0)
            throw new ArgumentOutOfRangeException(nameof(maxGradNorm), maxGradNorm, "must be non-negative");
        Optimizer = optimizer;
        MicroBatches = microBatches;
        MaxGradNorm = maxGradNorm;
    }

    /// <summary>The optimizer stepped every <see cref="MicroBatches"/> micro-batches.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>K, the micro-batches per optimizer step.</summary>
    public int MicroBatches { get; }

    /// <summary>The global-norm clipping threshold applied to the averaged gradient; null for none.</summary>
    public double? MaxGradNorm { get; }

    /// <summary>Micro-batches back-propagated since the last step.</summary>
    public int Pending { get; private set; }

    /// <summary>The global gradient norm (of the average, before clipping) at the last step; measured only when
    /// clipping, else null.</summary>
    public double? LastGradNorm { get; private set; }

    /// <summary>Records one finished micro-batch backward; on the K-th, steps the optimizer.</summary>
    /// <returns>True when this call stepped the optimizer.</returns>
    public bool MicroStep()
    {
        Pending++;
        if (Pending < MicroBatches)
            return false;
        StepNow();
        return true;
    }

    /// <summary>Steps on a trailing partial group (averaging over the micro-batches it holds), if any.</summary>
    /// <returns>True when there was something to step on.</returns>
    public bool Flush()
    {
        if (Pending == 0)
            return false;
        StepNow();
        return true;
    }

    private void StepNow()
    {
        if (Pending > 1)
        {
            using (Tensor.NoGrad())
            {
                foreach (var (_, p) in Optimizer.Parameters)
                    p.Grad?.AffineInPlace(1.0 / Pending);
            }
        }
        if (MaxGradNorm is { } max)
            LastGradNorm = GradientClipping.ClipGradNorm(Optimizer.Parameters, max);
        Optimizer.Step();
        Optimizer.ZeroGrad();
        Pending = 0;
    }
}
