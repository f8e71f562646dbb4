// Unary ops and their derivatives on contiguous spans: TensorPrimitives where it has the op, hand-written
// Vector512 → Vector256 → scalar maps (tanh, GELU, ReLU′, tanh′, clamp′, ...) where it does not.
// Oracle: ReferenceBackend.Unary / UnaryBackward.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Forward and backward of every <see cref="UnaryOp"/> over contiguous spans (exact aliasing allowed).</summary>
internal static class UnaryKernels
{
    public static void Forward<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, UnaryParams p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = T.CreateChecked(p.A);
        var b = T.CreateChecked(p.B);
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: VectorMath.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Pow: Pow(x, y, p.A); break;
            case UnaryOp.Tanh: VectorMath.Tanh(x, y); break;
            case UnaryOp.Sigmoid: Sigmoid(x, y); break;
            case UnaryOp.Relu: Maps.Apply(x, y, new ReluMap<T>()); break;
            case UnaryOp.GeluTanh: Maps.Apply(x, y, new GeluMap<T>()); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Clamp:
                if (x != y)
                    x.CopyTo(y);
                if (!double.IsNaN(p.A))
                    TensorPrimitives.Max(y, a, y);
                if (!double.IsNaN(p.B))
                    TensorPrimitives.Min(y, b, y);
                break;
            case UnaryOp.Affine:
                TensorPrimitives.Multiply(x, a, y);
                TensorPrimitives.Add(y, b, y);
                break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            default: throw new NotSupportedException($"unary op {op}");
        }
    }

    // σ(x) = 1 / (1 + e^−x) over the lane-independent exp: TensorPrimitives.Sigmoid gives an element other bits in a
    // vector lane than in the scalar tail (e.g. float64 σ(−19)), so results depended on the element's position.
    private static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Negate(x, y);
        VectorMath.Exp(y, y);
        TensorPrimitives.Add(y, T.One, y);
        TensorPrimitives.Divide(T.One, y, y);
    }

    /// <summary>dx = dy · op′. <paramref name="x"/> is the op's input where the derivative needs it, <paramref name="y"/>
    /// its output where that is cheaper (exp, sqrt, rsqrt, tanh, sigmoid).</summary>
    public static void Backward<T>(UnaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx,
        UnaryParams p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = T.CreateChecked(p.A);
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(dy, dx); break;
            case UnaryOp.Exp: TensorPrimitives.Multiply(dy, y, dx); break;
            case UnaryOp.Log: TensorPrimitives.Divide(dy, x, dx); break;
            case UnaryOp.Sqrt: Maps.Apply(y, dy, dx, new SqrtGradMap<T>()); break;
            case UnaryOp.Rsqrt: Maps.Apply(y, dy, dx, new RsqrtGradMap<T>()); break;
            case UnaryOp.Pow: PowGrad(x, dy, dx, p.A); break;
            case UnaryOp.Tanh: Maps.Apply(y, dy, dx, new TanhGradMap<T>()); break;
            case UnaryOp.Sigmoid: Maps.Apply(y, dy, dx, new SigmoidGradMap<T>()); break;
            case UnaryOp.Relu: Maps.Apply(x, dy, dx, new ReluGradMap<T>()); break;
            case UnaryOp.GeluTanh: Maps.Apply(x, dy, dx, new GeluGradMap<T>()); break;
            case UnaryOp.Abs: Maps.Apply(x, dy, dx, new AbsGradMap<T>()); break;
            case UnaryOp.Clamp:
                Maps.Apply(x, dy, dx, new ClampGradMap<T>(
                    double.IsNaN(p.A) ? T.NegativeInfinity : a,
                    double.IsNaN(p.B) ? T.PositiveInfinity : T.CreateChecked(p.B)));
                break;
            case UnaryOp.Affine: TensorPrimitives.Multiply(dy, a, dx); break;
            case UnaryOp.Square: Maps.Apply(x, dy, dx, new SquareGradMap<T>()); break;
            default: throw new NotSupportedException($"unary op {op}");
        }
    }

    private static void Pow<T>(ReadOnlySpan<T> x, Span<T> y, double p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (p)
        {
            case 1: x.CopyTo(y); return;
            case 2: TensorPrimitives.Multiply(x, x, y); return;
            case 0.5: TensorPrimitives.Sqrt(x, y); return;
            case -0.5: TensorPrimitives.ReciprocalSqrt(x, y); return;
        }
        var e = T.CreateChecked(p);
        for (var i = 0; i < x.Length; i++)
            y[i] = T.Pow(x[i], e);
    }

    private static void PowGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, double p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = T.CreateChecked(p);
        var e1 = T.CreateChecked(p - 1);
        for (var i = 0; i < x.Length; i++)
            dx[i] = p switch
            {
                0 => T.Zero,
                1 => dy[i],
                2 => dy[i] * (x[i] + x[i]),
                _ => dy[i] * e * T.Pow(x[i], e1),
            };
    }

    // ---- maps ------------------------------------------------------------------------------------------------

    private readonly struct ReluMap<T> : IVectorMap1<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x) => x > T.Zero ? x : T.IsNaN(x) ? x : T.Zero;
        public Vector512<T> Apply(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<T>.Zero), Vector512<T>.Zero, x);
        public Vector256<T> Apply(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<T>.Zero), Vector256<T>.Zero, x);
    }

    // gelu(x) = 0.5·x·(1 + tanh(u)) = x·σ(2u), u = √(2/π)·(x + 0.044715·x³); the σ form has no cancellation.
    private readonly struct GeluMap<T> : IVectorMap1<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T TwoC = T.CreateChecked(2 * 0.7978845608028654);
        private static readonly T K = T.CreateChecked(0.044715);

        public T Apply(T x) => x * VectorMath.Sigmoid(TwoC * (x + K * x * x * x));
        public Vector512<T> Apply(Vector512<T> x) =>
            x * VectorMath.Sigmoid(Vector512.Create(TwoC) * (x + Vector512.Create(K) * x * x * x));
        public Vector256<T> Apply(Vector256<T> x) =>
            x * VectorMath.Sigmoid(Vector256.Create(TwoC) * (x + Vector256.Create(K) * x * x * x));
    }

    // d gelu/dx = s + 2·x·s·(1 − s)·u′ with s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²).
    private readonly struct GeluGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T C = T.CreateChecked(0.7978845608028654);
        private static readonly T TwoC = T.CreateChecked(2 * 0.7978845608028654);
        private static readonly T K = T.CreateChecked(0.044715);
        private static readonly T K3 = T.CreateChecked(3 * 0.044715);
        private static readonly T Two = T.CreateChecked(2);

        public T Apply(T x, T dy)
        {
            var s = VectorMath.Sigmoid(TwoC * (x + K * x * x * x));
            var du = C * (T.One + K3 * x * x);
            return dy * (s + Two * x * s * (T.One - s) * du);
        }

        public Vector512<T> Apply(Vector512<T> x, Vector512<T> dy)
        {
            var s = VectorMath.Sigmoid(Vector512.Create(TwoC) * (x + Vector512.Create(K) * x * x * x));
            var du = Vector512.Create(C) * (Vector512<T>.One + Vector512.Create(K3) * x * x);
            return dy * (s + Vector512.Create(Two) * x * s * (Vector512<T>.One - s) * du);
        }

        public Vector256<T> Apply(Vector256<T> x, Vector256<T> dy)
        {
            var s = VectorMath.Sigmoid(Vector256.Create(TwoC) * (x + Vector256.Create(K) * x * x * x));
            var du = Vector256.Create(C) * (Vector256<T>.One + Vector256.Create(K3) * x * x);
            return dy * (s + Vector256.Create(Two) * x * s * (Vector256<T>.One - s) * du);
        }
    }

    private readonly struct SqrtGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T Half = T.CreateChecked(0.5);

        public T Apply(T y, T dy) => dy * Half / y;
        public Vector512<T> Apply(Vector512<T> y, Vector512<T> dy) => dy * Vector512.Create(Half) / y;
        public Vector256<T> Apply(Vector256<T> y, Vector256<T> dy) => dy * Vector256.Create(Half) / y;
    }

    // d x^-1/2 = -1/2 x^-3/2 = -1/2 y³
    private readonly struct RsqrtGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T MinusHalf = T.CreateChecked(-0.5);

        public T Apply(T y, T dy) => dy * MinusHalf * y * y * y;
        public Vector512<T> Apply(Vector512<T> y, Vector512<T> dy) => dy * Vector512.Create(MinusHalf) * y * y * y;
        public Vector256<T> Apply(Vector256<T> y, Vector256<T> dy) => dy * Vector256.Create(MinusHalf) * y * y * y;
    }

    private readonly struct TanhGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T y, T dy) => dy * (T.One - y * y);
        public Vector512<T> Apply(Vector512<T> y, Vector512<T> dy) => dy * (Vector512<T>.One - y * y);
        public Vector256<T> Apply(Vector256<T> y, Vector256<T> dy) => dy * (Vector256<T>.One - y * y);
    }

    private readonly struct SigmoidGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T y, T dy) => dy * y * (T.One - y);
        public Vector512<T> Apply(Vector512<T> y, Vector512<T> dy) => dy * y * (Vector512<T>.One - y);
        public Vector256<T> Apply(Vector256<T> y, Vector256<T> dy) => dy * y * (Vector256<T>.One - y);
    }

    // relu′(0) = 0 (PyTorch)
    private readonly struct ReluGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x, T dy) => x > T.Zero ? dy : T.Zero;
        public Vector512<T> Apply(Vector512<T> x, Vector512<T> dy) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), dy, Vector512<T>.Zero);
        public Vector256<T> Apply(Vector256<T> x, Vector256<T> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy, Vector256<T>.Zero);
    }

    // |x|′ = sign(x), 0 at 0 (PyTorch)
    private readonly struct AbsGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x, T dy) => x > T.Zero ? dy : x < T.Zero ? -dy : T.Zero;
        public Vector512<T> Apply(Vector512<T> x, Vector512<T> dy) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), dy,
                Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -dy, Vector512<T>.Zero));
        public Vector256<T> Apply(Vector256<T> x, Vector256<T> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy,
                Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -dy, Vector256<T>.Zero));
    }

    // clamp passes the gradient for lo ≤ x ≤ hi, bounds included (PyTorch)
    private readonly struct ClampGradMap<T>(T lo, T hi) : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x, T dy) => x >= lo && x <= hi ? dy : T.Zero;
        public Vector512<T> Apply(Vector512<T> x, Vector512<T> dy) =>
            Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512.Create(lo))
                & Vector512.LessThanOrEqual(x, Vector512.Create(hi)), dy, Vector512<T>.Zero);
        public Vector256<T> Apply(Vector256<T> x, Vector256<T> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256.Create(lo))
                & Vector256.LessThanOrEqual(x, Vector256.Create(hi)), dy, Vector256<T>.Zero);
    }

    private readonly struct SquareGradMap<T> : IVectorMap2<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x, T dy) => dy * (x + x);
        public Vector512<T> Apply(Vector512<T> x, Vector512<T> dy) => dy * (x + x);
        public Vector256<T> Apply(Vector256<T> x, Vector256<T> dy) => dy * (x + x);
    }
}

