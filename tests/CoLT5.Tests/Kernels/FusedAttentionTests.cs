// The fused attention kernel against its composed reference (values and every gradient, float64 and float32),
// finite-difference gradient checks of the fused op, the tile edges (bands, many tiles, empty rows) and bad input.
using System;
using System.Linq;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Kernels;

/// <summary>A generated attention problem: sizes, masks, positions, band and bias of the main and side sets.</summary>
public sealed record AttentionRecipe(int B, int H, int Tq, int D, SetRecipe Main, SetRecipe? Side, ulong Seed)
{
    /// <summary>Key/value heads (a divisor of H; 1 = multi-query).</summary>
    public int G { get; init; } = H;
}

/// <summary>How one key set is built: Tk keys, mask density (1 = none), explicit positions, band, bias.</summary>
public sealed record SetRecipe(int Tk, double Keep, bool KeyPositions, bool QueryPositions, int Window, bool Bias,
    int Buckets, int MapLow, int MapLen);

[Trait("Category", "Kernel")]
public sealed class FusedAttentionTests
{
    private static Gen<SetRecipe> Set(int minTk, int maxTk) =>
        from tk in Gen.Choose(minTk, maxTk)
        from keep in Gen.Elements(1.0, 1.0, 0.7, 0.2, 0.0)
        from keyPos in Gen.Elements(false, false, true)
        from queryPos in Gen.Elements(false, false, true)
        from window in Gen.Elements(int.MaxValue, int.MaxValue, 0, 3, 17, 70)
        from bias in Gen.Elements(true, true, false)
        from buckets in Gen.Choose(1, 12)
        from low in Gen.Choose(-40, 5)
        from len in Gen.Choose(1, 60)
        select new SetRecipe(tk, keep, keyPos, queryPos, window, bias, buckets, low, len);

    internal static readonly Gen<AttentionRecipe> Recipes =
        from b in Gen.Choose(1, 2)
        from h in Gen.Elements(1, 2, 3, 4)
        from gDivisor in Gen.Elements(1, 1, 2, 4)
        from tq in Gen.Frequency((3, Gen.Choose(1, 20)), (1, Gen.Choose(60, 150)))
        from d in Gen.Elements(1, 3, 8, 16, 17, 64)
        from main in Set(1, 150)
        from hasSide in Gen.Elements(false, true)
        from side in Set(0, 40)                  // no global tokens when n < 16
        from seed in TensorGen.Seed
        select new AttentionRecipe(b, h, tq, d, main, hasSide ? side : null, seed)
        {
            G = h % gDivisor == 0 ? h / gDivisor : h,
        };

    /// <summary>Float64: fused (tiles, online softmax, recomputing backward) against the composed reference, values
    /// and the gradients of q, k, v and both tables to 1e-11 of their scale.</summary>
    [Fact]
    public void FusedMatchesComposedInFloat64() => Props.Check(Recipes, r => Compare(r, DType.Float64, 1e-11));

    /// <summary>Float32 fused against the float64 composed reference: 2e-5 of the scale (rounding of sums over up
    /// to 190 keys and 64 dims).</summary>
    [Fact]
    public void FusedFloat32MatchesFloat64Reference() => Props.Check(Recipes, r => Compare(r, DType.Float32, 2e-5));

    /// <summary>Several query and key tiles with a band that starts and ends inside tiles, on every tile edge.</summary>
    [Theory]
    [InlineData(300, 300, 70)]
    [InlineData(129, 200, 0)]
    [InlineData(257, 257, 127)]
    [InlineData(64, 65, 63)]
    public void BandsAcrossManyTiles(int tq, int tk, int window) => Compare(new AttentionRecipe(1, 2, tq, 16,
        new SetRecipe(tk, 0.9, false, false, window, true, 32, -128, 257), null, 5), DType.Float64, 1e-11);

    /// <summary>The fused op's own gradients against float64 central differences (all seven inputs).</summary>
    [Fact]
    public void FusedGradientsMatchFiniteDifferences() => Props.Check(
        from r in Recipes
        select r with { Tq = Math.Min(r.Tq, 9), D = Math.Min(r.D, 5), Main = r.Main with { Tk = Math.Min(r.Main.Tk, 11) } },
        r =>
        {
            using var scope = DisposeScope.Enter();
            var p = Problem.Build(r, DType.Float64);
            Props.Grad(x => FusedAttention.Forward(x[0], p.Main(x[1], x[2], x[3]), p.Side(x[4], x[5], x[6])),
                p.Leaves);
        });

