// Fused coordinate-descent soft top-k (IBackend.TrySoftTopK, the CoLT5 router's normalisation, spec §8): one
// work-group per row running the direct passes of the CPU kernel (SoftTopKKernel.cs derives them): each iteration
// is one exp pass and a group sum; only the scalars a_t are kept (the float64 state), and the backward sweeps the
// iterations in reverse from them. Arithmetic is float64 like the CPU's (the host builds with NEEDS_FP64=1; a device
// without it takes the composed path). Masked tokens count as −∞ scores: λ = 0 and no gradient there.
// cuda-check-defines: NEEDS_FP64=1
#define SG 256

// The ε schedule (SoftTopKParams): eps, starting eps (when has_init), decay; iterations T.
typedef struct
{
    double eps, eps_init, decay;
    int iterations, has_init;
} TopKParams;

// ε of iteration t (1-based; t = T + 1 is the final exponent's), exactly as SoftTopKParams.Schedule computes it.
DEVICE_FN double topk_eps(TopKParams P, int t)
{
    double e = P.has_init ? FMAXD(P.eps_init, P.eps) : P.eps;
    for (int i = 1; i < t; i++)
        e = FMAXD(e * P.decay, P.eps);
    return e;
}

// Tree sum (op 0) or max (op 1) of one double per work-item; every work-item gets the result.
DEVICE_FN double topk_reduce(LOCAL_PTR double* buf, double v, int op)
{
    int t = LOCAL_ID(0);
    buf[t] = v;
    for (int s = SG / 2; s > 0; s >>= 1)
    {
        BARRIER();
        if (t < s)
            buf[t] = op == 0 ? buf[t] + buf[t + s] : FMAXD(buf[t], buf[t + s]);
    }
    BARRIER();
    double r = buf[0];
    BARRIER();
    return r;
}

#define REAL(i) (!has_mask || m[i] != 0)

// Count of real tokens and their maximum score.
#define TOPK_ROW_STATS(valid, sMax)                                                                          \
    {                                                                                                          \
        double cnt = 0.0, mx = -INFINITY;                                                                      \
        for (int i = LOCAL_ID(0); i < n; i += SG)                                                              \
        {                                                                                                      \
            if (REAL(i))                                                                                       \
            {                                                                                                  \
                cnt += 1.0;                                                                                    \
                mx = FMAXD(mx, (double)x[i]);                                                                  \
            }                                                                                                  \
        }                                                                                                      \
        valid = topk_reduce(buf, cnt, 0);                                                                      \
        sMax = topk_reduce(buf, mx, 1);                                                                        \
    }

// rows × n scores, optional mask, budgets k (rows), λ written, state (rows, T) float64 written with a_1..a_T.
KERNEL void soft_top_k(GLOBAL const float* scores, i64 so, GLOBAL const uchar* mask, i64 mo, int has_mask,
    GLOBAL const float* budget, i64 ko, GLOBAL float* lambda, i64 lo, GLOBAL double* state, i64 sto, int n,
    TopKParams P)
{
    LOCAL double buf[SG];
    i64 row = GROUP_ID(0);
    GLOBAL const float* x = scores + so + row * n;
    GLOBAL const uchar* m = mask + mo + row * n;
    GLOBAL float* y = lambda + lo + row * n;
    GLOBAL double* a = state + sto + row * P.iterations;
    int tid = LOCAL_ID(0);
    double valid, sMax;
    TOPK_ROW_STATS(valid, sMax);
    if (valid == 0.0 || P.iterations == 0)
    {
        // no iteration: a = 0, b = −s, λ = exp(0) = 1 on real tokens; no real token: λ = 0
        for (int i = tid; i < n; i += SG)
            y[i] = valid > 0.0 && REAL(i) ? 1.0f : 0.0f;
        for (int t = tid; t < P.iterations; t += SG)
            a[t] = 0.0;
        return;
    }
    double logK = LOGD((double)budget[ko + row]);
    double eps = topk_eps(P, 1);
    double at = (logK - LOGD(valid)) * eps;                  // iteration 1: x_1 = 0 on every real token
    if (tid == 0)
        a[0] = at;
    for (int t = 1; t < P.iterations; t++)
    {
        eps = FMAXD(eps * P.decay, P.eps);
        double inv = 1.0 / eps;
        double shift = FMIND(sMax, -at) * inv;                // = max of (s − relu(s + a))/ε
        double sum = 0.0;
        for (int i = tid; i < n; i += SG)
        {
            if (REAL(i))
            {
                double s = x[i];
                sum += EXPD((s - FMAXD(s + at, 0.0)) * inv - shift);
            }
        }
        double lse = shift + LOGD(topk_reduce(buf, sum, 0));
        at = (logK - lse) * eps;
        if (tid == 0)
            a[t] = at;
    }
    double inv = 1.0 / FMAXD(eps * P.decay, P.eps);
    for (int i = tid; i < n; i += SG)
        y[i] = REAL(i) ? (float)EXPD(FMIND((double)x[i] + at, 0.0) * inv) : 0.0f;
}

