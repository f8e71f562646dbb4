// The router's coordinate-descent soft top-k in the reference backend: the spec's iteration written out in float64
// with every per-iteration vector kept, and its backward by the plain chain rule through that unrolled record.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// The iteration of <see cref="IBackend.TrySoftTopK"/> in float64, literally: masked scores become −max,
    /// (s + b)/ε_t is masked again before a max-shifted, compensated logsumexp, and λ = 0 at masked positions.
    /// A row without real tokens gets λ = 0 and a zero state. Views may be strided.
    /// </summary>
    public bool TrySoftTopK(in TensorView scores, in TensorView mask, in TensorView k, in TensorView lambda,
        in TensorView state, SoftTopKParams p)
    {
        const string name = "soft_top_k";
        var (hs, hm, hk, rows, n) = SoftTopKInputs(name, scores, mask, k, state, p);
        var hl = Host(lambda, name, "lambda");
        var ha = Host(state, name, "state");
        RequireSameDType(name, "lambda", lambda, scores);
        RequireShape(name, "lambda", lambda, scores.Shape);
        var eps = p.Schedule();
        for (var r = 0; r < rows; r++)
        {
            var run = Unroll(hs, hm, hk, r, n, eps);
            for (var i = 0; i < n; i++)
                hl[lambda.Offset + r * lambda.Strides[0] + i * lambda.Strides[1]] = run.Lambda[i];
            for (var t = 0; t < p.Iterations; t++)
                ha[state.Offset + r * state.Strides[0] + t * state.Strides[1]] = run.Valid ? run.A[t + 1] : 0;
        }
        return true;
    }

    /// <summary>
    /// dL/ds by reverse-mode through the unrolled record of <see cref="TrySoftTopK"/> (recomputed here from the
    /// scores, so the state is not read): each recorded op — final exp, relu, the a-update, the logsumexp, the
    /// (s + b)/ε division and b_0 = −s — passes its adjoint back, with relu′(0) = 0 and zero gradient through
    /// every masked fill.
    /// </summary>
    public bool TrySoftTopKBackward(in TensorView scores, in TensorView mask, in TensorView k, in TensorView state,
        in TensorView dLambda, in TensorView dScores, SoftTopKParams p)
    {
        const string name = "soft_top_k_backward";
        var (hs, hm, hk, rows, n) = SoftTopKInputs(name, scores, mask, k, state, p);
        var hg = Host(dLambda, name, "dLambda");
        var hd = Host(dScores, name, "dScores");
        RequireSameDType(name, "dLambda", dLambda, scores);
        RequireSameDType(name, "dScores", dScores, scores);
        RequireShape(name, "dLambda", dLambda, scores.Shape);
        RequireShape(name, "dScores", dScores, scores.Shape);
        var eps = p.Schedule();
        var iterations = p.Iterations;
        for (var r = 0; r < rows; r++)
        {
            var run = Unroll(hs, hm, hk, r, n, eps);
            var g = ReadLane(hg, dLambda.Offset + r * dLambda.Strides[0], dLambda.Strides[1], n);
            var ds = new double[n];
            if (run.Valid && iterations > 0)
            {
                // λ = exp(v/ε_F), v = (s + a_T) + b_T, then masked_fill(0): masked positions pass nothing back.
                var vBar = new double[n];
                for (var i = 0; i < n; i++)
                    vBar[i] = run.Real[i] ? g[i] * run.Lambda[i] / eps[iterations] : 0;
                var bBar = (double[])vBar.Clone();                      // into b_T
                var aBar = Sum(vBar);                                    // into a_T through s + a_T
                for (var i = 0; i < n; i++)
                    ds[i] += vBar[i];                                    // into s through s + a_T
                for (var t = iterations; t >= 1; t--)
                {
                    // b_t = −relu(u_t), u_t = s + a_t
                    var uBar = new double[n];
                    for (var i = 0; i < n; i++)
                        uBar[i] = run.U[t][i] > 0 ? -bBar[i] : 0;
                    for (var i = 0; i < n; i++)
                        ds[i] += uBar[i];
                    aBar += Sum(uBar);
                    // a_t = ε_t·(ln k − L_t), L_t = logsumexp(x_t), x_t = masked((s + b_(t−1))/ε_t)
                    var lBar = -eps[t - 1] * aBar;
                    var wBar = new double[n];
                    for (var i = 0; i < n; i++)
                        wBar[i] = run.Real[i] ? lBar * Math.Exp(run.X[t][i] - run.Lse[t]) / eps[t - 1] : 0;
                    for (var i = 0; i < n; i++)
                        ds[i] += wBar[i];                                // w_t = s + b_(t−1)
                    bBar = wBar;
                    aBar = 0;                                            // a_(t−1) collects afresh
                }
                for (var i = 0; i < n; i++)
                    ds[i] -= bBar[i];                                    // b_0 = −s
            }
            for (var i = 0; i < n; i++)
                hd[dScores.Offset + r * dScores.Strides[0] + i * dScores.Strides[1]] = run.Real[i] ? ds[i] : 0;
        }
        return true;
    }

    private (HostView S, HostView? M, HostView K, int Rows, int N) SoftTopKInputs(string name,
        in TensorView scores, in TensorView mask, in TensorView k, in TensorView state, SoftTopKParams p)
    {
        p.Validate();
        var hs = Host(scores, name, "scores");
        var hk = Host(k, name, "k");
        Host(state, name, "state");
        RequireFloat(name, "scores", scores);
        RequireSameDType(name, "k", k, scores);
        RequireDType(name, "state", state, DType.Float64);
        RequireRank(name, "scores", scores, 2);
        int rows = scores.Shape.Dims[0], n = scores.Shape.Dims[1];
        RequireShape(name, "k", k, new Shape(rows));
        RequireShape(name, "state", state, new Shape(rows, p.StateLength));
        HostView? hm = null;
        if (mask.Buffer is not null)
        {
            hm = Host(mask, name, "mask");
            RequireDType(name, "mask", mask, DType.Bool);
            RequireShape(name, "mask", mask, scores.Shape);
        }
        return (hs, hm, hk, rows, n);
    }

    /// <summary>Every intermediate of one row's forward (index t = 1..T; index 0 is the start a = 0).</summary>
    private sealed record SoftTopKRun(bool Valid, bool[] Real, double[] A, double[] Lse, double[][] X, double[][] U,
        double[] Lambda);

    private static SoftTopKRun Unroll(HostView hs, HostView? hm, HostView hk, int r, int n, double[] eps)
    {
        const double maskValue = -double.MaxValue;
        var view = hs.View;
        var s = ReadLane(hs, view.Offset + r * view.Strides[0], view.Strides[1], n);
        var real = new bool[n];
        var valid = false;
        for (var i = 0; i < n; i++)
        {
            real[i] = hm is not { } m || m[m.View.Offset + r * m.View.Strides[0] + i * m.View.Strides[1]] != 0;
            valid |= real[i];
            if (!real[i])
                s[i] = maskValue;
        }
        var iterations = eps.Length - 1;
        var logK = Math.Log(hk[hk.View.Offset + r * hk.View.Strides[0]]);
        var a = new double[iterations + 1];
        var lse = new double[iterations + 1];
        var x = new double[iterations + 1][];
        var u = new double[iterations + 1][];
        var b = new double[n];
        for (var i = 0; i < n; i++)
            b[i] = -s[i];
        for (var t = 1; t <= iterations; t++)
        {
            x[t] = new double[n];
            for (var i = 0; i < n; i++)
                x[t][i] = real[i] ? (s[i] + b[i]) / eps[t - 1] : maskValue;
            lse[t] = LogSumExp(x[t]);
            a[t] = eps[t - 1] * (logK - lse[t]);
            u[t] = new double[n];
            for (var i = 0; i < n; i++)
            {
                u[t][i] = s[i] + a[t];
                b[i] = -Math.Max(u[t][i], 0);
            }
        }
        var lambda = new double[n];
        for (var i = 0; i < n; i++)
            lambda[i] = real[i] && valid ? Math.Exp((s[i] + a[iterations] + b[i]) / eps[iterations]) : 0;
        return new SoftTopKRun(valid, real, a, lse, x, u, lambda);
    }
}
