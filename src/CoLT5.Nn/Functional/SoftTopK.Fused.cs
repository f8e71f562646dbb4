// The fused soft top-k entry: flattens (..., n) to rows, calls the backend's TrySoftTopK and attaches a custom
// backward that calls TrySoftTopKBackward with the saved O(R·T) state instead of recording every iteration.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Nn.Functional;

public static partial class SoftTopK
{
    /// <summary>
    /// The fused kernel: the same values and gradients as
    /// <see cref="Composed(Tensor, Tensor?, double, double, int, double?, double)"/> (to rounding), in one
    /// backend call per direction, keeping only the a_t history (R·T scalars) for the backward.
    /// </summary>
    /// <param name="scores">Raw router scores s: (..., n), float32 or float64.</param>
    /// <param name="mask">Optional mask of the scores' shape; true (non-zero) = a real token.</param>
    /// <param name="k">The budget, the same for every row.</param>
    /// <param name="eps">Target entropy weight ε.</param>
    /// <param name="iterations">Coordinate-ascent rounds.</param>
    /// <param name="epsInit">Optional starting ε for ε-scaling.</param>
    /// <param name="epsDecay">Factor applied to ε after each round (with ε-scaling).</param>
    /// <exception cref="NotSupportedException">The scores' backend has no fused soft top-k for their dtype.</exception>
    public static Tensor Fused(Tensor scores, Tensor? mask, double k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        using var budget = Budget(scores, k);
        return Require(scores, TryFused(scores, mask, budget, Params(eps, iterations, epsInit, epsDecay)));
    }

    /// <summary>The fused kernel with one positive budget per row in <paramref name="k"/> (rows in row-major order
    /// of the leading dims).</summary>
    /// <inheritdoc cref="Fused(Tensor, Tensor?, double, double, int, double?, double)"/>
    public static Tensor Fused(Tensor scores, Tensor? mask, IReadOnlyList<double> k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(k);
        var values = new double[k.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = k[i];
            if (!(values[i] > 0) || double.IsInfinity(values[i]))
                throw new ArgumentOutOfRangeException(nameof(k), values[i], $"budget {i} must be positive and finite");
        }
        using var host = Tensor.FromArray<double>(values, new Shape(values.Length), scores.Device);
        using var budget = Budget(scores, host);
        return Require(scores, TryFused(scores, mask, budget, Params(eps, iterations, epsInit, epsDecay)));
    }

    /// <summary>The fused kernel with a per-row budget tensor <paramref name="k"/>: the scores' leading shape, or
    /// flat (R); a constant (no gradient reaches it), positive (not checked).</summary>
    /// <inheritdoc cref="Fused(Tensor, Tensor?, double, double, int, double?, double)"/>
    public static Tensor Fused(Tensor scores, Tensor? mask, Tensor k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        using var budget = Budget(scores, k);
        return Require(scores, TryFused(scores, mask, budget, Params(eps, iterations, epsInit, epsDecay)));
    }

    private static Tensor Require(Tensor scores, Tensor? lambda) => lambda ?? throw new NotSupportedException(
        $"the {scores.Device} backend has no fused soft top-k for {scores.DType.Name()} scores");

    private static SoftTopKParams Params(double eps, int iterations, double? epsInit, double epsDecay)
    {
        var p = new SoftTopKParams(eps, iterations, epsInit ?? double.NaN, epsDecay);
        p.Validate();
        return p;
    }

    private static bool FusedEligible(Tensor scores, Tensor? mask) =>
        scores.Rank >= 1 && (mask is null || mask.Shape == scores.Shape);

    private static int Rows(Tensor scores)
    {
        if (scores.Rank == 0)
            throw new InvalidShapeException("soft_top_k", scores.Shape, "the scores need a last (token) dimension");
        long rows = 1;
        foreach (var d in scores.Shape.Dims[..^1])
            rows *= d;
        return checked((int)rows);
    }

    // The per-row budget as a contiguous (R) tensor in the scores' dtype on their device.
    private static Tensor Budget(Tensor scores, double k) =>
        Tensor.Full(new Shape(Rows(scores)), k, scores.DType, scores.Device);

