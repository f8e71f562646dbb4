// Kernel-level checks of the fused soft top-k: the SIMD CPU kernel against the float64 reference backend (values,
// a_t history, gradients; SIMD bodies and tails), the torch-ops coor_descent fixtures through the fused path, and
// the O(n) memory of a forward + backward at n = 16384, T = 50.
using System;
using System.IO;
using System.Linq;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Parity;
using CoLT5.Tests.Tensors;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Routing;

[Trait("Category", "Kernel")]
public sealed class SoftTopKKernelTests
{
    private static readonly Gen<(RouterCase Case, RouterSetting Setting)> Cases =
        from c in SoftTopKCases.Any()
        from set in Gen.Elements(RouterSetting.Paper, RouterSetting.Scaled)
        select (c, set);

    /// <summary>Long rows: vector bodies plus every tail length, several rows so the row loop runs in
    /// parallel.</summary>
    private static readonly Gen<(RouterCase Case, RouterSetting Setting)> LongCases =
        from n in Gen.Elements(64, 1000, 4099)
        from rows in Gen.Choose(2, 6)
        from maskKind in Gen.Choose(0, 3)
        from set in Gen.Elements(RouterSetting.Paper, RouterSetting.Scaled)
        from seed in TensorGen.Seed
        select (SoftTopKCases.Build(new RouterRecipe(rows, n, maskKind, 1.0, 0.3, seed)), set);

    /// <summary>
    /// CPU (vectorised float64, analytic backward over the a_t history) against the reference (plain loops, chain
    /// rule through stored per-iteration vectors): λ and a_t to 1e-12 relative, dL/ds to 1e-10 of the adjoint
    /// scale (measured: 4e-14 and 3e-14 at worst).
    /// </summary>
    [Fact]
    public void CpuMatchesReferenceInFloat64() => Props.Check(Cases, x => CompareFloat64(x.Case, x.Setting));

    [Fact]
    public void CpuMatchesReferenceOnLongRows() => Props.Check(LongCases, x => CompareFloat64(x.Case, x.Setting));

    /// <summary>Scores spread so wide (σ = 20 at ε = 0.03, σ = 300 at ε = 1) that (max s + a)/ε passes the exp
    /// table's limit and iterations take the direct exp passes.</summary>
    [Fact]
    public void CpuMatchesReferenceOnWideScores() => Props.Check(
        from c in SoftTopKCases.Any()
        from paper in Gen.Elements(true, false)
        select (SoftTopKCases.Build(c.Recipe with { Scale = paper ? 300 : 20 }),
            paper ? RouterSetting.Paper : RouterSetting.Scaled),
        x => CompareFloat64(x.Item1, x.Item2));

    internal static void CompareFloat64(RouterCase c0, RouterSetting set)
    {

        var c = SoftTopKCases.AwayFromKinks(c0, set, 1e-9) ?? c0;
        var cpu = SoftTopKCases.Kernel(c, set, DType.Float64, Device.Cpu);
        var reference = SoftTopKCases.Kernel(c, set, DType.Float64, Device.Reference);
        Closeness.Assert($"{set} {c} λ", cpu.Lambda, reference.Lambda, 1e-12);
        Closeness.Assert($"{set} {c} a_t", cpu.State, reference.State, 1e-12);
        if (SoftTopKCases.KinkMargin(c, set) < 1e-9)
            return;
        var scale = SoftTopKCases.GradScale(c, set, reference.Lambda);
        var e = SoftTopKCases.ScaledError(SoftTopKCases.KernelGrad(c, set, DType.Float64, Device.Cpu),
            SoftTopKCases.KernelGrad(c, set, DType.Float64, Device.Reference), scale);
        Assert.True(e <= 1e-10, $"{set} {c}: CPU vs reference gradient error {e:E2} of the scale {scale:E2}");
    }

    /// <summary>
    /// float32 CPU kernel against the reference backend on the same float32 inputs (the reference computes in
    /// float64 and rounds once), with the budget of FusedFloat32IsAsAccurateAsComposedFloat32.
    /// </summary>
    [Fact]
    public void CpuMatchesReferenceInFloat32() => Props.Check(Cases, x =>
    {
        var (c0, set) = x;
        var c = SoftTopKCases.AwayFromKinks(c0, set, 1e-5) ?? c0;
        var truth = SoftTopKCases.Kernel(c, set, DType.Float32, Device.Reference).Lambda;
        var cpu = SoftTopKCases.Kernel(c, set, DType.Float32, Device.Cpu).Lambda;
        var composed = SoftTopKCases.Run(c, set, DType.Float32, fused: false);
        Closeness.Assert($"{set} {c} float32 λ", cpu, truth,
            Math.Max(1e-5, 4 * SoftTopKCases.Error(composed.Lambda, truth)));
        var scale = SoftTopKCases.GradScale(c, set, truth);
        var want = SoftTopKCases.KernelGrad(c, set, DType.Float32, Device.Reference);
        var budget = Math.Max(1e-5, 4 * SoftTopKCases.ScaledError(composed.Grad, want, scale));
        var e = SoftTopKCases.ScaledError(SoftTopKCases.KernelGrad(c, set, DType.Float32, Device.Cpu), want, scale);
        Assert.True(e <= budget, $"{set} {c}: float32 gradient error {e:E2} > {budget:E2}");
    });

