// Fused NN kernels of the reference backend, row by row in float64: softmax / log-softmax and their backward,
// T5 RMSNorm and its backward, and cross-entropy parts (nll, logsumexp) with ignore_index and their backward.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// Over the last axis: softmax yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), log-softmax yᵢ = xᵢ − m − log Σⱼ e^(xⱼ − m), with
    /// m the row maximum. −∞ entries get 0 (log: −∞); a row that is all −∞, or holds +∞ or NaN, is NaN throughout,
    /// as in PyTorch. Rows are read completely before they are written, so y may be x.
    /// </summary>
    public void Softmax(in TensorView x, in TensorView y, bool log)
    {
        var name = log ? "log_softmax" : "softmax";
        var hx = Host(x, name, "x");
        var hy = Host(y, name, "y");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "y", y, x);
        RequireShape(name, "y", y, x.Shape);
        if (x.Rank == 0)
            throw new InvalidShapeException(name, x.Shape, "needs at least one dimension");
        var last = x.Rank - 1;
        var length = x.Shape.Dims[last];
        var lanesX = StridedIndex.Lanes(x, last);
        var lanesY = StridedIndex.Lanes(y, last);
        while (lanesX.MoveNext() && lanesY.MoveNext())
        {
            var row = ReadLane(hx, lanesX.Offset, x.Strides[last], length);
            var m = length == 0 ? 0 : row[FirstExtreme(row, ReduceOp.Max)];
            var sum = new NeumaierSum();
            foreach (var v in row)
                sum.Add(Math.Exp(v - m));
            var total = sum.Value;
            var logTotal = Math.Log(total);
            for (var j = 0; j < length; j++)
                hy[lanesY.Offset + j * y.Strides[last]] = log ? row[j] - m - logTotal : Math.Exp(row[j] - m) / total;
        }
    }

    /// <summary>
    /// Softmax: dxᵢ = yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ). Log-softmax: dxᵢ = dyᵢ − e^(yᵢ)·Σⱼ dyⱼ. Over the last axis.
    /// </summary>
    public void SoftmaxBackward(in TensorView y, in TensorView dy, in TensorView dx, bool log)
    {
        var name = log ? "log_softmax_backward" : "softmax_backward";
        var hy = Host(y, name, "y");
        var hdy = Host(dy, name, "dy");
        var hdx = Host(dx, name, "dx");
        RequireFloat(name, "y", y);
        RequireSameDType(name, "dy", dy, y);
        RequireSameDType(name, "dx", dx, y);
        RequireShape(name, "dy", dy, y.Shape);
        RequireShape(name, "dx", dx, y.Shape);
        if (y.Rank == 0)
            throw new InvalidShapeException(name, y.Shape, "needs at least one dimension");
        var last = y.Rank - 1;
        var length = y.Shape.Dims[last];
        var lanesY = StridedIndex.Lanes(y, last);
        var lanesDy = StridedIndex.Lanes(dy, last);
        var lanesDx = StridedIndex.Lanes(dx, last);
        while (lanesY.MoveNext() && lanesDy.MoveNext() && lanesDx.MoveNext())
        {
            var yRow = ReadLane(hy, lanesY.Offset, y.Strides[last], length);
            var dyRow = ReadLane(hdy, lanesDy.Offset, dy.Strides[last], length);
            var sum = new NeumaierSum();
            for (var j = 0; j < length; j++)
                sum.Add(log ? dyRow[j] : dyRow[j] * yRow[j]);
            var s = sum.Value;
            for (var j = 0; j < length; j++)
            {
                hdx[lanesDx.Offset + j * dx.Strides[last]] =
                    log ? dyRow[j] - Math.Exp(yRow[j]) * s : yRow[j] * (dyRow[j] - s);
            }
        }
    }

    /// <summary>
    /// For each row r of x (R, D): rstd[r] = 1/√(Σⱼ x²/D + eps) and y[r, j] = w[j]·(x[r, j]·rstd[r]), all in
    /// float64 (rstd is then stored in its dtype). D = 0 gives rstd = NaN (a mean over nothing).
    /// </summary>
    public void RmsNorm(in TensorView x, in TensorView weight, in TensorView y, in TensorView rstd, double eps)
    {
        const string name = "rms_norm";
        var hx = Host(x, name, "x");
        var hw = Host(weight, name, "weight");
        var hy = Host(y, name, "y");
        var hr = Host(rstd, name, "rstd");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "weight", weight, x);
        RequireSameDType(name, "y", y, x);
        RequireSameDType(name, "rstd", rstd, x);
        RequireRank(name, "x", x, 2);
        int rows = x.Shape.Dims[0], d = x.Shape.Dims[1];
        RequireShape(name, "weight", weight, new Shape(d));
        RequireShape(name, "y", y, x.Shape);
        RequireShape(name, "rstd", rstd, new Shape(rows));

        var w = ReadLane(hw, weight.Offset, weight.Strides[0], d);
        for (var r = 0; r < rows; r++)
        {
            var row = ReadLane(hx, x.Offset + r * x.Strides[0], x.Strides[1], d);
            var squares = new NeumaierSum();
            foreach (var v in row)
                squares.Add(v * v);
            var inverseRms = 1.0 / Math.Sqrt(squares.Value / d + eps);
            hr[rstd.Offset + r * rstd.Strides[0]] = inverseRms;
            for (var j = 0; j < d; j++)
                hy[y.Offset + r * y.Strides[0] + j * y.Strides[1]] = w[j] * (row[j] * inverseRms);
        }
    }

    /// <summary>
    /// With the saved rstd r (as stored): dx[r, j] = r·w[j]·dy[r, j] − (r³/D)·x[r, j]·Σₖ w[k]·dy[r, k]·x[r, k] and
    /// dweight[j] = Σᵣ dy[r, j]·x[r, j]·r. Both outputs are overwritten (dweight is 0 when R = 0).
    /// </summary>
    public void RmsNormBackward(in TensorView x, in TensorView weight, in TensorView rstd, in TensorView dy,
        in TensorView dx, in TensorView dweight)
    {
        const string name = "rms_norm_backward";
        var hx = Host(x, name, "x");
        var hw = Host(weight, name, "weight");
        var hr = Host(rstd, name, "rstd");
        var hdy = Host(dy, name, "dy");
        var hdx = Host(dx, name, "dx");
        var hdw = Host(dweight, name, "dweight");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "weight", weight, x);
        RequireSameDType(name, "rstd", rstd, x);
        RequireSameDType(name, "dy", dy, x);
        RequireSameDType(name, "dx", dx, x);
        RequireSameDType(name, "dweight", dweight, x);
        RequireRank(name, "x", x, 2);
        int rows = x.Shape.Dims[0], d = x.Shape.Dims[1];
        RequireShape(name, "weight", weight, new Shape(d));
        RequireShape(name, "rstd", rstd, new Shape(rows));
        RequireShape(name, "dy", dy, x.Shape);
        RequireShape(name, "dx", dx, x.Shape);
        RequireShape(name, "dweight", dweight, new Shape(d));

        var w = ReadLane(hw, weight.Offset, weight.Strides[0], d);
        var dw = new NeumaierSum[d];
        for (var r = 0; r < rows; r++)
        {
            var xRow = ReadLane(hx, x.Offset + r * x.Strides[0], x.Strides[1], d);
            var dyRow = ReadLane(hdy, dy.Offset + r * dy.Strides[0], dy.Strides[1], d);
            var inverseRms = hr[rstd.Offset + r * rstd.Strides[0]];
            var projection = new NeumaierSum();
            for (var j = 0; j < d; j++)
                projection.Add(w[j] * dyRow[j] * xRow[j]);
            var correction = inverseRms * inverseRms * inverseRms / d * projection.Value;
            for (var j = 0; j < d; j++)
            {
                hdx[dx.Offset + r * dx.Strides[0] + j * dx.Strides[1]] =
                    inverseRms * w[j] * dyRow[j] - correction * xRow[j];
                dw[j].Add(dyRow[j] * xRow[j] * inverseRms);
            }
        }
        for (var j = 0; j < d; j++)
            hdw[dweight.Offset + j * dweight.Strides[0]] = dw[j].Value;
    }

    /// <summary>
    /// For logits (R, V) and int32 targets (R): lse[r] = logsumexp(logits[r]) (see <see cref="LogSumExp"/> for −∞
    /// and NaN rows) and nll[r] = lse[r] − logits[r, target[r]], or 0 where target[r] = ignoreIndex. Every target
    /// that is not ignored must lie in [0, V), else <see cref="TensorIndexException"/> is thrown before anything
    /// is written.
    /// </summary>
    public void CrossEntropy(in TensorView logits, in TensorView targets, in TensorView nll, in TensorView lse,
        int ignoreIndex)
    {
        const string name = "cross_entropy";
        var hl = Host(logits, name, "logits");
        var ht = Host(targets, name, "targets");
        var hn = Host(nll, name, "nll");
        var hs = Host(lse, name, "lse");
        RequireFloat(name, "logits", logits);
        RequireDType(name, "targets", targets, DType.Int32);
        RequireSameDType(name, "nll", nll, logits);
        RequireSameDType(name, "lse", lse, logits);
        RequireRank(name, "logits", logits, 2);
        int rows = logits.Shape.Dims[0], vocab = logits.Shape.Dims[1];
        RequireShape(name, "targets", targets, new Shape(rows));
        RequireShape(name, "nll", nll, new Shape(rows));
        RequireShape(name, "lse", lse, new Shape(rows));
        var target = ReadTargets(ht, rows, vocab, ignoreIndex, name);

        for (var r = 0; r < rows; r++)
        {
            var row = ReadLane(hl, logits.Offset + r * logits.Strides[0], logits.Strides[1], vocab);
            var rowLse = LogSumExp(row);
            hs[lse.Offset + r * lse.Strides[0]] = rowLse;
            hn[nll.Offset + r * nll.Strides[0]] = target[r] == ignoreIndex ? 0.0 : rowLse - row[target[r]];
        }
    }

    /// <summary>
    /// dlogits[r, v] = (g + gLse[r])·pᵥ − g·[v = target[r]] with pᵥ = e^(logits[r, v] − lse[r]) from the given lse,
    /// and g = gNll[r], or g = 0 for a row whose target is ignoreIndex (its nll part vanishes; the lse part stays).
    /// Targets are validated as in <see cref="CrossEntropy"/>.
    /// </summary>
    public void CrossEntropyBackward(in TensorView logits, in TensorView targets, in TensorView lse,
        in TensorView gradNll, in TensorView gradLse, in TensorView dlogits, int ignoreIndex)
    {
        const string name = "cross_entropy_backward";
        var hl = Host(logits, name, "logits");
        var ht = Host(targets, name, "targets");
        var hs = Host(lse, name, "lse");
        var hgn = Host(gradNll, name, "gradNll");
        var hgs = Host(gradLse, name, "gradLse");
        var hd = Host(dlogits, name, "dlogits");
        RequireFloat(name, "logits", logits);
        RequireDType(name, "targets", targets, DType.Int32);
        RequireSameDType(name, "lse", lse, logits);
        RequireSameDType(name, "gradNll", gradNll, logits);
        RequireSameDType(name, "gradLse", gradLse, logits);
        RequireSameDType(name, "dlogits", dlogits, logits);
        RequireRank(name, "logits", logits, 2);
        int rows = logits.Shape.Dims[0], vocab = logits.Shape.Dims[1];
        RequireShape(name, "targets", targets, new Shape(rows));
        RequireShape(name, "lse", lse, new Shape(rows));
        RequireShape(name, "gradNll", gradNll, new Shape(rows));
        RequireShape(name, "gradLse", gradLse, new Shape(rows));
        RequireShape(name, "dlogits", dlogits, logits.Shape);
        var target = ReadTargets(ht, rows, vocab, ignoreIndex, name);

        for (var r = 0; r < rows; r++)
        {
            var row = ReadLane(hl, logits.Offset + r * logits.Strides[0], logits.Strides[1], vocab);
            var rowLse = hs[lse.Offset + r * lse.Strides[0]];
            var ignored = target[r] == ignoreIndex;
            var gNll = ignored ? 0.0 : hgn[gradNll.Offset + r * gradNll.Strides[0]];
            var gLse = hgs[gradLse.Offset + r * gradLse.Strides[0]];
            for (var v = 0; v < vocab; v++)
            {
                var p = Math.Exp(row[v] - rowLse);
                var grad = (gNll + gLse) * p;
                if (!ignored && v == target[r])
                    grad -= gNll;
                hd[dlogits.Offset + r * dlogits.Strides[0] + v * dlogits.Strides[1]] = grad;
            }
        }
    }

    /// <summary>Reads the targets; each one is ignoreIndex or lies in [0, vocab), else TensorIndexException.</summary>
    private static int[] ReadTargets(HostView targets, int rows, int vocab, int ignoreIndex, string op)
    {
        var result = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var t = (int)targets[targets.View.Offset + r * targets.Stride(0)];
            if (t != ignoreIndex)
                RequireIndex(op, t, vocab, 1);
            result[r] = t;
        }
        return result;
    }
}
