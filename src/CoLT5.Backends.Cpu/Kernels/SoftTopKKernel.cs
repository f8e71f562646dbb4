// Fused coordinate-descent soft top-k (CoLT5 router, spec §8): forward and analytic backward per row, O(n) memory
// plus the a_t history. Row passes live in SoftTopKPasses. Oracle: ReferenceBackend.TrySoftTopK(Backward).
//
// ---- Derivation -------------------------------------------------------------------------------------------------
// One row, real tokens only (a masked token holds −∞ here: it adds exp(−∞) = 0 to every sum, gets λ = 0 and a zero
// gradient; the composed ops' mask value −max gives exactly the same sums). ε_t is the schedule of SoftTopKParams,
// ε_F = ε_(T+1). Forward, t = 1..T, with b_0 = −s:
//   w_t = s + b_(t−1),  x_t = w_t/ε_t,  L_t = logsumexp(x_t),  a_t = ε_t·(ln k − L_t),
//   u_t = s + a_t,      b_t = −relu(u_t),                    λ = exp((u_T + b_T)/ε_F) = exp(min(u_T, 0)/ε_F).
// w_1 = s − s = 0, so L_1 = ln(#real) and a_1 does not depend on s; for t ≥ 2, w_t = s − relu(u_(t−1)) equals
// min(s, −a_(t−1)), so max(x_t) = min(max s, −a_(t−1))/ε_t is a safe logsumexp shift known before the pass.
// Only the scalars a_1..a_T are stored: u_t and w_t are recomputed from s and one a, and L_t = ln k − a_t/ε_t.
//
// Reverse mode, with adjoints written v̄ = dL/dv and g = dL/dλ:
//   v = u_T + b_T:        ū_T ← v̄ = g·λ/ε_F,   b̄_T ← v̄.
//   b_t = −relu(u_t):     ū_t += −b̄_t·[u_t > 0]          (relu′(0) = 0, as PyTorch).
//   u_t = s + a_t:        s̄ += ū_t,   ā_t = Σ_i ū_t,i.
//   a_t = ε_t(ln k − L_t): L̄_t = −ε_t·ā_t;   L_t = lse(x_t): x̄_t = L̄_t·p_t with p_t = softmax(x_t) = e^(x_t − L_t);
//   x_t = w_t/ε_t:        w̄_t = x̄_t/ε_t = −ā_t·p_t;
//   w_t = s + b_(t−1):    s̄ += w̄_t,   b̄_(t−1) = w̄_t   (t = 1: b_0 = −s takes −w̄_1 back, so w_1 adds nothing).
// Hence b̄_(t−1) = −ā_t·p_t, and with α_t = ā_t:
//   ū_T = v̄·[u_T ≤ 0],                       α_T = Σ_i v̄_i·[u_T,i ≤ 0],
//   ū_t = α_(t+1)·p_(t+1)·[u_t > 0] (t < T),  α_t = α_(t+1)·q_t with q_t = Σ_i p_(t+1),i·[u_t,i > 0],
//   s̄ = v̄·[u_T ≤ 0] + Σ_(t=2..T) (w̄_t + ū_(t−1)) = v̄·[u_T ≤ 0] − Σ_(t=2..T) α_t·p_t·[u_(t−1) ≤ 0].
// At a token with u_(t−1) > 0 the w-path and the relu path cancel exactly (autograd adds w̄ and −w̄ there too).
// The α chain is a scalar product of q's in [0, 1], so the sweep t = T..2 needs one pass over the row per step:
// recompute u_(t−1) = s + a_(t−1), w_t, p_t, subtract α_t·p_t where u_(t−1) ≤ 0, and sum q_(t−1) for α_(t−1).
//
// Exp table. While ε stays the same (every iteration with ε = 1; the floored tail of ε-scaling), no exp is needed per
// iteration: with σ = max s, e_i = exp((s_i − σ)/ε) ∈ [0, 1] once per ε, and K = exp(−(σ + a_(t−1))/ε),
//   x_t,i − σ/ε = (s_i − σ)/ε where u_(t−1),i ≤ 0, and −(σ + a_(t−1))/ε (the same for all) where u_(t−1),i > 0,
//   Z_t = Σ_(u ≤ 0) e_i + m_t·K (m_t tokens with u > 0),  L_t = σ/ε + ln Z_t,
//   p_t,i = e_i·F_t (u ≤ 0) or K·F_t (u > 0) with F_t = exp(σ/ε − L_t),  so q_(t−1) = m_t·K·F_t,
// equal to the direct passes up to rounding (x = (s − (s + a))/ε versus −a/ε). K ≤ 1 whenever m_t > 0, since
// σ + a ≥ u > 0. Where (σ + a)/ε > 600 the table would lose the terms that matter to underflow, and that iteration
// takes the direct pass: Σ exp(x − shift) with the shift min(σ, −a)/ε = max x.
// An iteration whose ε no neighbour shares (the decaying head of ε-scaling) takes the direct pass as well.
// Cost: T cheap passes each way plus one exp pass per distinct ε (and λ, and the recomputed λ of the backward);
// memory: the outputs, the float64 a_t history, three float64 scratch rows per thread. Rows are computed in
// float64 for float32 tensors too (rounded once on output): float64 exp is the faster one here.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using CoLT5.Backends.Cpu.Threading;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Row-parallel fused soft top-k over contiguous (R, n) rows; see the derivation atop the file.</summary>
internal static unsafe class SoftTopKKernel
{
    /// <summary>Largest (σ + a)/ε for which the exp table is used (e^-600 ≈ 1e-261 stays far from float64
    /// underflow); tests lower it to run every iteration through the direct passes.</summary>
    internal static double TableLimit { get; set; } = 600;