    public static TheoryData<string, string> FixtureCases()
    {
        var data = new TheoryData<string, string>();
        var files = Directory.GetFiles(FixturePaths.TorchOps, "coor_descent_*.json").Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            data.Add(Path.GetFileNameWithoutExtension(file), "float64");
            data.Add(Path.GetFileNameWithoutExtension(file), "float32");
        }
        return data;
    }

    /// <summary>
    /// The torch-ops coor_descent cases through the fused path on the CPU and the reference backends: float64 at
    /// 1e-10 relative to each tensor's max; float32 at the parity harness's router budget.
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void FusedMatchesTorchFixtures(string name, string dtype)
    {
        var c = TorchCase.Load(Path.Combine(FixturePaths.TorchOps, name + ".json"));
        Assert.Equal("coor_descent", c.Op);
        var floatType = dtype == "float64" ? DType.Float64 : DType.Float32;
        var tolerance = floatType == DType.Float64 ? 1e-10 : TorchOpsParityTests.Float32Tolerance(c);
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            using var scope = DisposeScope.Enter();
            var s = c.Inputs["s"].ToTensor(floatType, device);
            s.RequiresGrad = true;
            var mask = c.Inputs.TryGetValue("mask", out var m) ? m.ToTensor(floatType, device) : null;
            var lambda = SoftTopK.Fused(s, mask, c.Number("k"), c.Number("eps"), c.Int("n_iters"),
                c.NullableNumber("eps_init"), c.Number("eps_decay"));
            Closeness.Assert($"{name} [{dtype}, {device}] fused λ", lambda.ToDoubleArray(), c.Outputs["scores"].Data,
                tolerance);
            lambda.Backward(c.Upstream["scores"].ToTensor(floatType, device));
            Closeness.Assert($"{name} [{dtype}, {device}] fused grad", s.Grad!.ToDoubleArray(), c.Grads["s"].Data,
                tolerance);
            if (floatType == DType.Float64 && name.StartsWith("coor_descent_e1_it50", StringComparison.Ordinal))
            {
                // ε = 1, 50 rounds: converged, every row sums to k (index.json: max_abs_rowsum_minus_k ~ 1e-14)
                var n = s.Shape[^1];
                var values = lambda.ToArray<double>();
                for (var r = 0; r < values.Length / n; r++)
                    Assert.InRange(values.Skip(r * n).Take(n).Sum() - c.Number("k"), -1e-9, 1e-9);
            }
        }
    }
}

/// <summary>Fused-path tests that touch process-wide state (pool counters, the kernel's table limit): they run
/// alone.</summary>
[Trait("Category", "Kernel")]
[Collection(nameof(MemoryCollection))]
public sealed class SoftTopKSerialTests
{
    private static readonly Gen<(RouterCase Case, RouterSetting Setting)> Cases =
        from c in SoftTopKCases.Any()
        from set in Gen.Elements(RouterSetting.Paper, RouterSetting.Scaled)
        select (c, set);

    /// <summary>With the exp table switched off every iteration runs the direct exp passes (forward and
    /// backward); they must match the reference as the table path does.</summary>
    [Fact]
    public void DirectPassesMatchReference()
    {
        var limit = SoftTopKKernel.TableLimit;
        SoftTopKKernel.TableLimit = double.NegativeInfinity;
        try
        {
            Props.Check(Cases, x => SoftTopKKernelTests.CompareFloat64(x.Case, x.Setting));
        }
        finally
        {
            SoftTopKKernel.TableLimit = limit;
        }
    }

    /// <summary>
    /// At n = 16384 and T = 50 the fused forward keeps λ, the contiguous scores alias, k and the (R, T) a_t history
    /// alive for the backward — O(n) — and the backward adds only the (R, n) gradient; the composed graph holds
    /// several n-vectors per iteration (O(T·n)).
    /// </summary>
    [Fact]
    public void FusedForwardAndBackwardUseLinearMemory()
    {
        const int n = 16384, rows = 2, iterations = 50;
        var pool = HostMemoryPool.Shared;
        long Live() => pool.AllocatedBytes - pool.RetainedBytes;
        var rowBytes = (long)rows * n * sizeof(double);
        var c = SoftTopKCases.Build(new RouterRecipe(rows, n, 2, 1.0, 0.1, 5));

        long fusedGraph, fusedAfter, composedGraph;
        using (var scope = DisposeScope.Enter())
        {
            var s = SoftTopKCases.ScoresTensor(c, DType.Float64);
            var mask = SoftTopKCases.MaskTensor(c);
            var before = Live();
            var lambda = SoftTopK.Fused(s, mask, c.K, 1.0, iterations);
            fusedGraph = Live() - before;
            using (var upstream = Tensor.OnesLike(lambda))
                lambda.Backward(upstream);
            fusedAfter = Live() - before;
        }
        using (var scope = DisposeScope.Enter())
        {
            var s = SoftTopKCases.ScoresTensor(c, DType.Float64);
            var mask = SoftTopKCases.MaskTensor(c);
            var before = Live();
            var lambda = SoftTopK.Composed(s, mask, Tensor.FromArray<double>(c.K, new Shape(rows)), 1.0, iterations);
            composedGraph = Live() - before;
            lambda.Backward(Tensor.OnesLike(lambda));              // frees the graph now, not at a later GC
        }
        // One (R, n) block (λ; the pool rounds a block up by at most 1/8) plus O(R·T): k and the a_t history.
        var stateBytes = (long)rows * (iterations + 1) * sizeof(double) + 4096;
        Assert.True(fusedGraph <= rowBytes * 9 / 8 + stateBytes, $"fused graph holds {fusedGraph} bytes, one (R, n) " +
            $"block is {rowBytes}");
        // after the backward: λ and the gradient; the graph (and its state) is freed
        Assert.True(fusedAfter <= 2 * rowBytes * 9 / 8, $"fused forward + backward hold {fusedAfter} bytes");
        Assert.True(composedGraph >= iterations * rowBytes, $"composed graph holds only {composedGraph} bytes");
    }
}
