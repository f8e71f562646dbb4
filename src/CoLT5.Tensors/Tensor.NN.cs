// Fused neural-network ops: softmax / log-softmax, T5 RMSNorm, cross-entropy with ignore index and z-loss, dropout.
using System;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>Softmax along <paramref name="axis"/> (fused and max-shifted; -inf entries get 0).</summary>
    public Tensor Softmax(int axis = -1) => SoftmaxCore(axis, log: false);

    /// <summary>Log-softmax along <paramref name="axis"/> (fused and max-shifted).</summary>
    public Tensor LogSoftmax(int axis = -1) => SoftmaxCore(axis, log: true);

    /// <summary>Softmax of (this + additive mask) along the last axis; the mask broadcasts and may hold -inf
    /// (a row must keep at least one finite entry).</summary>
    public Tensor Softmax(Tensor additiveMask)
    {
        using var masked = this + additiveMask;
        return masked.Softmax();
    }

    private Tensor SoftmaxCore(int axis, bool log)
    {
        var name = log ? "log_softmax" : "softmax";
        RequireFloat(name);
        var a = Shape.NormalizeAxis(axis, name);
        if (a != Rank - 1)
        {
            using var moved = Transpose(a, -1);
            using var result = moved.SoftmaxCore(-1, log);
            return result.Transpose(a, -1);
        }
        using var x = IsContiguous ? Alias() : ContiguousCopy();
        var y = Empty(Backend, Shape, DType);
        Backend.Softmax(x.View, y.View, log);
        return Recording(this) ? y.Attach(new SoftmaxBackward(this, y, log)) : y;
    }

    private sealed class SoftmaxBackward : GradFn
    {
        private readonly Tensor y;
        private readonly bool log;

        public SoftmaxBackward(Tensor x, Tensor y, bool log) : base(x)
        {
            this.y = Save(y);
            this.log = log;
        }

        public override string Name => log ? "log_softmax_backward" : "softmax_backward";

        public override Tensor?[] Backward(Tensor grad)
        {
            using var dy = grad.IsContiguous ? grad.Alias() : grad.ContiguousCopy();
            var dx = Empty(grad.Backend, grad.Shape, grad.DType);
            grad.Backend.SoftmaxBackward(y.View, dy.View, dx.View, log);
            return [dx];
        }
    }

    /// <summary>
    /// T5 RMSNorm over the last axis: y = weight · x / √(mean(x²) + eps), no centering and no bias.
    /// weight: (D) for x (..., D).
    /// </summary>
    public Tensor RmsNorm(Tensor weight, double eps = 1e-6)
    {
        const string name = "rms_norm";
        RequireFloat(name);
        SameBackend(name, this, weight);
        SameDType(name, this, weight);
        if (weight.Rank != 1 || Rank == 0 || weight.Shape[0] != Shape[^1])
            throw new ShapeMismatchException(name, Shape, weight.Shape,
                "the weight must be 1-D with the size of the last dimension");
        var rows = checked((int)(NumElements / Math.Max(1, Shape[^1])));
        using var x = IsContiguous ? Alias() : ContiguousCopy();
        using var w = weight.IsContiguous ? weight.Alias() : weight.ContiguousCopy();
        var y = Empty(Backend, Shape, DType);
        using var rstd = Empty(Backend, new Shape(rows), DType);
        var d = Shape[^1];
        Backend.RmsNorm(Flat(x.View, rows, d), w.View, Flat(y.View, rows, d), rstd.View, eps);
        return Recording(this, weight) ? y.Attach(new RmsNormBackward(x, w, rstd, this, weight)) : y;
    }

    private static TensorView Flat(TensorView v, int rows, int cols) =>
        new(v.Buffer, new Shape(rows, cols), [cols, 1], v.Offset);

    private sealed class RmsNormBackward : GradFn
    {
        private readonly Tensor x, weight, rstd;

        public RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor input, Tensor inputWeight)
            : base(input, inputWeight)
        {
            this.x = Save(x);
            this.weight = Save(weight);
            this.rstd = Save(rstd);
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            var rows = rstd.Shape[0];
            var d = x.Shape[^1];
            using var dy = grad.IsContiguous ? grad.Alias() : grad.ContiguousCopy();
            var dx = Empty(grad.Backend, x.Shape, grad.DType);
            var dw = Empty(grad.Backend, weight.Shape, grad.DType);
            grad.Backend.RmsNormBackward(Flat(x.View, rows, d), weight.View, rstd.View, Flat(dy.View, rows, d),
                Flat(dx.View, rows, d), dw.View);
            return [NeedsGrad(0) ? dx : Discard(dx), NeedsGrad(1) ? dw : Discard(dw)];
        }
    }

    private static Tensor? Discard(Tensor t)
    {
        t.Dispose();
        return null;
    }

    /// <summary>
    /// Token cross-entropy, fused: mean over positions whose target is not <paramref name="ignoreIndex"/> of
    /// logsumexp(logits) - logits[target], plus <paramref name="zLoss"/> · mean(logsumexp²) over the same positions
    /// (T5X). logits: (..., V); targets: int32 (...). Returns a 0-d tensor (NaN when every target is ignored).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex = -100, double zLoss = 0) =>
        CrossEntropyCore(logits, targets, ignoreIndex, nllWeight: 1, zLoss, zOverAll: false, "cross_entropy");

    /// <summary>
    /// The z-loss alone: <paramref name="coefficient"/> · mean(logsumexp(logits)²), over all positions or, when
    /// <paramref name="masked"/>, only over positions whose target is not <paramref name="ignoreIndex"/>.
    /// </summary>
    public static Tensor ZLoss(Tensor logits, Tensor targets, double coefficient, bool masked = true,
        int ignoreIndex = -100) =>
        CrossEntropyCore(logits, targets, ignoreIndex, nllWeight: 0, coefficient, zOverAll: !masked, "z_loss");

    private static Tensor CrossEntropyCore(Tensor logits, Tensor targets, int ignoreIndex, double nllWeight,
        double zCoefficient, bool zOverAll, string name)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        logits.RequireFloat(name);
        SameBackend(name, logits, targets);
        if (targets.DType != DType.Int32)
            throw new DTypeMismatchException(name, $"targets must be int32, not {targets.DType.Name()}");
        if (logits.Rank < 1 || targets.Shape != new Shape(logits.Shape.Dims[..^1]))
            throw new ShapeMismatchException(name, logits.Shape, targets.Shape,
                "targets must have the logits' shape without the last (vocabulary) dimension");
        var rows = checked((int)targets.NumElements);
        var vocab = logits.Shape[^1];
        using var x = logits.IsContiguous ? logits.Alias() : logits.ContiguousCopy();
        using var t = targets.IsContiguous ? targets.Alias() : targets.ContiguousCopy();
        var tv = new TensorView(t.View.Buffer, new Shape(rows), [1], t.Offset);
        var xv = Flat(x.View, rows, vocab);
        var backend = logits.Backend;
        using var nll = Empty(backend, new Shape(rows), logits.DType);
        using var lse = Empty(backend, new Shape(rows), logits.DType);
        backend.CrossEntropy(xv, tv, nll.View, lse.View, ignoreIndex);

        // Per-row weights: nll rows are averaged over valid targets; z rows over valid targets or all rows.
        using var flatTargets = t.Reshape(rows);
        using var valid = flatTargets.Ne(ignoreIndex);
        using var validF = valid.To(logits.DType);
        var count = validF.Sum().Item();
        using var nllRowWeight = validF * (nllWeight / count);
        using var zRowWeight = zOverAll ? FullLike(validF, zCoefficient / rows) : validF * (zCoefficient / count);
        using var lseSquared = lse.Square();
        using var nllPart = (nll * nllRowWeight).Sum();
        using var zPart = (lseSquared * zRowWeight).Sum();
        var loss = nllPart + zPart;
        if (!Recording(logits))
            return loss;
        return loss.Attach(new CrossEntropyBackward(logits, x, t, lse, nllRowWeight, zRowWeight, ignoreIndex));
    }

    private sealed class CrossEntropyBackward : GradFn
    {
        private readonly Tensor logits, targets, lse, nllRowWeight, zRowWeight;
        private readonly int ignoreIndex;

        public CrossEntropyBackward(Tensor input, Tensor logits, Tensor targets, Tensor lse, Tensor nllRowWeight,
            Tensor zRowWeight, int ignoreIndex) : base(input)
        {
            this.logits = Save(logits);
            this.targets = Save(targets);
            this.lse = Save(lse);
            this.nllRowWeight = Save(nllRowWeight);
            this.zRowWeight = Save(zRowWeight);
            this.ignoreIndex = ignoreIndex;
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            // loss = Σ wₙ·nll + Σ w_z·lse²  ⇒  gNll = g·wₙ, gLse = g·2·w_z·lse.
            using var gNll = nllRowWeight * grad;
            using var gLse = zRowWeight * lse * 2.0 * grad;
            var rows = lse.Shape[0];
            var vocab = logits.Shape[^1];
            var dx = Empty(grad.Backend, logits.Shape, grad.DType);
            var tv = new TensorView(targets.View.Buffer, new Shape(rows), [1], targets.Offset);
            grad.Backend.CrossEntropyBackward(Flat(logits.View, rows, vocab), tv, lse.View, gNll.View, gLse.View,
                Flat(dx.View, rows, vocab), ignoreIndex);
            return [dx];
        }
    }

    /// <summary>Inverted dropout: zeroes elements with probability <paramref name="p"/> and scales the rest by
    /// 1/(1-p) when <paramref name="training"/>; otherwise returns the input unchanged (as a new reference).</summary>
    public Tensor Dropout(double p, Generator generator, bool training = true)
    {
        if (p is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1)");
        if (!training || p == 0)
            return Contiguous();
        using var keep = Bernoulli(Shape, generator, 1 - p, DType, Device);
        using var scaled = keep * (1.0 / (1 - p));
        return this * scaled;
    }
}