    /// <summary>A query whose keys are all masked gets 0 and passes no gradient, in both versions.</summary>
    [Fact]
    public void AQueryWithNoReadableKeyGetsZero()
    {
        using var scope = DisposeScope.Enter();
        var r = new AttentionRecipe(1, 1, 5, 4, new SetRecipe(6, 0.0, false, false, int.MaxValue, true, 4, -3, 7),
            null, 3);
        var p = Problem.Build(r, DType.Float64);
        var y = FusedAttention.Forward(p.Q, p.Main(p.K, p.V, p.Table));
        Assert.All(y.ToArray<double>(), v => Assert.Equal(0.0, v));
        y.Sum().Backward();
        Assert.All(p.Q.Grad!.ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void ABucketMapEntryOutsideTheTableIsRejected()
    {
        using var scope = DisposeScope.Enter();
        var r = new AttentionRecipe(1, 2, 4, 4, new SetRecipe(4, 1, false, false, int.MaxValue, true, 3, -2, 5),
            null, 3);
        var p = Problem.Build(r, DType.Float32);
        var bad = Tensor.FromArray<int>([0, 1, 3, 1, 0], new Shape(5));
        var set = new AttentionKeySet(p.K, p.V) { Bias = new BucketedBias(p.Table!, bad, -2) };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => FusedAttention.Forward(p.Q, set));
        Assert.Contains("bucket map entry 2 is 3", e.Message);
    }

    [Fact]
    public void KeyHeadsThatDoNotDivideTheQueryHeadsAreRejected()
    {
        using var scope = DisposeScope.Enter();
        var q = Tensor.Zeros(new Shape(1, 3, 3, 4));
        var k = Tensor.Zeros(new Shape(1, 2, 3, 4));
        var e = Assert.Throws<ShapeMismatchException>(() => FusedAttention.Forward(q, new AttentionKeySet(k, k)));
        Assert.Contains("keys must be (B, G, Tk, D) with G dividing H", e.Message);
    }

    /// <summary>The fused op on <paramref name="device"/> (default the CPU) in <paramref name="dtype"/> against the
    /// float64 composed reference on the CPU: output and every gradient to <paramref name="tolerance"/> of their
    /// scale.</summary>
    internal static void Compare(AttentionRecipe r, DType dtype, double tolerance, Device? device = null)
    {
        using var scope = DisposeScope.Enter();
        var want = Problem.Build(r, DType.Float64);
        var got = Problem.Build(r, dtype, device ?? Device.Cpu);
        var wantOut = FusedAttention.Composed(want.Q, want.Main(want.K, want.V, want.Table),
            want.Side(want.SideK, want.SideV, want.SideTable));
        var gotOut = FusedAttention.Forward(got.Q, got.Main(got.K, got.V, got.Table),
            got.Side(got.SideK, got.SideV, got.SideTable));
        Closeness.Assert("output", Doubles(gotOut), wantOut.ToArray<double>(), tolerance);
        var weights = Tensor.RandN(wantOut.Shape, new Generator(r.Seed + 9), dtype: DType.Float64);
        (wantOut * weights).Sum().Backward();
        using var typed = weights.To(dtype);
        using var w = typed.To(gotOut.Device);
        (gotOut * w).Sum().Backward();
        // A table entry sums up to B·Tq·Tk score gradients that may cancel (a one-bucket table has gradient 0): its
        // rounding slack is that many times the q/k/v gradient scale.
        var terms = (double)r.B * r.Tq * (r.Main.Tk + (r.Side?.Tk ?? 0));
        var gradScale = new[] { want.Q, want.K, want.V }.Max(t => t.Grad!.ToArray<double>().Max(Math.Abs));
        string[] names = ["dq", "dk", "dv", "dtable", "dside_k", "dside_v", "dside_table"];
        var gotLeaves = got.Leaves;
        var wantLeaves = want.Leaves;
        for (var i = 0; i < names.Length; i++)
        {
            var (a, b) = (gotLeaves[i], wantLeaves[i]);
            if (!a.RequiresGrad)
                continue;
            var slack = names[i].EndsWith("table", StringComparison.Ordinal) ? tolerance * terms * gradScale : 0;
            Closeness.Assert(names[i], Doubles(a.Grad!), b.Grad!.ToArray<double>(), tolerance, slack);
        }
    }

    private static double[] Doubles(Tensor t)
    {
        using var host = t.To(Device.Cpu);
        using var d = host.To(DType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>The tensors of one recipe in one dtype (values identical across dtypes up to rounding).</summary>
    private sealed class Problem
    {
        private readonly SetExtras main;
        private readonly SetExtras? side;

        private Problem(AttentionRecipe r, DType dtype, Device device)
        {
            var seed = r.Seed;
            Q = Leaf([r.B, r.H, r.Tq, r.D], seed++, dtype, device);
            K = Leaf([r.B, r.G, r.Main.Tk, r.D], seed++, dtype, device);
            V = Leaf([r.B, r.G, r.Main.Tk, r.D], seed++, dtype, device);
            Table = r.Main.Bias ? Leaf([r.Main.Buckets, r.H], seed++, dtype, device) : null;
            main = new SetExtras(r, r.Main, seed++, device);
            if (r.Side is { } s)
            {
                SideK = Leaf([r.B, r.G, s.Tk, r.D], seed++, dtype, device);
                SideV = Leaf([r.B, r.G, s.Tk, r.D], seed++, dtype, device);
                SideTable = s.Bias ? Leaf([s.Buckets, r.H], seed++, dtype, device) : null;
                side = new SetExtras(r, s, seed, device);
            }
        }

        public Tensor Q { get; }
        public Tensor K { get; }
        public Tensor V { get; }
        public Tensor? Table { get; }
        public Tensor? SideK { get; }
        public Tensor? SideV { get; }
        public Tensor? SideTable { get; }

        /// <summary>q, k, v, table, side k, side v, side table (absent ones as empty placeholders for GradCheck).</summary>
        public Tensor[] Leaves => [Q, K, V, Table ?? Placeholder(), SideK ?? Placeholder(), SideV ?? Placeholder(),
            SideTable ?? Placeholder()];

        public static Problem Build(AttentionRecipe r, DType dtype, Device? device = null) =>
            new(r, dtype, device ?? Device.Cpu);

        public AttentionKeySet Main(Tensor k, Tensor v, Tensor? table) => main.Apply(k, v, table);

        public AttentionKeySet? Side(Tensor? k, Tensor? v, Tensor? table) =>
            side is null || k is null ? null : side.Apply(k, v!, table);

        private static Tensor Placeholder() => Tensor.Zeros(new Shape(0), DType.Float64);

        private static Tensor Leaf(int[] shape, ulong seed, DType dtype, Device device)
        {
            var t = Tensor.RandN(new Shape(shape), new Generator(seed), dtype: DType.Float64);
            var typed = t.To(dtype).To(device);
            typed.RequiresGrad = true;
            return typed;
        }
    }

    /// <summary>Mask, positions and bucket map of one set, drawn from its recipe.</summary>
    private sealed class SetExtras
    {
        private readonly SetRecipe s;
        private readonly Tensor? mask, keyPositions, queryPositions, map;

        public SetExtras(AttentionRecipe r, SetRecipe s, ulong seed, Device device)
        {
            this.s = s;
            var rng = new Random((int)(seed % int.MaxValue));
            if (s.Keep < 1)
            {
                var keep = Enumerable.Range(0, r.B * s.Tk).Select(_ => rng.NextDouble() < s.Keep).ToArray();
                mask = Tensor.FromArray<bool>(keep, new Shape(r.B, s.Tk), device);
            }
            if (s.KeyPositions)
                keyPositions = Positions(rng, r.B, s.Tk, device);
            if (s.QueryPositions)
                queryPositions = Positions(rng, r.B, r.Tq, device);
            if (s.Bias)
            {
                var ids = Enumerable.Range(0, s.MapLen).Select(_ => rng.Next(s.Buckets)).ToArray();
                map = Tensor.FromArray<int>(ids, new Shape(s.MapLen), device);
            }
        }

        // Sorted distinct positions in [−5, 3·count) (routed tokens keep their order; global ids may be −1).
        private static Tensor Positions(Random rng, int batch, int count, Device device)
        {
            var all = new int[batch * count];
            for (var b = 0; b < batch; b++)
            {
                var picked = Enumerable.Range(-5, 3 * count + 5).OrderBy(_ => rng.Next()).Take(count).Order().ToArray();
                picked.CopyTo(all, b * count);
            }
            return Tensor.FromArray<int>(all, new Shape(batch, count), device);
        }

        public AttentionKeySet Apply(Tensor k, Tensor v, Tensor? table) => new(k, v)
        {
            KeyMask = mask,
            KeyPositions = keyPositions,
            QueryPositions = queryPositions,
            Window = s.Window,
            Bias = table is null || table.NumElements == 0 || map is null ? null : new BucketedBias(table, map, s.MapLow),
        };
    }
}
