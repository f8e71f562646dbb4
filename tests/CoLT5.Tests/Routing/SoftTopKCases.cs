// Random router problems for the soft top-k tests (rows, odd lengths, scattered and trailing padding, per-row k
// below the real-token count) and the runners that push one through the composed or the fused path.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace CoLT5.Tests.Routing;

/// <summary>One of the two settings of spec §8.4 (decision D3).</summary>
public sealed record RouterSetting(string Name, double Eps, int Iterations, double? EpsInit, double EpsDecay)
{
    /// <summary>The paper's setting: ε = 1, 50 iterations, no ε-scaling.</summary>
    public static RouterSetting Paper { get; } = new("e1_it50", 1.0, 50, null, 1.0);

    /// <summary>ε-scaling (lucidrains' defaults): ε = 0.03, ε₀ = 4, ×0.7 per iteration, 20 iterations.</summary>
    public static RouterSetting Scaled { get; } = new("e003_init4_decay07_it20", 0.03, 20, 4.0, 0.7);

    public SoftTopKParams Params => new(Eps, Iterations, EpsInit ?? double.NaN, EpsDecay);

    public override string ToString() => Name;
}

/// <summary>How a case is drawn: rows, length, mask kind (0 none, 1 scattered, 2 trailing, 3 both), score scale,
/// the largest k / real-token ratio, and the seed.</summary>
public sealed record RouterRecipe(int Rows, int N, int MaskKind, double Scale, double MaxRatio, ulong Seed);

/// <summary>A batch of rows: scores (rows·n, row-major), optional mask, one k per row, a leading shape.</summary>
public sealed record RouterCase(RouterRecipe Recipe, int[] Leading, int N, double[] Scores, bool[]? Mask, double[] K)
{
    public ulong Seed => Recipe.Seed;

    public int Rows => K.Length;

    public int[] Shape => [.. Leading, N];

    public bool IsReal(int r, int i) => Mask is null || Mask[r * N + i];

    public override string ToString() =>
        $"shape [{string.Join(", ", Shape)}], mask {(Mask is null ? "none" : "yes")}, k [{string.Join(", ", K)}], " +
        $"seed {Seed}";
}

public static class SoftTopKCases
{
    public static readonly int[] Lengths = [1, 2, 3, 7, 17, 33, 257];

    /// <summary>Rows 1–4, n from <see cref="Lengths"/>, any mask kind, scores N(0, σ²) with σ ∈ {1, 3} (or up to
    /// <paramref name="maxScale"/>), k / real tokens up to <paramref name="maxRatio"/>.</summary>
    public static Gen<RouterCase> Any(double maxRatio = 0.9, double maxScale = 3.0) =>
        from rows in Gen.Choose(1, 4)
        from n in Gen.Elements(Lengths)
        from maskKind in Gen.Choose(0, 3)
        from scale in Gen.Elements(new[] { 1.0, 3.0 }.Where(v => v <= maxScale).ToArray())
        from seed in TensorGen.Seed
        select Build(new RouterRecipe(rows, n, maskKind, scale, maxRatio, seed));

