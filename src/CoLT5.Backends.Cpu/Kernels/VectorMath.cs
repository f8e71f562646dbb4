// Generic SIMD helpers: width-agnostic loads/stores and transcendental functions for float and double vectors.
using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Exp/log on Vector512 and Vector256 of float or double, resolved at JIT time by type tests.</summary>
internal static class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector512.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return ExpDouble(x.AsDouble()).As<double, T>();
        throw new System.NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return ExpDouble(x.AsDouble()).As<double, T>();
        throw new System.NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x) where T : unmanaged, IExponentialFunctions<T> => T.Exp(x);

    /// <summary>e^x with the bits a vector lane gives (the vector function on a broadcast): what scalar tails use, so
    /// a value's result does not depend on its position.</summary>
    public static T ExpLikeALane<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector256.IsHardwareAccelerated ? Exp(Vector256.Create(x)).GetElement(0) : T.Exp(x);

    /// <summary>y = eˣ over a span (exact aliasing allowed): the vector ladder above, tails through it too.</summary>
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Maps.Apply(x, y, new ExpMap<T>());

    // NOTE: CoreLib's double Vector256/512.Exp computes a vector holding any lane with |x| > 708 (a mask value such
    // as −1e10 or double.MinValue, ±∞, NaN) in a fallback whose results for the *other* lanes differ by an ulp
    // between its precompiled and its re-JIT'd code (.NET 10, measured: a masked softmax row changed bit pattern once
    // tier-up replaced the code, at an unpredictable point of a run). Only |x| ≤ 700 reaches it here; the other lanes
    // take Math.Exp (which is 0, ∞ or NaN for them anyway), so every lane is independent of its neighbours and of the
    // JIT tier. The float version computes lane by lane and needs no guard.
    private const double VectorExpLimit = 700;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ExpDouble(Vector512<double> x)
    {
        var inRange = Vector512.LessThanOrEqual(Vector512.Abs(x), Vector512.Create(VectorExpLimit)).AsUInt64();
        if (inRange == Vector512<ulong>.AllBitsSet)
            return Vector512.Exp(x);
        var e = Vector512.Exp(Vector512.ConditionalSelect(inRange.AsDouble(), x, Vector512<double>.Zero));
        for (var i = 0; i < Vector512<double>.Count; i++)
        {
            if (inRange.GetElement(i) == 0)
                e = e.WithElement(i, Math.Exp(x.GetElement(i)));
        }
        return e;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpDouble(Vector256<double> x)
    {
        var inRange = Vector256.LessThanOrEqual(Vector256.Abs(x), Vector256.Create(VectorExpLimit)).AsUInt64();
        if (inRange == Vector256<ulong>.AllBitsSet)
            return Vector256.Exp(x);
        var e = Vector256.Exp(Vector256.ConditionalSelect(inRange.AsDouble(), x, Vector256<double>.Zero));
        for (var i = 0; i < Vector256<double>.Count; i++)
        {
            if (inRange.GetElement(i) == 0)
                e = e.WithElement(i, Math.Exp(x.GetElement(i)));
        }
        return e;
    }

    // The scalar tail runs the vector function on a broadcast too, so an element gets the same bits in the tail as in
    // a vector lane (CoreLib's vector exp and Math.Exp differ in the last ulp): a value's exp does not depend on its
    // position in the span, hence not on the shape or the threads' split.
    private readonly struct ExpMap<T> : IVectorMap1<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x) => ExpLikeALane(x);
        public Vector512<T> Apply(Vector512<T> x) => Exp(x);
        public Vector256<T> Apply(Vector256<T> x) => Exp(x);
    }

    /// <summary>y = tanh x over a span (exact aliasing allowed), accurate to a few ulps for every x, tiny ones included
    /// (TensorPrimitives.Tanh returns garbage below ~1e-7 in float32: 6e5 relative error at 9e-14, measured).</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Maps.Apply(x, y, new TanhMap<T>());

    // |x| < TanhSeriesLimit: the odd Taylor series x + c₃x³ + … + c₂₃x²³ (truncation < 2e-16 relative there);
    // above: 1 − 2/(e^{2|x|} + 1) with x's sign, which saturates to ±1 when the exp overflows and keeps NaN.
    private const double TanhSeriesLimit = 0.25;

    private readonly struct TanhMap<T> : IVectorMap1<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Apply(T x)
        {
            if (Vector256.IsHardwareAccelerated)
                return Apply(Vector256.Create(x)).GetElement(0);   // the lanes' bits, wherever x sits
            var a = T.Abs(x);
            if (a < TanhSeries<T>.Limit)
                return x + x * (x * x) * TanhSeries<T>.Tail(x * x);
            return T.CopySign(T.One - T.CreateChecked(2) / (T.Exp(a + a) + T.One), x);
        }

        public Vector512<T> Apply(Vector512<T> x)
        {
            var a = Vector512.Abs(x);
            var z = x * x;
            var tail = Vector512.Create(TanhSeries<T>.C[^1]);
            for (var i = TanhSeries<T>.C.Length - 2; i >= 0; i--)
                tail = tail * z + Vector512.Create(TanhSeries<T>.C[i]);
            var series = x + x * z * tail;
            var far = Vector512<T>.One - Vector512.Create(T.CreateChecked(2)) / (Exp(a + a) + Vector512<T>.One);
            var signed = Vector512.ConditionalSelect(Vector512.Create(T.NegativeZero), x, far);
            return Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TanhSeries<T>.Limit)), series, signed);
        }

        public Vector256<T> Apply(Vector256<T> x)
        {
            var a = Vector256.Abs(x);
            var z = x * x;
            var tail = Vector256.Create(TanhSeries<T>.C[^1]);
            for (var i = TanhSeries<T>.C.Length - 2; i >= 0; i--)
                tail = tail * z + Vector256.Create(TanhSeries<T>.C[i]);
            var series = x + x * z * tail;
            var far = Vector256<T>.One - Vector256.Create(T.CreateChecked(2)) / (Exp(a + a) + Vector256<T>.One);
            var signed = Vector256.ConditionalSelect(Vector256.Create(T.NegativeZero), x, far);
            return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(TanhSeries<T>.Limit)), series, signed);
        }
    }

    /// <summary>The Taylor coefficients of tanh after x: C[k] multiplies x^(2k+3), from the tangent numbers
    /// 1, 2, 16, 272, … (tanh x = Σ (−1)^(n−1) T_n x^(2n−1) / (2n−1)!), computed once in float64.</summary>
    private static class TanhSeries<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly T Limit = T.CreateChecked(TanhSeriesLimit);
        public static readonly T[] C = Coefficients(12);

        public static T Tail(T z)
        {
            var tail = C[^1];
            for (var i = C.Length - 2; i >= 0; i--)
                tail = tail * z + C[i];
            return tail;
        }

        private static T[] Coefficients(int terms)
        {
            var t = new double[terms + 1];                 // t[n] = T_n, the tangent numbers (Knuth–Buckholtz)
            t[1] = 1;
            for (var k = 2; k <= terms; k++)
                t[k] = (k - 1) * t[k - 1];
            for (var k = 2; k <= terms; k++)
            {
                for (var j = k; j <= terms; j++)
                    t[j] = (j - k) * t[j - 1] + (j - k + 2) * t[j];
            }
            var c = new T[terms - 1];
            double factorial = 1;                            // (2n − 1)!
            for (var n = 1; n <= terms; n++)
            {
                if (n > 1)
                    factorial *= (2 * n - 2) * (2 * n - 1);
                if (n > 1)
                    c[n - 2] = T.CreateChecked((n % 2 == 1 ? 1 : -1) * t[n] / factorial);
            }
            return c;
        }
    }

    /// <summary>Logistic function 1/(1+e^-x) on a vector (saturates cleanly: e^-x may overflow to +inf).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sigmoid<T>(Vector512<T> x) where T : unmanaged =>
        Vector512<T>.One / (Vector512<T>.One + Exp(-x));

    /// <inheritdoc cref="Sigmoid{T}(Vector512{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sigmoid<T>(Vector256<T> x) where T : unmanaged =>
        Vector256<T>.One / (Vector256<T>.One + Exp(-x));

    /// <inheritdoc cref="Sigmoid{T}(Vector512{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid<T>(T x) where T : unmanaged, IExponentialFunctions<T> => T.One / (T.One + T.Exp(-x));
}