    /// <summary>λ (R, n) and the float64 a_t history (R, T) from scores (R, n), an optional byte mask and
    /// k (R).</summary>
    public static void Forward<T>(T* s, byte* mask, T* k, T* lambda, double* state, long rows, int n,
        SoftTopKParams p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var eps = p.Schedule();
        CpuParallel.For(rows, 4L * n + (long)p.Iterations * n / 4, (lo, hi) =>
        {
            fixed (double* scratch = RowScratch.Get(2 * n))
            {
                for (var r = lo; r < hi; r++)
                {
                    ForwardRow(s + r * n, mask is null ? null : mask + r * n, double.CreateChecked(k[r]),
                        lambda + r * n, state + r * p.Iterations, n, eps, scratch);
                }
            }
        });
    }

    /// <summary>dScores (R, n) from dLambda (R, n), recomputing each row's iterates from s and the a_t
    /// history.</summary>
    public static void Backward<T>(T* s, byte* mask, T* k, double* state, T* dLambda, T* dScores, long rows, int n,
        SoftTopKParams p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var eps = p.Schedule();
        CpuParallel.For(rows, 4L * n + (long)p.Iterations * n / 4, (lo, hi) =>
        {
            fixed (double* scratch = RowScratch.Get(3 * n))
            {
                for (var r = lo; r < hi; r++)
                {
                    BackwardRow(s + r * n, mask is null ? null : mask + r * n, double.CreateChecked(k[r]),
                        state + r * p.Iterations, dLambda + r * n, dScores + r * n, n, eps, scratch);
                }
            }
        });
    }