// dScores (rows, n) from dLambda (may alias it), recomputing each iterate from the scores and the a_t history.
KERNEL void soft_top_k_backward(GLOBAL const float* scores, i64 so, GLOBAL const uchar* mask, i64 mo, int has_mask,
    GLOBAL const float* budget, i64 ko, GLOBAL const double* state, i64 sto, GLOBAL const float* dlambda, i64 go,
    GLOBAL float* dscores, i64 dso, int n, TopKParams P)
{
    LOCAL double buf[SG];
    i64 row = GROUP_ID(0);
    GLOBAL const float* x = scores + so + row * n;
    GLOBAL const uchar* m = mask + mo + row * n;
    GLOBAL const float* g = dlambda + go + row * n;
    GLOBAL float* d = dscores + dso + row * n;
    GLOBAL const double* a = state + sto + row * P.iterations;
    int tid = LOCAL_ID(0);
    int iters = P.iterations;
    double valid, sMax;
    TOPK_ROW_STATS(valid, sMax);
    if (valid == 0.0 || iters == 0)
    {
        for (int i = tid; i < n; i += SG)
            d[i] = 0.0f;                                      // λ does not depend on s
        return;
    }
    double logK = LOGD((double)budget[ko + row]);
    // seed: dL/du_T = [u_T ≤ 0]·g·λ/ε_F with λ recomputed; α_T = its sum
    double inv = 1.0 / topk_eps(P, iters + 1);
    double aT = a[iters - 1];
    double partial = 0.0;
    for (int i = tid; i < n; i += SG)
    {
        double v = 0.0;
        if (REAL(i))
        {
            double u = (double)x[i] + aT;
            v = u > 0.0 ? 0.0 : (double)g[i] * EXPD(FMIND(u, 0.0) * inv) * inv;
        }
        d[i] = (float)v;
        partial += v;
    }
    double alpha = topk_reduce(buf, partial, 0);
    for (int t = iters - 1; t >= 1; t--)
    {
        // iteration t + 1: p from w = s − relu(s + a_t) and L = ln k − a_(t+1)/ε
        double eps = topk_eps(P, t + 1);
        double inv2 = 1.0 / eps;
        double aPrev = a[t - 1];
        double lse = logK - a[t] / eps;
        double q = 0.0;
        for (int i = tid; i < n; i += SG)
        {
            if (REAL(i))
            {
                double s = x[i];
                double u = s + aPrev;
                double p = EXPD((s - FMAXD(u, 0.0)) * inv2 - lse);
                if (u > 0.0)
                    q += p;
                else
                    d[i] = (float)((double)d[i] - alpha * p);
            }
        }
        alpha *= topk_reduce(buf, q, 0);
    }
}
