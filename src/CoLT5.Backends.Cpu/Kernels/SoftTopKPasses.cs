// The row passes of the fused soft top-k, in float64 over contiguous rows (masked tokens hold −∞), each one loop
// Vector512 → Vector256 → scalar: the exp table, the cheap cached passes, and the direct exp passes used when the
// table would underflow. SoftTopKKernel explains the math.
using System;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Vectorised float64 row loops of the soft top-k forward and backward.</summary>
internal static unsafe class SoftTopKPasses
{
    /// <summary>e_i = exp((s_i − sMax)·inv) ∈ [0, 1]: the exp table of one ε.</summary>
    public static void ExpTable(double* s, double* e, int n, double sMax, double inv)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> vm = Vector512.Create(sMax), vi = Vector512.Create(inv);
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
                VectorMath.Exp((Vector512.Load(s + i) - vm) * vi).Store(e + i);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> vm = Vector256.Create(sMax), vi = Vector256.Create(inv);
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
                VectorMath.Exp((Vector256.Load(s + i) - vm) * vi).Store(e + i);
        }
        for (; i < n; i++)
            e[i] = Math.Exp((s[i] - sMax) * inv);
    }

    /// <summary>Σ e_i over tokens with s_i + a ≤ 0; <paramref name="saturated"/> counts those with
    /// s_i + a &gt; 0.</summary>
    public static double CachedSum(double* s, double* e, int n, double a, out int saturated)
    {
        var i = 0;
        double sum = 0, count = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(a), zero = Vector512<double>.Zero, acc = zero, cnt = zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                var on = Vector512.GreaterThan(Vector512.Load(s + i) + va, zero);
                acc += Vector512.ConditionalSelect(on, zero, Vector512.Load(e + i));
                cnt += Vector512.ConditionalSelect(on, Vector512<double>.One, zero);
            }
            (sum, count) = (Vector512.Sum(acc), Vector512.Sum(cnt));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(a), zero = Vector256<double>.Zero, acc = zero, cnt = zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var on = Vector256.GreaterThan(Vector256.Load(s + i) + va, zero);
                acc += Vector256.ConditionalSelect(on, zero, Vector256.Load(e + i));
                cnt += Vector256.ConditionalSelect(on, Vector256<double>.One, zero);
            }
            (sum, count) = (Vector256.Sum(acc), Vector256.Sum(cnt));
        }
        for (; i < n; i++)
        {
            if (s[i] + a > 0)
                count++;
            else
                sum += e[i];
        }
        saturated = (int)count;
        return sum;
    }

    /// <summary>Σ_i exp((s_i − relu(s_i + a))·inv − shift): the partition sum of x = (s + b)/ε, directly.</summary>
    public static double SumExp(double* s, int n, double a, double inv, double shift)
    {
        var i = 0;
        var total = 0.0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(a), vi = Vector512.Create(inv), vs = Vector512.Create(shift);
            var acc = Vector512<double>.Zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                var x = Vector512.Load(s + i);
                acc += VectorMath.Exp((x - Vector512.Max(x + va, Vector512<double>.Zero)) * vi - vs);
            }
            total = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(a), vi = Vector256.Create(inv), vs = Vector256.Create(shift);
            var acc = Vector256<double>.Zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var x = Vector256.Load(s + i);
                acc += VectorMath.Exp((x - Vector256.Max(x + va, Vector256<double>.Zero)) * vi - vs);
            }
            total = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            total += Math.Exp((s[i] - Math.Max(s[i] + a, 0)) * inv - shift);
        return total;
    }

    /// <summary>y_i = exp(min(s_i + a, 0)·inv), i.e. λ = exp((s + a + b)/ε) with b = −relu(s + a).</summary>
    public static void Lambda(double* s, double* y, int n, double a, double inv)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(a), vi = Vector512.Create(inv);
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
                VectorMath.Exp(Vector512.Min(Vector512.Load(s + i) + va, Vector512<double>.Zero) * vi).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(a), vi = Vector256.Create(inv);
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
                VectorMath.Exp(Vector256.Min(Vector256.Load(s + i) + va, Vector256<double>.Zero) * vi).Store(y + i);
        }
        for (; i < n; i++)
            y[i] = Math.Exp(Math.Min(s[i] + a, 0) * inv);
    }

    /// <summary>d_i ← [u_i ≤ 0]·d_i·λ_i·inv with u = s + a_T and λ recomputed (d holds dL/dλ on entry).</summary>
    public static void Seed(double* s, double* d, int n, double a, double inv)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(a), vi = Vector512.Create(inv), zero = Vector512<double>.Zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                var u = Vector512.Load(s + i) + va;
                var v = Vector512.Load(d + i) * VectorMath.Exp(Vector512.Min(u, zero) * vi) * vi;
                Vector512.ConditionalSelect(Vector512.GreaterThan(u, zero), zero, v).Store(d + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(a), vi = Vector256.Create(inv), zero = Vector256<double>.Zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var u = Vector256.Load(s + i) + va;
                var v = Vector256.Load(d + i) * VectorMath.Exp(Vector256.Min(u, zero) * vi) * vi;
                Vector256.ConditionalSelect(Vector256.GreaterThan(u, zero), zero, v).Store(d + i);
            }
        }
        for (; i < n; i++)
        {
            var u = s[i] + a;
            d[i] = u > 0 ? 0 : d[i] * Math.Exp(Math.Min(u, 0) * inv) * inv;
        }
    }

    /// <summary>d_i −= coef·e_i where s_i + a ≤ 0 (coef = α·e^(sMax/ε − L)); returns the count with
    /// s_i + a &gt; 0.</summary>
    public static int CachedSweep(double* s, double* e, double* d, int n, double a, double coef)
    {
        var i = 0;
        var count = 0.0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(a), vc = Vector512.Create(coef), zero = Vector512<double>.Zero,
                cnt = zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                var on = Vector512.GreaterThan(Vector512.Load(s + i) + va, zero);
                cnt += Vector512.ConditionalSelect(on, Vector512<double>.One, zero);
                var step = Vector512.ConditionalSelect(on, zero, vc * Vector512.Load(e + i));
                (Vector512.Load(d + i) - step).Store(d + i);
            }
            count = Vector512.Sum(cnt);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(a), vc = Vector256.Create(coef), zero = Vector256<double>.Zero,
                cnt = zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var on = Vector256.GreaterThan(Vector256.Load(s + i) + va, zero);
                cnt += Vector256.ConditionalSelect(on, Vector256<double>.One, zero);
                var step = Vector256.ConditionalSelect(on, zero, vc * Vector256.Load(e + i));
                (Vector256.Load(d + i) - step).Store(d + i);
            }
            count = Vector256.Sum(cnt);
        }
        for (; i < n; i++)
        {
            if (s[i] + a > 0)
                count++;
            else
                d[i] -= coef * e[i];
        }
        return (int)count;
    }

    /// <summary>
    /// One direct reverse step: with u = s + a_prev, p = exp((s − relu(u))·inv − lse), d −= α·p where u ≤ 0;
    /// returns q = Σ p where u &gt; 0 (so that α_prev = α·q).
    /// </summary>
    public static double Sweep(double* s, double* d, int n, double aPrev, double inv, double lse, double alpha)
    {
        var i = 0;
        var q = 0.0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            Vector512<double> va = Vector512.Create(aPrev), vi = Vector512.Create(inv), vl = Vector512.Create(lse),
                vAlpha = Vector512.Create(alpha), zero = Vector512<double>.Zero, acc = zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                var x = Vector512.Load(s + i);
                var u = x + va;
                var p = VectorMath.Exp((x - Vector512.Max(u, zero)) * vi - vl);
                var on = Vector512.GreaterThan(u, zero);
                acc += Vector512.ConditionalSelect(on, p, zero);
                (Vector512.Load(d + i) - vAlpha * Vector512.ConditionalSelect(on, zero, p)).Store(d + i);
            }
            q = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            Vector256<double> va = Vector256.Create(aPrev), vi = Vector256.Create(inv), vl = Vector256.Create(lse),
                vAlpha = Vector256.Create(alpha), zero = Vector256<double>.Zero, acc = zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var x = Vector256.Load(s + i);
                var u = x + va;
                var p = VectorMath.Exp((x - Vector256.Max(u, zero)) * vi - vl);
                var on = Vector256.GreaterThan(u, zero);
                acc += Vector256.ConditionalSelect(on, p, zero);
                (Vector256.Load(d + i) - vAlpha * Vector256.ConditionalSelect(on, zero, p)).Store(d + i);
            }
            q = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            var u = s[i] + aPrev;
            var p = Math.Exp((s[i] - Math.Max(u, 0)) * inv - lse);
            if (u > 0)
                q += p;
            else
                d[i] -= alpha * p;
        }
        return q;
    }
}
