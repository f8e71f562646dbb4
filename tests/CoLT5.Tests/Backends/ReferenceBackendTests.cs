// Checks the scalar reference backend (the oracle) against hand-computed analytic values for every op: edge values
// (NaN, ±inf, empty axes), PyTorch conventions, strided and broadcast views, index validation and the RNG mapping.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CoLT5.Backends.Cpu.Reference;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Backends;

/// <summary>Analytic checks of <see cref="ReferenceBackend"/>, through the <see cref="IBackend"/> API only.</summary>
[Trait("Category", "Kernel")]
public sealed class ReferenceBackendTests : IDisposable
{
    private static readonly double Ln2 = Math.Log(2), Ln3 = Math.Log(3);
    private static readonly double Inf = double.PositiveInfinity, NaN = double.NaN;

    private readonly ReferenceBackend backend = new();
    private readonly List<IDeviceBuffer> buffers = [];

    /// <summary>Returns every buffer the test allocated to the pool.</summary>
    public void Dispose()
    {
        foreach (var buffer in buffers)
            buffer.Dispose();
    }

    // ---- memory, fill, copy ----------------------------------------------------------------------------------

    /// <summary>The backend reports the reference device and allocates buffers of the requested size.</summary>
    [Fact]
    public void Device_Description_AndAllocate()
    {
        Assert.Equal(Device.Reference, backend.Device);
        Assert.Equal("reference: scalar float64 loops", backend.Description);
        var buffer = Track(backend.Allocate(DType.Float32, 5));
        Assert.Equal(5, buffer.Length);
        Assert.Equal(20, buffer.Bytes);
        Assert.Same(backend, buffer.Backend);
        Assert.Equal(0, Track(backend.Allocate(DType.Bool, 0)).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Allocate(DType.Float64, -1));
        backend.Synchronize();
    }

    /// <summary>Upload/Download are byte copies at a byte offset, with bounds checks that name the buffer.</summary>
    [Fact]
    public void UploadDownload_RoundTripAndBoundsChecks()
    {
        var buffer = Track(backend.Allocate(DType.Float64, 4));
        backend.Upload(MemoryMarshal.AsBytes<double>([0, 0, 0, 0]), buffer, 0);
        backend.Upload(MemoryMarshal.AsBytes<double>([1.5, -2.25]), buffer, 8);
        var back = new double[4];
        backend.Download(buffer, 0, MemoryMarshal.AsBytes(back.AsSpan()));
        Assert.Equal([0, 1.5, -2.25, 0], back);

        var two = new double[2];
        backend.Download(buffer, 16, MemoryMarshal.AsBytes(two.AsSpan()));
        Assert.Equal([-2.25, 0], two);

        var tooFar = Assert.Throws<ArgumentOutOfRangeException>(
            () => backend.Upload(new byte[16], buffer, 24));
        Assert.Contains("4 float64 elements", tooFar.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Download(buffer, -8, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Download(buffer, 0, new byte[40]));
    }

    /// <summary>Fill converts the value to the destination dtype and writes only the view's elements.</summary>
    [Fact]
    public void Fill_ConvertsAndHonoursStrides()
    {
        var y = Make(DType.Float64, [3, 2], 1, 2, 3, 4, 5, 6);
        var column = new TensorView(y.Buffer, new Shape(3), [2], 1);
        backend.Fill(column, -7.5);
        Assert.Equal([1, -7.5, 3, -7.5, 5, -7.5], Read(y));

        var ints = Make(DType.Int32, [2], 0, 0);
        backend.Fill(ints, -2.7);
        Assert.Equal([-2, -2], Read(ints));

        var flags = Make(DType.Bool, [2], 0, 0);
        backend.Fill(flags, 0.25);
        Assert.Equal([1, 1], Read(flags));

        var halves = MakeBits([1], 0);
        backend.Fill(halves, 1.0);
        Assert.Equal([0x3F80], ReadBits(halves));
    }

    /// <summary>float ↔ int32 truncates toward zero (saturating, NaN → 0), bool is value != 0 (NaN is true),
    /// float64 → float32 rounds to nearest.</summary>
    [Fact]
    public void Copy_ConvertsBetweenDTypes()
    {
        var source = Make(DType.Float64, [7], 1.5, -2.7, 2.7, 1e10, NaN, 0.1, 0);
        var ints = Empty(DType.Int32, [7]);
        backend.Copy(source, ints);
        Assert.Equal([1, -2, 2, int.MaxValue, 0, 0, 0], Read(ints));

        var floats = Empty(DType.Float32, [7]);
        backend.Copy(source, floats);
        var f = Read(floats);
        Assert.Equal((double)(float)0.1, f[5]);
        Assert.Equal((double)(float)-2.7, f[1]);
        Assert.True(double.IsNaN(f[4]));

        var flags = Empty(DType.Bool, [7]);
        backend.Copy(source, flags);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0], Read(flags));

        var back = Empty(DType.Float64, [7]);
        backend.Copy(ints, back);
        Assert.Equal([1, -2, 2, int.MaxValue, 0, 0, 0], Read(back));