/// <summary>A one-input elementwise function at three widths.</summary>
internal interface IVectorMap1<T> where T : unmanaged
{
    T Apply(T x);
    Vector512<T> Apply(Vector512<T> x);
    Vector256<T> Apply(Vector256<T> x);
}

/// <summary>A two-input elementwise function at three widths.</summary>
internal interface IVectorMap2<T> where T : unmanaged
{
    T Apply(T a, T b);
    Vector512<T> Apply(Vector512<T> a, Vector512<T> b);
    Vector256<T> Apply(Vector256<T> a, Vector256<T> b);
}

/// <summary>Applies maps over spans with the Vector512 → Vector256 → scalar ladder.</summary>
internal static class Maps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<T, TMap>(ReadOnlySpan<T> x, Span<T> y, TMap map)
        where T : unmanaged where TMap : struct, IVectorMap1<T>
    {
        ref var xr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref var yr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        var n = x.Length;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                map.Apply(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                map.Apply(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++)
            y[i] = map.Apply(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<T, TMap>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, TMap map)
        where T : unmanaged where TMap : struct, IVectorMap2<T>
    {
        ref var ar = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref var br = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        ref var yr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        var n = a.Length;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                map.Apply(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                map.Apply(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++)
            y[i] = map.Apply(a[i], b[i]);
    }
}