    /// <summary>A case from its recipe (deterministic in the seed).</summary>
    public static RouterCase Build(RouterRecipe recipe)
    {
        var (rows, n, maskKind, scale, maxRatio, seed) = recipe;
        var g = new Generator(seed);
        var scores = Enumerable.Range(0, rows * n).Select(_ => scale * g.NextNormal()).ToArray();
        bool[]? mask = maskKind == 0 ? null : new bool[rows * n];
        var k = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var valid = n;
            if (mask is not null)
            {
                // 1: scattered holes, 2: trailing padding, 3: both; every row keeps at least one real token.
                var trailing = (maskKind & 2) != 0 ? g.NextInt(n / 2 + 1) : 0;
                valid = 0;
                for (var i = 0; i < n; i++)
                {
                    var real = i < n - trailing && ((maskKind & 1) == 0 || g.NextDouble() > 0.2);
                    mask[r * n + i] = real;
                    valid += real ? 1 : 0;
                }
                if (valid == 0)
                {
                    mask[r * n] = true;
                    valid = 1;
                }
            }
            // k in eighths where that is possible (9/8·k_route style), strictly below the real-token count
            var ratio = 0.05 + (maxRatio - 0.05) * g.NextDouble();
            var kr = Math.Round(ratio * valid * 8) / 8;
            k[r] = kr >= 0.125 && kr < valid ? kr : ratio * valid;
        }
        int[] leading = rows == 4 && seed % 2 == 0 ? [2, 2] : [rows];
        return new RouterCase(recipe, leading, n, scores, mask, k);
    }

    /// <summary>
    /// The case, or a redraw of its recipe with another seed, whose relu arguments s + a_t all stay at least
    /// <paramref name="margin"/> from 0 (as the torch fixtures were drawn); null if 20 draws fail.
    /// </summary>
    public static RouterCase? AwayFromKinks(RouterCase c, RouterSetting set, double margin)
    {
        for (ulong attempt = 0; attempt < 20; attempt++)
        {
            var draw = attempt == 0 ? c : Build(c.Recipe with { Seed = c.Seed + 7919 * attempt });
            if (KinkMargin(draw, set) >= margin)
                return draw;
        }
        return null;
    }

    /// <summary>A draw (of the case's recipe) fit for finite differences: 1e-3 from every kink and a gradient that
    /// is not a near-total cancellation (max |dL/ds| ≥ 1e-2·<see cref="GradScale"/>); null if 20 draws fail.</summary>
    public static RouterCase? ForFiniteDifferences(RouterCase c, RouterSetting set)
    {
        for (ulong attempt = 0; attempt < 20; attempt++)
        {
            var draw = attempt == 0 ? c : Build(c.Recipe with { Seed = c.Seed + 7919 * attempt });
            if (KinkMargin(draw, set) < 1e-3)
                continue;
            var (lambda, grad) = Run(draw, set, DType.Float64, fused: true);
            if (grad.Max(Math.Abs) >= 1e-2 * GradScale(draw, set, lambda))
                return draw;
        }
        return null;
    }

    /// <summary>
    /// The magnitude the gradient is built from: max_i |dL/dλ_i|·λ_i/ε_F, the adjoint entering the reverse sweep.
    /// Saturated tokens contribute terms of this size that cancel exactly (λ = 1 does not move), so a true gradient
    /// can be ~0 while every implementation's rounding is relative to this scale; errors are measured against it.
    /// </summary>
    public static double GradScale(RouterCase c, RouterSetting set, IReadOnlyList<double> lambda)
    {
        var up = Upstream(c);
        var scale = 0.0;
        for (var i = 0; i < up.Length; i++)
            scale = Math.Max(scale, Math.Abs(up[i]) * lambda[i]);
        return scale / set.Params.Schedule()[^1];
    }

    /// <summary>max |got − want| / <paramref name="scale"/> (absolute when the scale is 0).</summary>
    public static double ScaledError(IReadOnlyList<double> got, IReadOnlyList<double> want, double scale)
    {
        var worst = 0.0;
        for (var i = 0; i < want.Count; i++)
            worst = Math.Max(worst, double.IsNaN(got[i]) ? double.PositiveInfinity : Math.Abs(got[i] - want[i]));
        return scale > 0 ? worst / scale : worst;
    }

    public static Tensor ScoresTensor(RouterCase c, DType dtype, Device? device = null)
    {
        using var t = Tensor.FromArray<double>(c.Scores, new Shape(c.Shape), device);
        var s = t.To(dtype);
        s.RequiresGrad = true;
        return s;
    }

    public static Tensor? MaskTensor(RouterCase c, Device? device = null) =>
        c.Mask is null ? null : Tensor.FromArray<bool>(c.Mask, new Shape(c.Shape), device);

    /// <summary>A fixed N(0, 1) upstream gradient dL/dλ for the case.</summary>
    public static double[] Upstream(RouterCase c)
    {
        var g = new Generator(c.Seed ^ 0x5EEDUL);
        return Enumerable.Range(0, c.Scores.Length).Select(_ => g.NextNormal()).ToArray();
    }

    /// <summary>λ and dL/ds for L = Σ λ·upstream, through the fused or the composed path.</summary>
    public static (double[] Lambda, double[] Grad) Run(RouterCase c, RouterSetting set, DType dtype, bool fused,
        Device? device = null)
    {
        using var scope = DisposeScope.Enter();
        var s = ScoresTensor(c, dtype, device);
        var mask = MaskTensor(c, device);
        using var kHost = Tensor.FromArray<double>(c.K, new Shape(c.Leading));
        var k = kHost.To(device ?? Device.Cpu);
        var lambda = fused
            ? SoftTopK.Fused(s, mask, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay)
            : SoftTopK.Composed(s, mask, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay);
        using var up = Tensor.FromArray<double>(Upstream(c), new Shape(c.Shape), device);
        lambda.Backward(up.To(dtype));
        return (lambda.ToDoubleArray(), s.Grad!.ToDoubleArray());
    }

    /// <summary>
    /// The smallest |s_i + a_t| over real tokens and iterations (float64, from the fused kernel's a_t history): how
    /// far the case stays from the relu kinks, where the gradient jumps and implementations may round either way.
    /// </summary>
    public static double KinkMargin(RouterCase c, RouterSetting set)
    {
        var a = History(c, set, Device.Cpu);
        var margin = double.PositiveInfinity;
        for (var r = 0; r < c.Rows; r++)
        {
            for (var t = 0; t < set.Iterations; t++)
            {
                for (var i = 0; i < c.N; i++)
                {
                    if (c.IsReal(r, i))
                        margin = Math.Min(margin, Math.Abs(c.Scores[r * c.N + i] + a[r * set.Iterations + t]));
                }
            }
        }
        return margin;
    }

    /// <summary>The state (a_t history, rows × T) written by a backend's float64 forward.</summary>
    public static double[] History(RouterCase c, RouterSetting set, Device device)
    {
        using var scope = DisposeScope.Enter();
        var (_, state) = Kernel(c, set, DType.Float64, device);
        return state;
    }

    /// <summary>λ and the state straight from a backend's <c>TrySoftTopK</c> (kernel level, no autograd).</summary>
    public static (double[] Lambda, double[] State) Kernel(RouterCase c, RouterSetting set, DType dtype, Device device)
    {
        using var scope = DisposeScope.Enter();
        var backend = BackendRegistry.Get(device);
        var s = Tensor.FromArray<double>(c.Scores, new Shape(c.Rows, c.N), device).To(dtype);
        var mask = c.Mask is null ? null : Tensor.FromArray<bool>(c.Mask, new Shape(c.Rows, c.N), device);
        var k = Tensor.FromArray<double>(c.K, new Shape(c.Rows), device).To(dtype);
        var lambda = Tensor.Zeros(new Shape(c.Rows, c.N), dtype, device);
        var state = Tensor.Zeros(new Shape(c.Rows, set.Params.StateLength), DType.Float64, device);
        var done = backend.TrySoftTopK(s.View, mask is null ? default : mask.View, k.View, lambda.View, state.View,
            set.Params);
        Xunit.Assert.True(done, $"{device} has no fused soft top-k");
        return (lambda.ToDoubleArray(), state.ToDoubleArray());
    }

    /// <summary>dL/ds straight from a backend's <c>TrySoftTopKBackward</c> after its forward.</summary>
    public static double[] KernelGrad(RouterCase c, RouterSetting set, DType dtype, Device device)
    {
        using var scope = DisposeScope.Enter();
        var backend = BackendRegistry.Get(device);
        var shape = new Shape(c.Rows, c.N);
        var s = Tensor.FromArray<double>(c.Scores, shape, device).To(dtype);
        var mask = c.Mask is null ? null : Tensor.FromArray<bool>(c.Mask, shape, device);
        var k = Tensor.FromArray<double>(c.K, new Shape(c.Rows), device).To(dtype);
        var lambda = Tensor.Zeros(shape, dtype, device);
        var state = Tensor.Zeros(new Shape(c.Rows, set.Params.StateLength), DType.Float64, device);
        var maskView = mask is null ? default : mask.View;
        Xunit.Assert.True(backend.TrySoftTopK(s.View, maskView, k.View, lambda.View, state.View, set.Params));
        var up = Tensor.FromArray<double>(Upstream(c), shape, device).To(dtype);
        var ds = Tensor.Full(shape, double.NaN, dtype, device);
        Xunit.Assert.True(backend.TrySoftTopKBackward(s.View, maskView, k.View, state.View, up.View, ds.View,
            set.Params));
        return ds.ToDoubleArray();
    }

    /// <summary>max |got − want| / max |want| (see <see cref="Closeness.RelativeError"/>).</summary>
    public static double Error(IReadOnlyList<double> got, IReadOnlyList<double> want) =>
        Closeness.RelativeError(got, want, out _);
}