        var big = Make(DType.Float32, [2], -3e9, 3e9);
        var saturated = Empty(DType.Int32, [2]);
        backend.Copy(big, saturated);
        Assert.Equal([int.MinValue, int.MaxValue], Read(saturated));
    }

    /// <summary>float32 → bfloat16 rounds to nearest with ties to even; overflow rounds to ∞; NaN stays a quiet
    /// NaN; bfloat16 → float is exact.</summary>
    [Fact]
    public void Copy_BFloat16_RoundsToNearestEven()
    {
        uint[] inputs =
        [
            0x3F808000, // 1 + 2⁻⁸: a tie, the kept bits are even → down to 1.0
            0x3F818000, // 1 + 3·2⁻⁸: a tie, the kept bits are odd → up
            0x3F808001, // just above the tie → up
            0x3F807FFF, // just below the tie → down
            0x7F7FFFFF, // float.MaxValue: beyond the largest bf16 + half an ulp → +∞
            0xFF800000, // -∞
            0x80000000, // -0
            0x7F800001, // a signalling NaN → quiet NaN
            0xC0490FDB, // -π
        ];
        var floats = Empty(DType.Float32, [inputs.Length]);
        backend.Upload(MemoryMarshal.AsBytes(inputs.AsSpan()), floats.Buffer, 0);
        var halves = MakeBits([inputs.Length], new ushort[inputs.Length]);
        backend.Copy(floats, halves);
        Assert.Equal([0x3F80, 0x3F82, 0x3F81, 0x3F80, 0x7F80, 0xFF80, 0x8000, 0x7FC0, 0xC049], ReadBits(halves));

        var widened = Empty(DType.Float64, [inputs.Length]);
        backend.Copy(halves, widened);
        var w = Read(widened);
        Assert.Equal(1.0, w[0]);
        Assert.Equal(1.0 + 2.0 / 128, w[1]);
        Assert.Equal(1.0 + 1.0 / 128, w[2]);
        Assert.Equal(Inf, w[4]);
        Assert.Equal(-Inf, w[5]);
        Assert.True(double.IsNegative(w[6]) && w[6] == 0);
        Assert.True(double.IsNaN(w[7]));
        Assert.Equal(-3.140625, w[8]);
    }

    /// <summary>Copy walks both views in row-major logical order (a transposed source, an offset destination).
    /// </summary>
    [Fact]
    public void Copy_TransposedSourceIntoOffsetDestination()
    {
        var x = Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6);
        var transposed = new TensorView(x.Buffer, new Shape(3, 2), [1, 3], 0);
        var y = Make(DType.Float32, [8], 0, 0, 0, 0, 0, 0, 0, 0);
        backend.Copy(transposed, new TensorView(y.Buffer, new Shape(3, 2), [2, 1], 2));
        Assert.Equal([0, 0, 1, 4, 2, 5, 3, 6], Read(y));
        Assert.Throws<ShapeMismatchException>(() => backend.Copy(x, Empty(DType.Float64, [3, 2])));
    }

    // ---- elementwise -----------------------------------------------------------------------------------------

    /// <summary>Every unary op at points with known values, in float64.</summary>
    [Fact]
    public void Unary_MatchesAnalyticValues()
    {
        CheckUnary(UnaryOp.Neg, default, [2, -0.5, 0], [-2, 0.5, 0]);
        CheckUnary(UnaryOp.Exp, default, [0, 1, Ln2, -Inf], [1, Math.E, 2, 0]);
        CheckUnary(UnaryOp.Log, default, [1, Math.E, 0, -1], [0, 1, -Inf, NaN]);
        CheckUnary(UnaryOp.Sqrt, default, [4, 2, 0, -1], [2, Math.Sqrt(2), 0, NaN]);
        CheckUnary(UnaryOp.Rsqrt, default, [4, 0.25, 0], [0.5, 2, Inf]);
        CheckUnary(UnaryOp.Pow, new UnaryParams(3), [-2, 0.5, -1], [-8, 0.125, -1]);
        CheckUnary(UnaryOp.Pow, new UnaryParams(2), [-3, 1.5], [9, 2.25]);
        CheckUnary(UnaryOp.Pow, new UnaryParams(-1.5), [4], [0.125]);
        CheckUnary(UnaryOp.Pow, new UnaryParams(0.5), [-4, 9], [NaN, 3]);
        CheckUnary(UnaryOp.Tanh, default, [0, Ln2, -Inf], [0, 0.6, -1]);   // tanh(ln 2) = (4 - 1)/(4 + 1)
        CheckUnary(UnaryOp.Sigmoid, default, [0, Ln3, -Ln3, 800, -800], [0.5, 0.75, 0.25, 1, 0]);
        CheckUnary(UnaryOp.Relu, default, [-1, 0, 2.5, NaN], [0, 0, 2.5, NaN]);
        CheckUnary(UnaryOp.GeluTanh, default, [0, 1, -1, 2, 0.5, -40],
            [0, 0.8411919906082767047819957770451838608258, -0.1588080093917232952180042229548161391742,
             1.954597694087775018781041386150719039642, 0.3457140098251439220377572573645232197679, 0]);
        CheckUnary(UnaryOp.Abs, default, [-3, 0, 2], [3, 0, 2]);
        CheckUnary(UnaryOp.Clamp, new UnaryParams(-1, 2), [-5, -1, 0.5, 2, 7, NaN], [-1, -1, 0.5, 2, 2, NaN]);
        CheckUnary(UnaryOp.Clamp, new UnaryParams(NaN, 2), [-5, 7], [-5, 2]);
        CheckUnary(UnaryOp.Clamp, new UnaryParams(0, NaN), [-5, 7], [0, 7]);
        CheckUnary(UnaryOp.Affine, new UnaryParams(3, -1), [0, 2, -0.5], [-1, 5, -2.5]);
        CheckUnary(UnaryOp.Square, default, [-3, 0.5], [9, 0.25]);
    }

    /// <summary>float32 results are the float64 result rounded once; strides and offsets are honoured.</summary>
    [Fact]
    public void Unary_Float32AndStridedViews()
    {
        var x = Make(DType.Float32, [1], 1);
        var y = Empty(DType.Float32, [1]);
        backend.Unary(UnaryOp.Exp, x, y, default);
        Assert.Equal((double)(float)Math.E, Read(y)[0]);

        // x is the transpose of a (2, 3) block stored at offset 1; y is written contiguously.
        var store = Make(DType.Float64, [7], 99, 1, 2, 3, 4, 5, 6);
        var xt = new TensorView(store.Buffer, new Shape(3, 2), [1, 3], 1);
        var yt = Empty(DType.Float64, [3, 2]);
        backend.Unary(UnaryOp.Square, xt, yt, default);
        Assert.Equal([1, 16, 4, 25, 9, 36], Read(yt));

        // In place on identical views.
        backend.Unary(UnaryOp.Affine, yt, yt, new UnaryParams(0.5, 1));
        Assert.Equal([1.5, 9, 3, 13.5, 5.5, 19], Read(yt));
    }

    /// <summary>Derivatives from the documented inputs, including PyTorch's conventions at kinks.</summary>
    [Fact]
    public void UnaryBackward_MatchesAnalyticDerivatives()
    {
        // (op, params, x, y used by the kernel, dy, expected dx)
        CheckBackward(UnaryOp.Neg, default, [1, 2], [-1, -2], [3, -4], [-3, 4]);
        CheckBackward(UnaryOp.Exp, default, [0, Ln2], [1, 2], [1, 3], [1, 6]);
        CheckBackward(UnaryOp.Log, default, [2, 0.5], [Ln2, -Ln2], [1, 3], [0.5, 6]);
        CheckBackward(UnaryOp.Sqrt, default, [4, 0], [2, 0], [1, 1], [0.25, Inf]);
        CheckBackward(UnaryOp.Rsqrt, default, [4], [0.5], [2], [-0.125]);           // -x^-1.5/2·dy
        CheckBackward(UnaryOp.Pow, new UnaryParams(3), [-2, 0.5], [-8, 0.125], [1, 2], [12, 1.5]);
        CheckBackward(UnaryOp.Pow, new UnaryParams(-1.5), [4], [0.125], [1], [-1.5 / 32]);
        CheckBackward(UnaryOp.Pow, new UnaryParams(0), [0, -3], [1, 1], [5, 5], [0, 0]);
        CheckBackward(UnaryOp.Tanh, default, [Ln2], [0.6], [2], [2 * 0.64]);
        CheckBackward(UnaryOp.Sigmoid, default, [Ln3], [0.75], [4], [0.75]);
        CheckBackward(UnaryOp.Relu, default, [-1, 0, 3, NaN], [0, 0, 3, NaN], [5, 5, 5, 5], [0, 0, 5, 5]);
        CheckBackward(UnaryOp.GeluTanh, default, [0, 1, -1, 0.5], [0, 0, 0, 0], [1, 1, 2, 1],
            [0.5, 1.082964083845782555139642418669600758172, 2 * -0.08296408384578255513964241866960075817221,
             0.8673699035346423115601709461518126513837]);
        CheckBackward(UnaryOp.Abs, default, [-2, 0, 3, -0.0], [2, 0, 3, 0], [5, 5, 5, 5], [-5, 0, 5, 0]);
        CheckBackward(UnaryOp.Clamp, new UnaryParams(-1, 2), [-1.5, -1, 0, 2, 2.5], [-1, -1, 0, 2, 2],
            [7, 7, 7, 7, 7], [0, 7, 7, 7, 0]);
        CheckBackward(UnaryOp.Clamp, new UnaryParams(NaN, NaN), [-9, 9], [-9, 9], [1, 2], [1, 2]);
        CheckBackward(UnaryOp.Affine, new UnaryParams(-3, 10), [1], [7], [2], [-6]);
        CheckBackward(UnaryOp.Square, default, [-1.5], [2.25], [2], [-6]);
    }

    /// <summary>Every derivative agrees with a central difference of the forward kernel (away from kinks).</summary>
    [Theory]
    [InlineData(UnaryOp.Exp, 0.0, 0.0)]
    [InlineData(UnaryOp.Log, 0.0, 0.0)]
    [InlineData(UnaryOp.Sqrt, 0.0, 0.0)]
    [InlineData(UnaryOp.Rsqrt, 0.0, 0.0)]
    [InlineData(UnaryOp.Pow, 2.5, 0.0)]
    [InlineData(UnaryOp.Tanh, 0.0, 0.0)]
    [InlineData(UnaryOp.Sigmoid, 0.0, 0.0)]
    [InlineData(UnaryOp.Relu, 0.0, 0.0)]
    [InlineData(UnaryOp.GeluTanh, 0.0, 0.0)]
    [InlineData(UnaryOp.Abs, 0.0, 0.0)]
    [InlineData(UnaryOp.Clamp, 0.2, 1.7)]
    [InlineData(UnaryOp.Square, 0.0, 0.0)]
    public void UnaryBackward_AgreesWithCentralDifferences(UnaryOp op, double a, double b)
    {
        double[] points = [0.3, 0.9, 1.3, 2.6];
        var p = new UnaryParams(a, b);
        var x = Make(DType.Float64, [points.Length], points);
        var y = Empty(DType.Float64, [points.Length]);
        backend.Unary(op, x, y, p);
        var dx = Empty(DType.Float64, [points.Length]);
        backend.UnaryBackward(op, x, y, Make(DType.Float64, [points.Length], 1, 1, 1, 1), dx, p);
        var grad = Read(dx);
        const double h = 1e-6;
        for (var i = 0; i < points.Length; i++)
        {
            var plus = Apply(op, p, points[i] + h);
            var minus = Apply(op, p, points[i] - h);
            Near((plus - minus) / (2 * h), grad[i], rel: 1e-8, abs: 1e-9);
        }
    }

    /// <summary>Binary ops read broadcast operands through zero strides; maximum/minimum propagate NaN.</summary>
    [Fact]
    public void Binary_BroadcastsThroughZeroStrides()
    {
        var a = Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6);
        var row = Make(DType.Float64, [3], 10, -20, 0.5);
        var b = new TensorView(row.Buffer, new Shape(2, 3), [0, 1], 0);
        var y = Empty(DType.Float64, [2, 3]);
        backend.Binary(BinaryOp.Add, a, b, y);
        Assert.Equal([11, -18, 3.5, 14, -15, 6.5], Read(y));
        backend.Binary(BinaryOp.Sub, a, b, y);
        Assert.Equal([-9, 22, 2.5, -6, 25, 5.5], Read(y));
        backend.Binary(BinaryOp.Mul, a, b, y);
        Assert.Equal([10, -40, 1.5, 40, -100, 3], Read(y));
        backend.Binary(BinaryOp.Div, a, b, y);
        Assert.Equal([0.1, -0.1, 6, 0.4, -0.25, 12], Read(y));

        var p = Make(DType.Float64, [4], 1, NaN, -2, 0);
        var q = Make(DType.Float64, [4], 3, 1, NaN, -0.5);
        var m = Empty(DType.Float64, [4]);
        backend.Binary(BinaryOp.Maximum, p, q, m);
        AllNear([3, NaN, NaN, 0], Read(m));
        backend.Binary(BinaryOp.Minimum, p, q, m);
        AllNear([1, NaN, NaN, -0.5], Read(m));

        var ones = Make(DType.Float64, [1], 1);
        var scalarBroadcast = new TensorView(ones.Buffer, new Shape(4), [0], 0);
        backend.Binary(BinaryOp.Div, scalarBroadcast, Make(DType.Float64, [4], 0, -0.0, 4, Inf), m);
        Assert.Equal([Inf, -Inf, 0.25, 0], Read(m));

        var ints = Empty(DType.Int32, [2]);
        backend.Binary(BinaryOp.Sub, Make(DType.Int32, [2], 5, -7), Make(DType.Int32, [2], 8, 2), ints);
        Assert.Equal([-3, -9], Read(ints));
    }

    /// <summary>Comparisons write bools; NaN compares unequal to everything, itself included.</summary>
    [Fact]
    public void Compare_WritesBoolsWithIeeeNaN()
    {
        var a = Make(DType.Float64, [4], 1, 2, NaN, -0.0);
        var b = Make(DType.Float64, [4], 2, 2, NaN, 0);
        var y = Empty(DType.Bool, [4]);
        backend.Compare(CompareOp.Equal, a, b, y);
        Assert.Equal([0, 1, 0, 1], Read(y));
        backend.Compare(CompareOp.NotEqual, a, b, y);
        Assert.Equal([1, 0, 1, 0], Read(y));
        backend.Compare(CompareOp.Less, a, b, y);
        Assert.Equal([1, 0, 0, 0], Read(y));
        backend.Compare(CompareOp.LessEqual, a, b, y);
        Assert.Equal([1, 1, 0, 1], Read(y));
        backend.Compare(CompareOp.Greater, a, b, y);
        Assert.Equal([0, 0, 0, 0], Read(y));
        backend.Compare(CompareOp.GreaterEqual, a, b, y);
        Assert.Equal([0, 1, 0, 1], Read(y));

        var ids = Make(DType.Int32, [3], -100, 4, -100);
        var ignore = Make(DType.Int32, [1], -100);
        var valid = Empty(DType.Bool, [3]);
        backend.Compare(CompareOp.NotEqual, ids, new TensorView(ignore.Buffer, new Shape(3), [0], 0), valid);
        Assert.Equal([0, 1, 0], Read(valid));
        Assert.Throws<DTypeMismatchException>(() => backend.Compare(CompareOp.Equal, a, b, Empty(DType.Int32, [4])));
    }

    /// <summary>where(cond, a, b) with a broadcast condition and a broadcast scalar.</summary>
    [Fact]
    public void Where_SelectsWithBroadcastCondition()
    {
        var cond = Make(DType.Bool, [2, 1], 1, 0);
        var a = Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6);
        var fill = Make(DType.Float64, [1], -Inf);
        var y = Empty(DType.Float64, [2, 3]);
        backend.Where(new TensorView(cond.Buffer, new Shape(2, 3), [1, 0], 0), a,
            new TensorView(fill.Buffer, new Shape(2, 3), [0, 0], 0), y);
        Assert.Equal([1, 2, 3, -Inf, -Inf, -Inf], Read(y));
        Assert.Throws<DTypeMismatchException>(() => backend.Where(a, a, a, y));
    }

    // ---- reductions --------------------------------------------------------------------------------------------

    /// <summary>Sum, mean, max, min and logsumexp along each axis of a (2, 3) tensor.</summary>
    [Fact]
    public void Reduce_AlongEachAxis()
    {
        var x = Make(DType.Float64, [2, 3], 1, 5, 3, 4, -2, 6);
        CheckReduce(ReduceOp.Sum, x, 0, [5, 3, 9]);
        CheckReduce(ReduceOp.Sum, x, 1, [9, 8]);
        CheckReduce(ReduceOp.Mean, x, 0, [2.5, 1.5, 4.5]);
        CheckReduce(ReduceOp.Mean, x, -1, [3, 8.0 / 3]);
        CheckReduce(ReduceOp.Max, x, 0, [4, 5, 6]);
        CheckReduce(ReduceOp.Max, x, 1, [5, 6]);
        CheckReduce(ReduceOp.Min, x, 0, [1, -2, 3]);
        CheckReduce(ReduceOp.Min, x, 1, [1, -2]);
        CheckReduce(ReduceOp.LogSumExp, Make(DType.Float64, [2, 2], 0, Ln3, Ln2, Ln2), 1, [Math.Log(4), Ln2 + Ln2]);
        CheckReduce(ReduceOp.LogSumExp, Make(DType.Float64, [2, 2], 0, Ln3, Ln2, Ln2), 0, [Ln3, Math.Log(5)]);

        // Transposed input (strides [1, 2] over a (3, 2) store).
        var store = Make(DType.Float64, [6], 1, 2, 3, 4, 5, 6);
        CheckReduce(ReduceOp.Sum, new TensorView(store.Buffer, new Shape(2, 3), [1, 2], 0), 1, [9, 12]);

        // Float64 sums are compensated: 1e16 + 1 - 1e16 is 1, not 0.
        CheckReduce(ReduceOp.Sum, Make(DType.Float64, [3], 1e16, 1, -1e16), 0, [1]);
    }

    /// <summary>logsumexp with −∞ entries, an all −∞ row, huge values, +∞ and NaN; empty axes.</summary>
    [Fact]
    public void Reduce_EdgeValuesAndEmptyAxes()
    {
        var x = Make(DType.Float64, [6, 3],
            -Inf, 0, Ln3,
            -Inf, -Inf, -Inf,
            1000, 1000, -Inf,
            -1e9, 0, -1e9,
            Inf, 0, 1,
            NaN, 0, 1);
        CheckReduce(ReduceOp.LogSumExp, x, 1, [Math.Log(4), -Inf, 1000 + Ln2, 0, Inf, NaN]);
        CheckReduce(ReduceOp.Max, x, 1, [Ln3, -Inf, 1000, 0, Inf, NaN]);
        CheckReduce(ReduceOp.Min, x, 1, [-Inf, -Inf, -Inf, -1e9, 0, NaN]);

        var empty = Make(DType.Float64, [2, 0]);
        CheckReduce(ReduceOp.Sum, empty, 1, [0, 0]);
        CheckReduce(ReduceOp.Mean, empty, 1, [NaN, NaN]);
        CheckReduce(ReduceOp.LogSumExp, empty, 1, [-Inf, -Inf]);
        Assert.Throws<InvalidShapeException>(
            () => backend.Reduce(ReduceOp.Max, empty, 1, Empty(DType.Float64, [2, 1])));
        Assert.Throws<AxisException>(() => backend.Reduce(ReduceOp.Sum, empty, 2, Empty(DType.Float64, [2, 1])));
        Assert.Throws<ShapeMismatchException>(() => backend.Reduce(ReduceOp.Sum, x, 1, Empty(DType.Float64, [6])));
    }

    /// <summary>Max/min with index: the first extreme wins ties; a NaN is the extreme for both (first NaN).</summary>
    [Fact]
    public void ReduceWithIndex_FirstExtremeAndNaN()
    {
        var x = Make(DType.Float64, [3, 4],
            1, 3, 3, 2,
            2, 1, 5, 1,
            1, NaN, 5, NaN);
        var values = Empty(DType.Float64, [3, 1]);
        var indices = Empty(DType.Int32, [3, 1]);
        backend.ReduceWithIndex(ReduceOp.Max, x, 1, values, indices);
        AllNear([3, 5, NaN], Read(values));
        Assert.Equal([1, 2, 1], Read(indices));
        backend.ReduceWithIndex(ReduceOp.Min, x, 1, values, indices);
        AllNear([1, 1, NaN], Read(values));
        Assert.Equal([0, 1, 1], Read(indices));

        var columns = Empty(DType.Float64, [1, 4]);
        var columnIndices = Empty(DType.Int32, [1, 4]);
        backend.ReduceWithIndex(ReduceOp.Max, x, 0, columns, columnIndices);
        AllNear([2, NaN, 5, NaN], Read(columns));
        Assert.Equal([1, 2, 1, 2], Read(columnIndices));
        Assert.Throws<DTypeMismatchException>(
            () => backend.ReduceWithIndex(ReduceOp.Max, x, 1, values, Empty(DType.Float64, [3, 1])));
    }

    // ---- matmul ------------------------------------------------------------------------------------------------

    /// <summary>2×3 · 3×2 over a batch of two, with b stored transposed and broadcast over the batch by a zero
    /// stride; alpha scales; beta = 0 ignores c (even NaN); beta ≠ 0 accumulates.</summary>
    [Fact]
    public void MatMul_TransposedStridesBroadcastBatchAlphaBeta()
    {
        var a = Make(DType.Float64, [2, 2, 3],
            1, 2, 3, 4, 5, 6,
            -1, 0, 1, 2, -2, 0.5);
        // bᵀ = [[1, 0, 2], [-1, 3, 1]] stored (N, K); viewed as (batch, K, N) with strides [0, 1, 3].
        var bt = Make(DType.Float64, [2, 3], 1, 0, 2, -1, 3, 1);
        var b = new TensorView(bt.Buffer, new Shape(2, 3, 2), [0, 1, 3], 0);
        var c = Make(DType.Float64, [2, 2, 2], NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN);

        backend.MatMul(a, b, c, 2, 0);
        Assert.Equal([14, 16, 32, 34, 2, 4, 6, -15], Read(c));   // 2·[[7, 8], [16, 17]], 2·[[1, 2], [3, -7.5]]

        backend.MatMul(a, b, c, 1, -0.5);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0], Read(c));

        // K = 0: the product is empty, c = beta·c.
        var c2 = Make(DType.Float64, [2, 2], 1, 2, 3, 4);
        backend.MatMul(Make(DType.Float64, [2, 0]), Make(DType.Float64, [0, 2]), c2, 1, 3);
        Assert.Equal([3, 6, 9, 12], Read(c2));

        // Float32 operands, transposed a (stored (K, M)).
        var at = Make(DType.Float32, [3, 2], 1, 4, 2, 5, 3, 6);
        var c3 = Empty(DType.Float32, [2, 2]);
        backend.MatMul(new TensorView(at.Buffer, new Shape(2, 3), [1, 2], 0),
            Make(DType.Float32, [3, 2], 1, -1, 0, 3, 2, 1), c3, 1, 0);
        Assert.Equal([7, 8, 16, 17], Read(c3));

        Assert.Throws<ShapeMismatchException>(
            () => backend.MatMul(a, Make(DType.Float64, [2, 2, 2], 0, 0, 0, 0, 0, 0, 0, 0), c, 1, 0));
        Assert.Throws<DTypeMismatchException>(() => backend.MatMul(a, b, Empty(DType.Float32, [2, 2, 2]), 1, 0));
    }

    // ---- softmax, RMSNorm, cross-entropy ------------------------------------------------------------------------

    /// <summary>softmax([0, ln 2]) = [1/3, 2/3]; −∞ entries give 0; an all −∞ row is NaN; large logits are
    /// stable.</summary>
    [Fact]
    public void Softmax_AnalyticValuesAndEdges()
    {
        var x = Make(DType.Float64, [4, 2],
            0, Ln2,
            -Inf, 0,
            -Inf, -Inf,
            1000, 1001);
        var y = Empty(DType.Float64, [4, 2]);
        backend.Softmax(x, y, log: false);
        var e = Math.E;
        AllNear([1.0 / 3, 2.0 / 3, 0, 1, NaN, NaN, 1 / (1 + e), e / (1 + e)], Read(y));

        backend.Softmax(x, y, log: true);
        AllNear([-Ln3, Ln2 - Ln3, -Inf, 0, NaN, NaN, -Math.Log(1 + e), 1 - Math.Log(1 + e)], Read(y));

        // In place, and a row of length 1.
        var single = Make(DType.Float64, [3, 1], -5, 0, 7);
        backend.Softmax(single, single, log: false);
        Assert.Equal([1, 1, 1], Read(single));
    }

    /// <summary>Backward: softmax dx = y·(dy − Σ dy·y); log-softmax dx = dy − e^y·Σ dy.</summary>
    [Fact]
    public void SoftmaxBackward_AnalyticValues()
    {
        var y = Make(DType.Float64, [1, 2], 1.0 / 3, 2.0 / 3);
        var dy = Make(DType.Float64, [1, 2], 1, 0);
        var dx = Empty(DType.Float64, [1, 2]);
        backend.SoftmaxBackward(y, dy, dx, log: false);
        AllNear([2.0 / 9, -2.0 / 9], Read(dx));

        var logY = Make(DType.Float64, [2, 2], -Ln3, Ln2 - Ln3, -Inf, 0);
        var dyLog = Make(DType.Float64, [2, 2], 1, 0, 0, 3);
        var dxLog = Empty(DType.Float64, [2, 2]);
        backend.SoftmaxBackward(logY, dyLog, dxLog, log: true);
        AllNear([2.0 / 3, -2.0 / 3, 0, 0], Read(dxLog));
    }

    /// <summary>RMSNorm against y = w·x/√(mean x² + eps), with a tiny row where eps matters.</summary>
    [Fact]
    public void RmsNorm_MatchesFormula()
    {
        const double eps = 1e-6;
        var x = Make(DType.Float64, [2, 2], 3, 4, 1e-4, -2e-4);
        var w = Make(DType.Float64, [2], 2, 0.5);
        var y = Empty(DType.Float64, [2, 2]);
        var rstd = Empty(DType.Float64, [2]);
        backend.RmsNorm(x, w, y, rstd, eps);
        var r0 = 1 / Math.Sqrt(12.5 + eps);
        var r1 = 1 / Math.Sqrt(2.5e-8 + eps);
        AllNear([r0, r1], Read(rstd));
        AllNear([2 * 3 * r0, 0.5 * 4 * r0, 2 * 1e-4 * r1, 0.5 * -2e-4 * r1], Read(y));
        Near(0.282842701160911189598042038683225145957, Read(rstd)[0]);
    }

    /// <summary>RMSNorm backward against the closed form and against central differences of the forward.</summary>
    [Fact]
    public void RmsNormBackward_MatchesFormulaAndCentralDifferences()
    {
        const double eps = 1e-6;
        double[] xs = [0.3, -1.2, 2.0, 1e-3, -2e-3, 5e-4];
        double[] ws = [1.5, -0.5, 0.25];
        double[] dys = [0.7, -0.1, 0.4, 1.0, -2.0, 0.5];
        var x = Make(DType.Float64, [2, 3], xs);
        var w = Make(DType.Float64, [3], ws);
        var y = Empty(DType.Float64, [2, 3]);
        var rstd = Empty(DType.Float64, [2]);
        backend.RmsNorm(x, w, y, rstd, eps);
        var dx = Empty(DType.Float64, [2, 3]);
        var dw = Empty(DType.Float64, [3]);
        backend.RmsNormBackward(x, w, rstd, Make(DType.Float64, [2, 3], dys), dx, dw);
        var gx = Read(dx);
        var gw = Read(dw);

        var expectedDw = new double[3];
        for (var r = 0; r < 2; r++)
        {
            var ms = (xs[3 * r] * xs[3 * r] + xs[3 * r + 1] * xs[3 * r + 1] + xs[3 * r + 2] * xs[3 * r + 2]) / 3;
            var inv = 1 / Math.Sqrt(ms + eps);
            var dot = 0.0;
            for (var j = 0; j < 3; j++)
                dot += ws[j] * dys[3 * r + j] * xs[3 * r + j];
            for (var j = 0; j < 3; j++)
            {
                Near(inv * ws[j] * dys[3 * r + j] - inv * inv * inv / 3 * xs[3 * r + j] * dot, gx[3 * r + j],
                    rel: 1e-13, abs: 1e-13);
                expectedDw[j] += dys[3 * r + j] * xs[3 * r + j] * inv;
            }
        }
        AllNear(expectedDw, gw, rel: 1e-13);

        // L = Σ dy·y; perturb each input by ±h.
        double Loss(double[] xv, double[] wv)
        {
            var yy = Empty(DType.Float64, [2, 3]);
            backend.RmsNorm(Make(DType.Float64, [2, 3], xv), Make(DType.Float64, [3], wv), yy,
                Empty(DType.Float64, [2]), eps);
            return Read(yy).Zip(dys, (a, b) => a * b).Sum();
        }
        for (var i = 0; i < xs.Length; i++)
        {
            var h = Math.Max(1e-7, Math.Abs(xs[i]) * 1e-5);
            var plus = (double[])xs.Clone();
            var minus = (double[])xs.Clone();
            plus[i] += h;
            minus[i] -= h;
            Near((Loss(plus, ws) - Loss(minus, ws)) / (2 * h), gx[i], rel: 1e-5, abs: 1e-6);
        }
        for (var j = 0; j < ws.Length; j++)
        {
            var plus = (double[])ws.Clone();
            var minus = (double[])ws.Clone();
            plus[j] += 1e-6;
            minus[j] -= 1e-6;
            Near((Loss(xs, plus) - Loss(xs, minus)) / 2e-6, gw[j], rel: 1e-7, abs: 1e-9);
        }
    }

    /// <summary>Cross-entropy parts and gradient with an ignored row (nll 0, its nll gradient dropped, its lse
    /// gradient kept) and a −∞ logit.</summary>
    [Fact]
    public void CrossEntropy_IgnoredRowAndGradient()
    {
        var logits = Make(DType.Float64, [3, 3],
            0, Ln2, Ln3,
            1, 1, 1,
            0, 0, -Inf);
        var targets = Make(DType.Int32, [3], 2, -100, 0);
        var nll = Empty(DType.Float64, [3]);
        var lse = Empty(DType.Float64, [3]);
        backend.CrossEntropy(logits, targets, nll, lse, ignoreIndex: -100);
        AllNear([Math.Log(6), 1 + Ln3, Ln2], Read(lse));
        AllNear([Math.Log(6) - Ln3, 0, Ln2], Read(nll));

        var dlogits = Empty(DType.Float64, [3, 3]);
        backend.CrossEntropyBackward(logits, targets, lse, Make(DType.Float64, [3], 1, 5, 2),
            Make(DType.Float64, [3], 0, 0.5, 0.25), dlogits, ignoreIndex: -100);
        AllNear(
        [
            1.0 / 6, 1.0 / 3, -0.5,              // softmax − onehot(2)
            0.5 / 3, 0.5 / 3, 0.5 / 3,           // ignored: only gLse·softmax
            2.25 * 0.5 - 2, 2.25 * 0.5, 0,       // (gNll + gLse)·p − gNll·onehot(0)
        ], Read(dlogits), rel: 1e-14, abs: 1e-16);
    }

    /// <summary>A target outside [0, V) that is not the ignore index throws, naming op, index, size and axis,
    /// before anything is written.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void CrossEntropy_RejectsOutOfRangeTargets(int bad)
    {
        var logits = Make(DType.Float64, [2, 3], 0, 0, 0, 0, 0, 0);
        var targets = Make(DType.Int32, [2], 1, bad);
        var nll = Make(DType.Float64, [2], 42, 42);
        var lse = Make(DType.Float64, [2], 42, 42);
        var error = Assert.Throws<TensorIndexException>(() => backend.CrossEntropy(logits, targets, nll, lse, -100));
        Assert.Equal("cross_entropy", error.Op);
        Assert.Contains($"index {bad} is out of range for axis 1 of size 3", error.Message, StringComparison.Ordinal);
        Assert.Equal([42, 42], Read(nll));
        Assert.Equal([42, 42], Read(lse));

        var backward = Assert.Throws<TensorIndexException>(() => backend.CrossEntropyBackward(logits, targets,
            lse, lse, lse, Empty(DType.Float64, [2, 3]), -100));
        Assert.Equal("cross_entropy_backward", backward.Op);

        // The ignore index itself may lie anywhere.
        backend.CrossEntropy(logits, targets, nll, lse, ignoreIndex: bad);
        AllNear([Ln3, 0], Read(nll));
    }

    // ---- indexing ----------------------------------------------------------------------------------------------

    /// <summary>gather along each axis with repeated indices and an index smaller than x off the axis.</summary>
    [Fact]
    public void Gather_RepeatedIndicesAlongEachAxis()
    {
        var x = Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6);
        var y = Empty(DType.Float64, [2, 3]);
        backend.Gather(x, 1, Make(DType.Int32, [2, 3], 2, 2, 0, 1, 1, 1), y);
        Assert.Equal([3, 3, 1, 5, 5, 5], Read(y));

        var y0 = Empty(DType.Float64, [2, 2]);
        backend.Gather(x, 0, Make(DType.Int32, [2, 2], 1, 0, 1, 1), y0);
        Assert.Equal([4, 2, 4, 5], Read(y0));

        var y1 = Empty(DType.Float64, [1, 4]);
        backend.Gather(x, -1, Make(DType.Int32, [1, 4], 0, 2, 2, 1), y1);
        Assert.Equal([1, 3, 3, 2], Read(y1));
    }

    /// <summary>scatter_add accumulates repeated indices; the source may be larger than the index.</summary>
    [Fact]
    public void ScatterAdd_AccumulatesRepeatedIndices()
    {
        var dest = Make(DType.Float64, [2, 3], 0, 0, 0, 0, 0, 0);
        backend.ScatterAdd(dest, 1, Make(DType.Int32, [2, 2], 0, 0, 2, 1),
            Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6));
        Assert.Equal([3, 0, 0, 0, 5, 4], Read(dest));

        var dest0 = Make(DType.Float32, [3, 2], 10, 10, 10, 10, 10, 10);
        backend.ScatterAdd(dest0, 0, Make(DType.Int32, [2, 2], 2, 2, 0, 2), Make(DType.Float32, [2, 2], 1, 2, 3, 4));
        Assert.Equal([13, 10, 10, 10, 11, 16], Read(dest0));
    }

    /// <summary>index_select and index_add with repeated indices along each axis.</summary>
    [Fact]
    public void IndexSelectAndIndexAdd_RepeatedIndices()
    {
        var x = Make(DType.Float64, [3, 2], 1, 2, 3, 4, 5, 6);
        var rows = Empty(DType.Float64, [3, 2]);
        backend.IndexSelect(x, 0, Make(DType.Int32, [3], 2, 0, 2), rows);
        Assert.Equal([5, 6, 1, 2, 5, 6], Read(rows));

        var cols = Empty(DType.Float64, [3, 2]);
        backend.IndexSelect(x, 1, Make(DType.Int32, [2], 1, 1), cols);
        Assert.Equal([2, 2, 4, 4, 6, 6], Read(cols));

        var none = Empty(DType.Float64, [0, 2]);
        backend.IndexSelect(x, 0, Make(DType.Int32, [0]), none);

        var dest = Make(DType.Float64, [3, 2], 0, 0, 0, 0, 0, 0);
        backend.IndexAdd(dest, 0, Make(DType.Int32, [3], 2, 0, 2), Make(DType.Float64, [3, 2], 1, 1, 2, 2, 3, 3));
        Assert.Equal([2, 2, 0, 0, 4, 4], Read(dest));

        var destCols = Make(DType.Float64, [2, 3], 0, 0, 0, 0, 0, 0);
        backend.IndexAdd(destCols, 1, Make(DType.Int32, [2], 1, 1), Make(DType.Float64, [2, 2], 1, 2, 3, 4));
        Assert.Equal([0, 3, 0, 0, 7, 0], Read(destCols));
    }

    /// <summary>Every index op validates every index (negative or ≥ size) and writes nothing on failure.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void IndexOps_RejectOutOfRangeIndices(int bad)
    {
        var x = Make(DType.Float64, [2, 3], 1, 2, 3, 4, 5, 6);
        var y = Make(DType.Float64, [2, 2], 7, 7, 7, 7);
        var index2d = Make(DType.Int32, [2, 2], 0, 1, 2, bad);
        ExpectIndexError("gather", bad, 3, 1, () => backend.Gather(x, 1, index2d, y));
        Assert.Equal([7, 7, 7, 7], Read(y));

        ExpectIndexError("scatter_add", bad, 3, 1,
            () => backend.ScatterAdd(x, 1, index2d, Make(DType.Float64, [2, 2], 1, 1, 1, 1)));
        Assert.Equal([1, 2, 3, 4, 5, 6], Read(x));

        var index1d = Make(DType.Int32, [2], 0, bad);
        ExpectIndexError("index_select", bad, 3, 1, () => backend.IndexSelect(x, 1, index1d, y));
        Assert.Equal([7, 7, 7, 7], Read(y));

        ExpectIndexError("index_add", bad, 3, 1, () => backend.IndexAdd(x, 1, index1d, y));
        Assert.Equal([1, 2, 3, 4, 5, 6], Read(x));

        var rowIndex = Make(DType.Int32, [2], 1, bad == 3 ? 2 : bad);
        ExpectIndexError("index_select", bad == 3 ? 2 : bad, 2, 0,
            () => backend.IndexSelect(x, 0, rowIndex, Empty(DType.Float64, [2, 3])));
    }

    /// <summary>top-k: sorted, ties to the lower index, NaN greater than everything; k = 0 and k = n.</summary>
    [Fact]
    public void TopK_SortedTiesToLowerIndexNaNLargest()
    {
        var x = Make(DType.Float64, [2, 5],
            1, 3, 3, 2, 3,
            1, NaN, 2, -Inf, 2);
        var values = Empty(DType.Float64, [2, 3]);
        var indices = Empty(DType.Int32, [2, 3]);
        backend.TopK(x, 3, largest: true, values, indices);
        AllNear([3, 3, 3, NaN, 2, 2], Read(values));
        Assert.Equal([1, 2, 4, 1, 2, 4], Read(indices));

        backend.TopK(x, 3, largest: false, values, indices);
        AllNear([1, 2, 3, -Inf, 1, 2], Read(values));
        Assert.Equal([0, 3, 1, 3, 0, 2], Read(indices));

        var all = Empty(DType.Float64, [2, 5]);
        var allIndices = Empty(DType.Int32, [2, 5]);
        backend.TopK(x, 5, largest: false, all, allIndices);
        AllNear([1, 2, 3, 3, 3, -Inf, 1, 2, 2, NaN], Read(all));
        Assert.Equal([0, 3, 1, 2, 4, 3, 0, 2, 4, 1], Read(allIndices));

        backend.TopK(x, 0, largest: true, Empty(DType.Float64, [2, 0]), Empty(DType.Int32, [2, 0]));
        Assert.Throws<InvalidShapeException>(
            () => backend.TopK(x, 6, largest: true, Empty(DType.Float64, [2, 6]), Empty(DType.Int32, [2, 6])));
    }

    // ---- random ------------------------------------------------------------------------------------------------

    /// <summary>Same (seed, offset) gives identical values; element i uses counter offset + i exactly as the Philox
    /// mappings define, so a fill at offset 3 is the tail of a fill at offset 0.</summary>
    [Theory]
    [InlineData(RandomKind.Uniform, DType.Float32)]
    [InlineData(RandomKind.Uniform, DType.Float64)]
    [InlineData(RandomKind.Normal, DType.Float32)]
    [InlineData(RandomKind.Normal, DType.Float64)]
    [InlineData(RandomKind.Bernoulli, DType.Float32)]
    [InlineData(RandomKind.Bernoulli, DType.Float64)]
    public void Random_ReproducibleAndOffsetConsistent(RandomKind kind, DType dtype)
    {
        const ulong seed = 0x5EED_1234_ABCDUL;
        double a = kind == RandomKind.Bernoulli ? 0.4 : -1.5, b = 2.5;
        var first = Empty(dtype, [13]);
        var second = Empty(dtype, [13]);
        var tail = Empty(dtype, [10]);
        backend.Random(kind, seed, 0, first, a, b);
        backend.Random(kind, seed, 0, second, a, b);
        backend.Random(kind, seed, 3, tail, a, b);
        var v = Read(first);
        Assert.Equal(v, Read(second));
        Assert.Equal(v[3..], Read(tail));

        var other = Empty(dtype, [13]);
        backend.Random(kind, seed + 1, 0, other, a, b);
        Assert.NotEqual(v, Read(other));

        for (var i = 0; i < v.Length; i++)
        {
            var e = (ulong)i;
            double expected = (kind, dtype) switch
            {
                (RandomKind.Uniform, DType.Float32) =>
                    (float)a + ((float)b - (float)a) * Philox.UniformFloat(seed, e),
                (RandomKind.Uniform, _) => a + (b - a) * Philox.UniformDouble(seed, e),
                (RandomKind.Normal, DType.Float32) => (float)(a + b * Philox.Normal(seed, e)),
                (RandomKind.Normal, _) => a + b * Philox.Normal(seed, e),
                _ => Philox.Bits32(seed, e) < Philox.Threshold(a) ? 1 : 0,
            };
            Assert.Equal(expected, v[i]);
        }
    }

    /// <summary>Sample moments over 100k draws agree with the distributions (5 standard errors).</summary>
    [Fact]
    public void Random_SampleMomentsWithinStatisticalTolerance()
    {
        const int n = 100_000;
        var uniform = Empty(DType.Float64, [n]);
        backend.Random(RandomKind.Uniform, 7, 11, uniform, -1, 3);
        var u = Read(uniform);
        Assert.All(u, v => Assert.InRange(v, -1, 3 - 1e-12));
        var uniformError = 5 * (4 / Math.Sqrt(12)) / Math.Sqrt(n);
        Assert.InRange(u.Average(), 1 - uniformError, 1 + uniformError);

        var uniform32 = Empty(DType.Float32, [n]);
        backend.Random(RandomKind.Uniform, 8, 0, uniform32, 0, 1);
        var u32 = Read(uniform32);
        Assert.All(u32, v => Assert.InRange(v, 0, 1 - 1e-9));
        Assert.InRange(u32.Average(), 0.5 - 5 / Math.Sqrt(12 * n), 0.5 + 5 / Math.Sqrt(12 * n));

        var normal = Empty(DType.Float64, [n]);
        backend.Random(RandomKind.Normal, 9, 0, normal, 2, 3);
        var z = Read(normal);
        var mean = z.Average();
        var variance = z.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        Assert.InRange(mean, 2 - 5 * 3 / Math.Sqrt(n), 2 + 5 * 3 / Math.Sqrt(n));
        Assert.InRange(variance, 9 - 5 * 9 * Math.Sqrt(2.0 / n), 9 + 5 * 9 * Math.Sqrt(2.0 / n));

        var bernoulli = Empty(DType.Float32, [n]);
        backend.Random(RandomKind.Bernoulli, 10, 0, bernoulli, 0.3, 0);
        var bits = Read(bernoulli);
        Assert.All(bits, v => Assert.True(v is 0 or 1));
        var sd = Math.Sqrt(0.3 * 0.7 / n);
        Assert.InRange(bits.Average(), 0.3 - 5 * sd, 0.3 + 5 * sd);

        var always = Empty(DType.Bool, [64]);
        backend.Random(RandomKind.Bernoulli, 1, 0, always, 1.0, 0);
        Assert.All(Read(always), v => Assert.Equal(1, v));
        backend.Random(RandomKind.Bernoulli, 1, 0, always, 0.0, 0);
        Assert.All(Read(always), v => Assert.Equal(0, v));
    }

    /// <summary>The destination of a random fill must be contiguous; uniform/normal need a float dtype.</summary>
    [Fact]
    public void Random_RejectsNonContiguousOrIntegerDestinations()
    {
        var store = Empty(DType.Float32, [2, 3]);
        var transposed = new TensorView(store.Buffer, new Shape(3, 2), [1, 3], 0);
        Assert.Throws<InvalidShapeException>(() => backend.Random(RandomKind.Uniform, 1, 0, transposed, 0, 1));
        Assert.Throws<DTypeMismatchException>(
            () => backend.Random(RandomKind.Normal, 1, 0, Empty(DType.Int32, [4]), 0, 1));
    }

    // ---- argument validation -----------------------------------------------------------------------------------

    /// <summary>Misuse throws typed errors instead of touching memory outside a buffer.</summary>
    [Fact]
    public void Validation_ThrowsTypedErrors()
    {
        var x = Make(DType.Float32, [2, 2], 1, 2, 3, 4);
        Assert.Throws<DTypeMismatchException>(
            () => backend.Unary(UnaryOp.Exp, x, Empty(DType.Float64, [2, 2]), default));
        Assert.Throws<DTypeMismatchException>(() => backend.Unary(UnaryOp.Exp, Make(DType.Int32, [1], 1),
            Empty(DType.Int32, [1]), default));
        Assert.Throws<ShapeMismatchException>(() => backend.Unary(UnaryOp.Exp, x, Empty(DType.Float32, [4]), default));
        Assert.Throws<ShapeMismatchException>(
            () => backend.Binary(BinaryOp.Add, x, Make(DType.Float32, [2], 1, 2), Empty(DType.Float32, [2, 2])));

        var outside = new TensorView(x.Buffer, new Shape(2, 2), [2, 1], 1);
        var error = Assert.Throws<TensorException>(() => backend.Fill(outside, 0));
        Assert.Equal("fill", error.Op);
        Assert.Contains("outside its buffer of 4 elements", error.Message, StringComparison.Ordinal);
        Assert.Throws<TensorException>(() => backend.Fill(new TensorView(x.Buffer, new Shape(2), [-1], 0), 0));
        Assert.Throws<InvalidShapeException>(() => backend.Fill(new TensorView(x.Buffer, new Shape(2), [1, 1], 0), 0));
        Assert.Equal([1, 2, 3, 4], Read(x));

        // A reversed view (negative stride) inside the buffer is fine.
        var reversed = new TensorView(x.Buffer, new Shape(4), [-1], 3);
        var y = Empty(DType.Float32, [4]);
        backend.Copy(reversed, y);
        Assert.Equal([4, 3, 2, 1], Read(y));

        using var foreign = new ForeignBuffer(backend);
        Assert.Throws<DeviceMismatchException>(
            () => backend.Fill(TensorView.Contiguous(foreign, new Shape(1)), 0));
        Assert.Throws<DeviceMismatchException>(() => backend.Upload(new byte[4], foreign, 0));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private IDeviceBuffer Track(IDeviceBuffer buffer)
    {
        buffers.Add(buffer);
        return buffer;
    }

    /// <summary>A contiguous tensor holding <paramref name="data"/> converted to <paramref name="dtype"/>.</summary>
    private TensorView Make(DType dtype, int[] shape, params double[] data)
    {
        var view = Empty(dtype, shape);
        Assert.Equal(view.NumElements, data.Length);
        byte[] bytes = dtype switch
        {
            DType.Float64 => MemoryMarshal.AsBytes(data.AsSpan()).ToArray(),
            DType.Float32 => MemoryMarshal.AsBytes(data.Select(v => (float)v).ToArray().AsSpan()).ToArray(),
            DType.Int32 => MemoryMarshal.AsBytes(data.Select(v => (int)v).ToArray().AsSpan()).ToArray(),
            DType.Bool => [.. data.Select(v => v != 0 ? (byte)1 : (byte)0)],
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "use MakeBits for bfloat16"),
        };
        backend.Upload(bytes, view.Buffer, 0);
        return view;
    }

    /// <summary>A contiguous bfloat16 tensor from raw 16-bit patterns.</summary>
    private TensorView MakeBits(int[] shape, params ushort[] bits)
    {
        var view = Empty(DType.BFloat16, shape);
        backend.Upload(MemoryMarshal.AsBytes(bits.AsSpan()), view.Buffer, 0);
        return view;
    }

    /// <summary>A contiguous tensor whose bytes are all 0xFF (NaN for floats), so unwritten elements show.</summary>
    private TensorView Empty(DType dtype, int[] shape)
    {
        var dims = new Shape(shape);
        var view = TensorView.Contiguous(Track(backend.Allocate(dtype, dims.NumElements)), dims);
        var bytes = new byte[view.Buffer.Bytes];
        Array.Fill(bytes, (byte)0xFF);
        backend.Upload(bytes, view.Buffer, 0);
        return view;
    }

    /// <summary>The view's elements in row-major order as doubles, decoded here from the raw buffer bytes.</summary>
    private double[] Read(TensorView view)
    {
        var raw = new byte[view.Buffer.Bytes];
        backend.Download(view.Buffer, 0, raw);
        var dtype = view.DType;
        double Element(long i) => dtype switch
        {
            DType.Float64 => BitConverter.ToDouble(raw, (int)(i * 8)),
            DType.Float32 => BitConverter.ToSingle(raw, (int)(i * 4)),
            DType.Int32 => BitConverter.ToInt32(raw, (int)(i * 4)),
            DType.Bool => raw[i],
            DType.BFloat16 => BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(raw, (int)(i * 2)) << 16),
            _ => throw new ArgumentOutOfRangeException(nameof(view), dtype, "unknown dtype"),
        };
        return [.. LogicalOffsets(view).Select(Element)];
    }

    /// <summary>The raw bit patterns of a bfloat16 view, row-major.</summary>
    private ushort[] ReadBits(in TensorView view)
    {
        var raw = new byte[view.Buffer.Bytes];
        backend.Download(view.Buffer, 0, raw);
        return [.. LogicalOffsets(view).Select(i => BitConverter.ToUInt16(raw, (int)(i * 2)))];
    }

    /// <summary>Element offsets of a view in row-major order, by unravelling each linear index.</summary>
    private static long[] LogicalOffsets(in TensorView view)
    {
        var offsets = new long[view.NumElements];
        var dims = view.Shape.ToArray();
        for (long linear = 0; linear < offsets.Length; linear++)
        {
            long rest = linear, offset = view.Offset;
            for (var k = dims.Length - 1; k >= 0; k--)
            {
                offset += rest % dims[k] * view.Strides[k];
                rest /= dims[k];
            }
            offsets[linear] = offset;
        }
        return offsets;
    }

    private void CheckUnary(UnaryOp op, UnaryParams p, double[] x, double[] expected)
    {
        var y = Empty(DType.Float64, [x.Length]);
        backend.Unary(op, Make(DType.Float64, [x.Length], x), y, p);
        AllNear(expected, Read(y), rel: 2e-16 * 8);
    }

    private void CheckBackward(UnaryOp op, UnaryParams p, double[] x, double[] y, double[] dy, double[] expected)
    {
        var n = x.Length;
        var dx = Empty(DType.Float64, [n]);
        backend.UnaryBackward(op, Make(DType.Float64, [n], x), Make(DType.Float64, [n], y),
            Make(DType.Float64, [n], dy), dx, p);
        AllNear(expected, Read(dx), rel: 1e-14, abs: 1e-300);
    }

    private double Apply(UnaryOp op, UnaryParams p, double x)
    {
        var y = Empty(DType.Float64, [1]);
        backend.Unary(op, Make(DType.Float64, [1], x), y, p);
        return Read(y)[0];
    }

    private void CheckReduce(ReduceOp op, TensorView x, int axis, double[] expected)
    {
        var a = axis < 0 ? axis + x.Rank : axis;
        var y = Empty(DType.Float64, x.Shape.With(a, 1).ToArray());
        backend.Reduce(op, x, axis, y);
        AllNear(expected, Read(y));
    }

    private static void ExpectIndexError(string op, int index, int size, int axis, Action action)
    {
        var error = Assert.Throws<TensorIndexException>(action);
        Assert.Equal(op, error.Op);
        Assert.Contains($"index {index} is out of range for axis {axis} of size {size}", error.Message,
            StringComparison.Ordinal);
    }

    /// <summary>|actual − expected| ≤ rel·|expected| + abs; NaN must be NaN, infinities must match exactly.</summary>
    private static void Near(double expected, double actual, double rel = 1e-14, double abs = 0)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.Equal(expected, actual);
            return;
        }
        Assert.True(Math.Abs(actual - expected) <= rel * Math.Abs(expected) + abs,
            $"expected {expected:R}, got {actual:R} (difference {actual - expected:R})");
    }

    private static void AllNear(double[] expected, double[] actual, double rel = 1e-14, double abs = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Near(expected[i], actual[i], rel, abs);
    }

    /// <summary>A buffer that is not host memory (it claims the reference backend but is not a CpuBuffer).</summary>
    private sealed class ForeignBuffer(IBackend owner) : IDeviceBuffer
    {
        public IBackend Backend { get; } = owner;

        public DType DType => DType.Float32;

        public long Length => 1;

        public void Dispose()
        {
        }
    }
}