    private static Tensor Budget(Tensor scores, Tensor k)
    {
        ArgumentNullException.ThrowIfNull(k);
        var rows = Rows(scores);
        var leading = new Shape(scores.Shape.Dims[..^1]);
        if (k.NumElements != rows || (k.Shape != leading && k.Shape != new Shape(rows)))
            throw new ShapeMismatchException("soft_top_k", scores.Shape, k.Shape,
                "k must have the scores' leading shape or one entry per row");
        using var detached = k.Detach();
        using var flat = detached.Reshape(rows);
        using var moved = flat.To(scores.Device);
        return moved.To(scores.DType);
    }

    // (R, n) view of a contiguous tensor of any leading shape.
    private static TensorView AsRows(Tensor t, int rows, int n) => new(t.View.Buffer, new Shape(rows, n), [n, 1],
        t.Offset);

    /// <summary>The fused forward, or null when the backend has no kernel (nothing is recorded then).</summary>
    private static Tensor? TryFused(Tensor scores, Tensor? mask, Tensor budget, SoftTopKParams p)
    {
        if (mask is not null && mask.Shape != scores.Shape)
            throw new ShapeMismatchException("soft_top_k", scores.Shape, mask.Shape, "the mask must match the scores");
        var rows = Rows(scores);
        var n = scores.Shape[^1];
        var backend = scores.Backend;
        using var x = scores.IsContiguous ? scores.Alias() : scores.ContiguousCopy();
        using var m = mask is null ? null : Dense(mask, scores.Device);
        var lambda = Tensor.Empty(backend, scores.Shape, scores.DType);
        var state = Tensor.Empty(backend, new Shape(rows, p.StateLength), DType.Float64);
        bool done;
        try
        {
            done = backend.TrySoftTopK(AsRows(x, rows, n), m is null ? default : AsRows(m, rows, n), budget.View,
                AsRows(lambda, rows, n), state.View, p);
        }
        catch
        {
            lambda.Dispose();
            state.Dispose();
            throw;
        }
        if (!done)
        {
            lambda.Dispose();
            state.Dispose();
            return null;
        }
        using (state)
        {
            return Tensor.Recording(scores)
                ? lambda.Attach(new FusedBackward(scores, x, m, budget, state, p, rows, n))
                : lambda;
        }
    }

    // A contiguous bool mask on the scores' device.
    private static Tensor Dense(Tensor mask, Device device)
    {
        using var here = mask.To(device);
        if (here.DType == DType.Bool)
            return here.IsContiguous ? here.Alias() : here.ContiguousCopy();
        return here.Ne(0);
    }

    private sealed class FusedBackward : GradFn
    {
        private readonly Tensor scores, budget, state;
        private readonly Tensor? mask;
        private readonly SoftTopKParams p;
        private readonly int rows, n;

        public FusedBackward(Tensor input, Tensor scores, Tensor? mask, Tensor budget, Tensor state,
            SoftTopKParams p, int rows, int n) : base(input)
        {
            this.scores = Save(scores);
            this.mask = mask is null ? null : Save(mask);
            this.budget = Save(budget);
            this.state = Save(state);
            this.p = p;
            this.rows = rows;
            this.n = n;
        }

        public override string Name => "soft_top_k_backward";

        public override Tensor?[] Backward(Tensor grad)
        {
            using var dy = grad.IsContiguous && grad.DType == scores.DType ? grad.Alias() : grad.To(scores.DType);
            var dx = Tensor.Empty(scores.Backend, scores.Shape, scores.DType);
            bool done;
            try
            {
                done = scores.Backend.TrySoftTopKBackward(AsRows(scores, rows, n),
                    mask is null ? default : AsRows(mask, rows, n), budget.View, state.View, AsRows(dy, rows, n),
                    AsRows(dx, rows, n), p);
            }
            catch
            {
                dx.Dispose();
                throw;
            }
            if (!done)
            {
                dx.Dispose();
                throw new NotSupportedException($"the {scores.Device} backend ran the fused soft top-k forward " +
                    "but has no backward for it");
            }
            return [dx];
        }
    }
}
