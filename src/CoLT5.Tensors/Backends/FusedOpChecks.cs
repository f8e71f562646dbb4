// Argument checks of the optional fused ops (attention, soft top-k, Fourier mixing) that every backend with kernels
// for them makes the same way: shapes, dtypes, strides and presence of each view, before any work.
using System;

namespace CoLT5.Tensors.Backends;

/// <summary>Shared validation for <see cref="IBackend.TryAttention"/>, <see cref="IBackend.TrySoftTopK"/>,
/// <see cref="IBackend.TryFourierMix"/> and their backwards (typed errors naming the op and the view).</summary>
public static class FusedOpChecks
{
    /// <summary>
    /// q (B, H, Tq, D) and output like it with unit stride on D, lse contiguous (B, H, Tq), a present main set and
    /// each set's keys, values, masks, positions, window and table (see <see cref="AttentionKeys"/>). Bucket map
    /// entries are range-checked by the backend (they may live on a device).
    /// </summary>
    /// <returns>The sizes B, H, Tq, D.</returns>
    public static (int B, int H, int Tq, int D) Attention(string op, in TensorView q, in AttentionKeys main,
        in AttentionKeys side, in TensorView output, in TensorView lse)
    {
        if (q.Rank != 4)
            throw new InvalidShapeException(op, q.Shape, "queries must be (B, H, Tq, D)");
        var (b, h, tq, d) = (q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]);
        HeadRows(op, "queries", q, q.Shape, q.DType);
        HeadRows(op, "output", output, q.Shape, q.DType);
        if (lse.Shape != new Shape(b, h, tq) || lse.DType != q.DType || !lse.IsContiguous)
            throw new ShapeMismatchException(op, q.Shape, lse.Shape, $"lse must be contiguous (B, H, Tq) {q.DType}");
        if (!main.Present)
            throw new ArgumentException($"{op}: the main key set is required", nameof(main));
        KeySet(op, "main", main, q.Shape, q.DType);
        if (side.Present)
        {
            KeySet(op, "side", side, q.Shape, q.DType);
            if (side.K.Shape[1] != main.K.Shape[1])
                throw new ShapeMismatchException(op, main.K.Shape, side.K.Shape,
                    "both key sets must have the same number of kv heads");
        }
        return (b, h, tq, d);
    }

    /// <summary>dOutput like q (unit stride on D); dQ, and each set's dK, dV and dBias, contiguous in their inputs'
    /// shapes.</summary>
    public static void AttentionGradients(string op, in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView dOutput, in AttentionGradients grads)
    {
        HeadRows(op, "dOutput", dOutput, q.Shape, q.DType);
        Dense(op, "dQ", grads.DQ, q.Shape, q.DType);
        SetGradients(op, main, grads.DK, grads.DV, grads.DBias, q.DType);
        if (side.Present)
            SetGradients(op, side, grads.DSideK, grads.DSideV, grads.DSideBias, q.DType);
    }

    /// <summary>scores (R, n); mask (R, n) bool or absent; k (R) in the scores' dtype; state (R, T) float64; all
    /// contiguous; the parameters valid.</summary>
    /// <returns>Rows R and row length n.</returns>
    public static (long Rows, int N) SoftTopK(string op, in TensorView scores, in TensorView mask, in TensorView k,
        in TensorView state, SoftTopKParams p)
    {
        p.Validate();
        if (scores.Rank != 2)
            throw new InvalidShapeException(op, scores.Shape, "scores must be (rows, n)");
        var rows = scores.Shape[0];
        if (k.Shape != new Shape(rows))
            throw new ShapeMismatchException(op, scores.Shape, k.Shape, "k must hold one budget per row");
        if (state.Shape != new Shape(rows, p.StateLength))
            throw new ShapeMismatchException(op, scores.Shape, state.Shape,
                $"the state must be (rows, {p.StateLength})");
        if (k.DType != scores.DType || state.DType != DType.Float64)
            throw new DTypeMismatchException(op, $"k {k} must match scores {scores}, the state {state} be float64");
        Contiguous(op, scores);
        Contiguous(op, k);
        Contiguous(op, state);
        if (mask.Buffer is not null)
        {
            if (mask.Shape != scores.Shape)
                throw new ShapeMismatchException(op, scores.Shape, mask.Shape, "the mask must match the scores");
            if (mask.DType != DType.Bool)
                throw new DTypeMismatchException(op, $"the mask must be bool, got {mask}");
            Contiguous(op, mask);
        }
        return (rows, scores.Shape[1]);
    }

    /// <summary>x (B, N, d) with N, d ≥ 1, and y of the same shape and dtype, both contiguous; a finite
    /// scale.</summary>
    /// <returns>The sizes B, N, d.</returns>
    public static (int B, int N, int D) FourierMix(string op, in TensorView x, in TensorView y, double scale)
    {
        if (x.Rank != 3 || x.Shape[1] == 0 || x.Shape[2] == 0)
            throw new InvalidShapeException(op, x.Shape, "x must be (B, N, d) with N, d ≥ 1");
        if (y.Shape != x.Shape)
            throw new ShapeMismatchException(op, x.Shape, y.Shape, "y must have x's shape");
        if (y.DType != x.DType)
            throw new DTypeMismatchException(op, $"y {y} must match x {x}");
        if (!double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"{op}: the scale must be finite");
        Contiguous(op, x);
        Contiguous(op, y);
        return (x.Shape[0], x.Shape[1], x.Shape[2]);
    }

    /// <summary>A contiguous view of the scores' shape and dtype (λ, dλ, d scores).</summary>
    public static void RowsLike(string op, in TensorView scores, in TensorView other)
    {
        if (other.Shape != scores.Shape)
            throw new ShapeMismatchException(op, scores.Shape, other.Shape, "the views must have the same shape");
        if (other.DType != scores.DType)
            throw new DTypeMismatchException(op, $"{other} must match scores {scores}");
        Contiguous(op, other);
    }

    private static void KeySet(string op, string name, in AttentionKeys keys, Shape q, DType dtype)
    {
        var (b, h, tq, d) = (q[0], q[1], q[2], q[3]);
        var kShape = keys.K.Shape;
        if (kShape.Rank != 4 || kShape[0] != b || kShape[1] == 0 || h % kShape[1] != 0 || kShape[3] != d)
            throw new ShapeMismatchException(op, q, kShape, $"{name} keys must be (B, G, Tk, D) with G dividing H");
        HeadRows(op, name + " keys", keys.K, kShape, dtype);
        HeadRows(op, name + " values", keys.V, kShape, dtype);
        var tk = kShape[2];
        Optional(op, name + " key mask", keys.KeyMask, new Shape(b, tk), DType.Bool);
        Optional(op, name + " key positions", keys.KeyPositions, new Shape(b, tk), DType.Int32);
        Optional(op, name + " query positions", keys.QueryPositions, new Shape(b, tq), DType.Int32);
        if (keys.Window < 0)
            throw new ArgumentOutOfRangeException(nameof(keys), keys.Window, $"{op}: {name} window must be ≥ 0");
        if (keys.BiasTable.Buffer is null)
            return;
        var table = keys.BiasTable;
        if (table.Rank != 2 || table.Shape[0] != h || table.DType != dtype || !table.IsContiguous)
            throw new ShapeMismatchException(op, new Shape(h), table.Shape,
                $"the {name} bias table must be contiguous (H, buckets) {dtype}");
        var map = keys.BucketMap;
        if (map.Buffer is null || map.Rank != 1 || map.Shape[0] == 0 || map.DType != DType.Int32 || !map.IsContiguous)
            throw new InvalidShapeException(op, map.Buffer is null ? new Shape(0) : map.Shape,
                $"the {name} bucket map must be a non-empty contiguous int32 vector");
    }

    // A (…, T, D) view with unit stride on D in the given dtype and shape.
    private static void HeadRows(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Shape != shape)
            throw new ShapeMismatchException(op, shape, v.Shape, $"{name} has the wrong shape");
        if (v.DType != dtype)
            throw new DTypeMismatchException(op, $"{name} {v} must be {dtype}");
        if (shape[3] > 1 && v.Strides[3] != 1)
            throw new InvalidShapeException(op, v.Shape, $"{name} needs unit stride on its last dimension");
    }

    // A contiguous view of exactly this shape and dtype (gradients, masks, positions).
    private static void Dense(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Shape != shape || v.DType != dtype || !v.IsContiguous)
            throw new ShapeMismatchException(op, shape, v.Shape, $"{name} must be contiguous {dtype} of this shape");
    }

    private static void SetGradients(string op, in AttentionKeys keys, in TensorView dk, in TensorView dv,
        in TensorView dBias, DType dtype)
    {
        Dense(op, "dK", dk, keys.K.Shape, dtype);
        Dense(op, "dV", dv, keys.K.Shape, dtype);
        if (keys.BiasTable.Buffer is not null)
            Dense(op, "dBias", dBias, keys.BiasTable.Shape, dtype);
    }

    private static void Optional(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Buffer is not null)
            Dense(op, name, v, shape, dtype);
    }

    private static void Contiguous(string op, in TensorView v)
    {
        if (!v.IsContiguous)
            throw new TensorException(op, $"the fused kernel needs contiguous operands, got {v}");
    }
}
