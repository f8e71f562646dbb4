// One-pass row operations of the fused attention's score tiles: add the bias and mask runs while finding the row
// maximum, and exponentiate around a shift while summing — each a single sweep over L1-resident data instead of
// one library call per step.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Fused row passes over score tiles (Vector512, Vector256 or scalar; tails give lane-identical bits).</summary>
internal static unsafe class AttentionRows
{
    /// <summary>row[c] += constant + a[c] (when a is not null) + b[c] (when b is not null); returns max row[c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T AddAndMax<T>(T* row, int n, T* a, T* b, T constant) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        var max = T.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var w = Vector512<T>.Count;
            var k = Vector512.Create(constant);
            var m = Vector512.Create(T.NegativeInfinity);
            for (; c + w <= n; c += w)
            {
                var v = Vector512.Load(row + c) + k;
                if (a is not null)
                    v += Vector512.Load(a + c);
                if (b is not null)
                    v += Vector512.Load(b + c);
                v.Store(row + c);
                m = Vector512.Max(m, v);
            }
            max = HorizontalMax(m);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var w = Vector256<T>.Count;
            var k = Vector256.Create(constant);
            var m = Vector256.Create(T.NegativeInfinity);
            for (; c + w <= n; c += w)
            {
                var v = Vector256.Load(row + c) + k;
                if (a is not null)
                    v += Vector256.Load(a + c);
                if (b is not null)
                    v += Vector256.Load(b + c);
                v.Store(row + c);
                m = Vector256.Max(m, v);
            }
            for (var i = 0; i < w; i++)
                max = T.Max(max, m.GetElement(i));
        }
        for (; c < n; c++)
        {
            var v = row[c] + constant;
            if (a is not null)
                v += a[c];
            if (b is not null)
                v += b[c];
            row[c] = v;
            max = T.Max(max, v);
        }
        return max;
    }

    private static T HorizontalMax<T>(Vector512<T> m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var max = T.NegativeInfinity;
        for (var i = 0; i < Vector512<T>.Count; i++)
            max = T.Max(max, m.GetElement(i));
        return max;
    }

    /// <summary>row[c] = e^(row[c] − shift) (−∞ gives 0); returns Σ row[c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T ExpShifted<T>(T* row, int n, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        var sum = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var w = Vector512<T>.Count;
            var s = Vector512.Create(shift);
            var acc = Vector512<T>.Zero;
            for (; c + w <= n; c += w)
            {
                var e = VectorMath.Exp(Vector512.Load(row + c) - s);
                e.Store(row + c);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var w = Vector256<T>.Count;
            var s = Vector256.Create(shift);
            var acc = Vector256<T>.Zero;
            for (; c + w <= n; c += w)
            {
                var e = VectorMath.Exp(Vector256.Load(row + c) - s);
                e.Store(row + c);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; c < n; c++)
        {
            var e = VectorMath.ExpLikeALane(row[c] - shift);
            row[c] = e;
            sum += e;
        }
        return sum;
    }
}
