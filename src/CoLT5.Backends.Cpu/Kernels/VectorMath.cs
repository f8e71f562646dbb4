// Generic SIMD helpers: width-agnostic loads/stores and transcendental functions for float and double vectors.
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
            return Vector512.Exp(x.AsDouble()).As<double, T>();
        throw new System.NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.Exp(x.AsDouble()).As<double, T>();
        throw new System.NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x) where T : unmanaged, IExponentialFunctions<T> => T.Exp(x);

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
