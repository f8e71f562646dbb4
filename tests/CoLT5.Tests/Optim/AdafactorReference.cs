// A scalar, test-only transcription of the Adafactor update (flat double arrays, explicit index arithmetic), used
// as the independent oracle for multi-step trajectories of the tensor implementation.
using System;
using System.Linq;

namespace CoLT5.Tests.Optim;

internal sealed class AdafactorReference(int[] shape, (int Row, int Col)? axes)
{
    private double[]? vRow, vCol, v, m;
    private long step;

    public double DecayRate { get; init; } = 0.8;
    public double Epsilon1 { get; init; } = 1e-30;
    public double Epsilon2 { get; init; } = 1e-3;
    public double? Clip { get; init; } = 1.0;
    public bool ParameterScale { get; init; } = true;
    public double? Beta1 { get; init; }
    public double? WeightDecay { get; init; }

    public double[] Step(double[] p, double[] g, double lr)
    {
        step++;
        var decay = 1 - Math.Pow(step, -DecayRate);
        var mix = 1 - decay;
        var gsq = g.Select(x => x * x + Epsilon1).ToArray();
        var u = new double[g.Length];
        if (axes is var (row, col))
        {
            var (rowMean, rowShape) = Mean(gsq, shape, col);
            var (colMean, colShape) = Mean(gsq, shape, row);
            vRow ??= new double[rowMean.Length];
            vCol ??= new double[colMean.Length];
            for (var i = 0; i < vRow.Length; i++)
                vRow[i] = decay * vRow[i] + mix * rowMean[i];
            for (var i = 0; i < vCol.Length; i++)
                vCol[i] = decay * vCol[i] + mix * colMean[i];
            var (rowColMean, rcShape) = Mean(vRow, rowShape, row);
            for (var i = 0; i < g.Length; i++)
            {
                var c = Coord(i, shape);
                var vhat = At(vRow, rowShape, c) * At(vCol, colShape, c) / At(rowColMean, rcShape, c);
                u[i] = g[i] / Math.Sqrt(vhat);
            }
        }
        else
        {
            v ??= new double[g.Length];
            for (var i = 0; i < g.Length; i++)
            {
                v[i] = decay * v[i] + mix * gsq[i];
                u[i] = g[i] / Math.Sqrt(v[i]);
            }
        }
        if (Clip is { } d)
        {
            var denom = Math.Max(1, Rms(u) / d);
            for (var i = 0; i < u.Length; i++)
                u[i] /= denom;
        }
        var scale = ParameterScale ? lr * Math.Max(Epsilon2, Rms(p)) : lr;
        var delta = u.Select(x => scale * x).ToArray();
        if (Beta1 is { } b1)
        {
            m ??= new double[g.Length];
            for (var i = 0; i < m.Length; i++)
                m[i] = b1 * m[i] + (1 - b1) * delta[i];
            delta = (double[])m.Clone();
        }
        var keep = 1 - (WeightDecay ?? 0);
        return p.Select((x, i) => keep * x - delta[i]).ToArray();
    }

    public static double Rms(double[] x) => Math.Sqrt(x.Sum(e => e * e) / x.Length);

    private static int[] Coord(int flat, int[] dims)
    {
        var c = new int[dims.Length];
        for (var a = dims.Length - 1; a >= 0; a--)
        {
            c[a] = flat % dims[a];
            flat /= dims[a];
        }
        return c;
    }

    // Element of x (shape dims, size-1 axes broadcast) at a coordinate of the full shape.
    private static double At(double[] x, int[] dims, int[] c)
    {
        var flat = 0;
        for (var a = 0; a < dims.Length; a++)
            flat = flat * dims[a] + (dims[a] == 1 ? 0 : c[a]);
        return x[flat];
    }

    private static (double[] Values, int[] Shape) Mean(double[] x, int[] dims, int axis)
    {
        var outDims = (int[])dims.Clone();
        outDims[axis] = 1;
        var sums = new double[x.Length / dims[axis]];
        for (var i = 0; i < x.Length; i++)
        {
            var c = Coord(i, dims);
            c[axis] = 0;
            var flat = 0;
            for (var a = 0; a < dims.Length; a++)
                flat = flat * outDims[a] + c[a];
            sums[flat] += x[i];
        }
        return (sums.Select(s => s / dims[axis]).ToArray(), outDims);
    }
}