    // dst = the row in float64, with masked entries set to fill; returns the count of real tokens.
    private static int Load<T>(T* src, byte* mask, double* dst, int n, double fill)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.ConvertTruncating<T, double>(new ReadOnlySpan<T>(src, n), new Span<double>(dst, n));
        if (mask is null)
            return n;
        var valid = 0;
        for (var i = 0; i < n; i++)
        {
            if (mask[i] != 0)
                valid++;
            else
                dst[i] = fill;
        }
        return valid;
    }

    // dst = the float64 row rounded to T, with masked entries 0.
    private static void Store<T>(double* src, byte* mask, T* dst, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.ConvertTruncating<double, T>(new ReadOnlySpan<double>(src, n), new Span<T>(dst, n));
        if (mask is null)
            return;
        for (var i = 0; i < n; i++)
        {
            if (mask[i] == 0)
                dst[i] = T.Zero;
        }
    }

    private static void ForwardRow<T>(T* s, byte* mask, double k, T* lambda, double* a, int n, double[] eps,
        double* scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double* x = scratch, table = scratch + n;
        var iterations = eps.Length - 1;
        var valid = Load(s, mask, x, n, double.NegativeInfinity);
        if (valid == 0 || iterations == 0)
        {
            // No iteration: a = 0, b = −s, λ = exp(0) = 1 on real tokens. No real token: λ = 0.
            new Span<double>(table, n).Fill(valid > 0 ? 1 : 0);
            Store(table, mask, lambda, n);
            new Span<double>(a, iterations).Clear();
            return;
        }
        var logK = Math.Log(k);
        var sMax = TensorPrimitives.Max(new ReadOnlySpan<double>(x, n));
        var at = (logK - Math.Log(valid)) * eps[0];                // iteration 1: x_1 = 0 on every real token
        a[0] = at;
        var tableEps = double.NaN;
        for (var t = 1; t < iterations; t++)
        {
            var inv = 1 / eps[t];
            double lse;
            // a fresh table costs an exp pass: worth it only when the next iteration shares this ε
            var reuse = eps[t] == tableEps || (t + 1 < iterations && eps[t + 1] == eps[t]);
            if (!reuse || (sMax + at) * inv > TableLimit)
            {
                var shift = Math.Min(sMax, -at) * inv;
                lse = shift + Math.Log(SoftTopKPasses.SumExp(x, n, at, inv, shift));
            }
            else
            {
                if (eps[t] != tableEps)
                {
                    SoftTopKPasses.ExpTable(x, table, n, sMax, inv);
                    tableEps = eps[t];
                }
                var z = SoftTopKPasses.CachedSum(x, table, n, at, out var saturated);
                if (saturated > 0)
                    z += saturated * Math.Exp(-(sMax + at) * inv);
                lse = sMax * inv + Math.Log(z);
            }
            at = (logK - lse) * eps[t];
            a[t] = at;
        }
        SoftTopKPasses.Lambda(x, table, n, at, 1 / eps[iterations]);
        Store(table, mask, lambda, n);
    }

    private static void BackwardRow<T>(T* s, byte* mask, double k, double* a, T* g, T* ds, int n, double[] eps,
        double* scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double* x = scratch, table = scratch + n, d = scratch + 2 * n;
        var iterations = eps.Length - 1;
        var valid = Load(s, mask, x, n, double.NegativeInfinity);
        if (valid == 0 || iterations == 0)
        {
            new Span<T>(ds, n).Clear();                            // λ does not depend on s
            return;
        }
        Load(g, mask, d, n, 0);                                    // dL/dλ, 0 at masked tokens whatever it held
        var logK = Math.Log(k);
        var sMax = TensorPrimitives.Max(new ReadOnlySpan<double>(x, n));
        SoftTopKPasses.Seed(x, d, n, a[iterations - 1], 1 / eps[iterations]);
        var alpha = TensorPrimitives.Sum(new ReadOnlySpan<double>(d, n));
        var tableEps = double.NaN;
        for (var t = iterations - 1; t >= 1; t--)
        {
            // 0-based t is iteration t + 1: p from w = s − relu(s + a[t − 1]) and L = ln k − a[t]/ε.
            var inv = 1 / eps[t];
            var aPrev = a[t - 1];
            var lse = logK - a[t] / eps[t];
            var f = Math.Exp(sMax * inv - lse);
            var reuse = eps[t] == tableEps || (t > 1 && eps[t - 1] == eps[t]);
            if (!reuse || (sMax + aPrev) * inv > TableLimit || !double.IsFinite(alpha * f))
            {
                alpha *= SoftTopKPasses.Sweep(x, d, n, aPrev, inv, lse, alpha);
                continue;
            }
            if (eps[t] != tableEps)
            {
                SoftTopKPasses.ExpTable(x, table, n, sMax, inv);
                tableEps = eps[t];
            }
            var saturated = SoftTopKPasses.CachedSweep(x, table, d, n, aPrev, alpha * f);
            alpha *= saturated > 0 ? saturated * Math.Exp(-(sMax + aPrev) * inv) * f : 0;
        }
        Store(d, mask, ds, n);
    }

    /// <summary>One grow-only float64 buffer per thread (the rows' scratch).</summary>
    private static class RowScratch
    {
        [ThreadStatic] private static double[]? buffer;

        public static double[] Get(int length)
        {
            if (buffer is null || buffer.Length < length)
                buffer = new double[Math.Max(length, 256)];
            return buffer;
        }
    }
}
