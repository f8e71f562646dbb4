// The fused attention on the CPU: argument checks (shapes, dtypes, strides, bucket maps in range), then the tile
// kernels in AttentionKernel.
using System;
using System.Numerics;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public bool HasFusedAttention => true;

    /// <inheritdoc/>
    public bool TryAttention(in TensorView q, in AttentionKeys main, in AttentionKeys side, in TensorView output,
        in TensorView lse)
    {
        const string op = "attention";
        if (q.DType is not (DType.Float32 or DType.Float64))
            return false;
        var z = CheckAttention(op, q, main, side, output, lse);
        if (q.DType == DType.Float32)
            ForwardAttention<float>(z, q, main, side, output, lse);
        else
            ForwardAttention<double>(z, q, main, side, output, lse);
        return true;
    }

    /// <inheritdoc/>
    public bool TryAttentionBackward(in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse, in TensorView dOutput, in AttentionGradients grads)
    {
        const string op = "attention_backward";
        if (q.DType is not (DType.Float32 or DType.Float64))
            return false;
        var z = CheckAttention(op, q, main, side, output, lse);
        CheckHeadRows(op, "dOutput", dOutput, q.Shape, q.DType);
        CheckGrad(op, "dQ", grads.DQ, q.Shape, q.DType);
        CheckSetGrads(op, main, grads.DK, grads.DV, grads.DBias, q.DType);
        if (side.Present)
            CheckSetGrads(op, side, grads.DSideK, grads.DSideV, grads.DSideBias, q.DType);
        if (q.DType == DType.Float32)
            BackwardAttention<float>(z, q, main, side, output, lse, dOutput, grads);
        else
            BackwardAttention<double>(z, q, main, side, output, lse, dOutput, grads);
        return true;
    }

    private void ForwardAttention<T>(AttentionSizes z, in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var qs = q.Strides;
        var os = output.Strides;
        AttentionKernel.Forward(z, At<T>(q), qs[0], qs[1], qs[2], KeySet<T>(main), KeySet<T>(side), At<T>(output),
            os[0], os[1], os[2], At<T>(lse));
    }

    private void BackwardAttention<T>(AttentionSizes z, in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse, in TensorView dOutput, in AttentionGradients g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var qs = q.Strides;
        var os = output.Strides;
        var ds = dOutput.Strides;
        AttentionKernel.Backward(z, At<T>(q), qs[0], qs[1], qs[2], KeySet<T>(main), KeySet<T>(side), At<T>(output),
            os[0], os[1], os[2], At<T>(lse), At<T>(dOutput), ds[0], ds[1], ds[2], At<T>(g.DQ),
            KeyGrads<T>(main, g.DK, g.DV, g.DBias), KeyGrads<T>(side, g.DSideK, g.DSideV, g.DSideBias));
    }

    private AttentionKeySet<T> KeySet<T>(in AttentionKeys keys) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!keys.Present)
            return default;
        var set = new AttentionKeySet<T>
        {
            K = At<T>(keys.K),
            V = At<T>(keys.V),
            KB = keys.K.Strides[0],
            KH = keys.K.Strides[1],
            KT = keys.K.Strides[2],
            VB = keys.V.Strides[0],
            VH = keys.V.Strides[1],
            VT = keys.V.Strides[2],
            Tk = keys.K.Shape[2],
            Groups = keys.K.Shape[1],
            Mask = keys.KeyMask.Buffer is null ? null : (byte*)At<bool>(keys.KeyMask),
            KeyPositions = keys.KeyPositions.Buffer is null ? null : At<int>(keys.KeyPositions),
            QueryPositions = keys.QueryPositions.Buffer is null ? null : At<int>(keys.QueryPositions),
            Window = keys.Window,
        };
        if (keys.BiasTable.Buffer is not null)
        {
            set.Table = At<T>(keys.BiasTable);
            set.Buckets = keys.BiasTable.Shape[1];
            set.Map = At<int>(keys.BucketMap);
            set.MapLen = keys.BucketMap.Shape[0];
            set.MapLow = keys.BucketLow;
        }
        return set;
    }

    private AttentionKeyGrads<T> KeyGrads<T>(in AttentionKeys keys, in TensorView dk, in TensorView dv,
        in TensorView dBias) where T : unmanaged
    {
        if (!keys.Present)
            return default;
        return new AttentionKeyGrads<T>
        {
            DK = At<T>(dk),
            DV = At<T>(dv),
            DTable = keys.BiasTable.Buffer is null ? null : At<T>(dBias),
        };
    }

    // q (B, H, Tq, D), output like q, lse (B, H, Tq) contiguous; each set checked against them.
    private AttentionSizes CheckAttention(string op, in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse)
    {
        if (q.Rank != 4)
            throw new InvalidShapeException(op, q.Shape, "queries must be (B, H, Tq, D)");
        var z = new AttentionSizes(q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]);
        CheckHeadRows(op, "queries", q, q.Shape, q.DType);
        CheckHeadRows(op, "output", output, q.Shape, q.DType);
        if (lse.Shape != new Shape(z.B, z.H, z.Tq) || lse.DType != q.DType || !lse.IsContiguous)
            throw new ShapeMismatchException(op, q.Shape, lse.Shape, $"lse must be contiguous (B, H, Tq) {q.DType}");
        if (!main.Present)
            throw new ArgumentException($"{op}: the main key set is required", nameof(main));
        CheckKeySet(op, "main", main, z, q.DType);
        if (side.Present)
        {
            CheckKeySet(op, "side", side, z, q.DType);
            if (side.K.Shape[1] != main.K.Shape[1])
                throw new ShapeMismatchException(op, main.K.Shape, side.K.Shape,
                    "both key sets must have the same number of kv heads");
        }
        return z;
    }

    private void CheckKeySet(string op, string name, in AttentionKeys keys, AttentionSizes z, DType dtype)
    {
        var kShape = keys.K.Shape;
        if (kShape.Rank != 4 || kShape[0] != z.B || kShape[1] == 0 || z.H % kShape[1] != 0 || kShape[3] != z.D)
            throw new ShapeMismatchException(op, new Shape(z.B, z.H, z.Tq, z.D), kShape,
                $"{name} keys must be (B, G, Tk, D) with G dividing H");
        CheckHeadRows(op, name + " keys", keys.K, kShape, dtype);
        CheckHeadRows(op, name + " values", keys.V, kShape, dtype);
        var tk = kShape[2];
        CheckOptional(op, name + " key mask", keys.KeyMask, new Shape(z.B, tk), DType.Bool);
        CheckOptional(op, name + " key positions", keys.KeyPositions, new Shape(z.B, tk), DType.Int32);
        CheckOptional(op, name + " query positions", keys.QueryPositions, new Shape(z.B, z.Tq), DType.Int32);
        if (keys.Window < 0)
            throw new ArgumentOutOfRangeException(nameof(keys), keys.Window, $"{op}: {name} window must be ≥ 0");
        if (keys.BiasTable.Buffer is null)
            return;
        var table = keys.BiasTable;
        if (table.Rank != 2 || table.Shape[0] != z.H || table.DType != dtype || !table.IsContiguous)
            throw new ShapeMismatchException(op, new Shape(z.H), table.Shape,
                $"the {name} bias table must be contiguous (H, buckets) {dtype}");
        var map = keys.BucketMap;
        if (map.Buffer is null || map.Rank != 1 || map.Shape[0] == 0 || map.DType != DType.Int32 || !map.IsContiguous)
            throw new InvalidShapeException(op, map.Buffer is null ? new Shape(0) : map.Shape,
                $"the {name} bucket map must be a non-empty contiguous int32 vector");
        var buckets = table.Shape[1];
        int* ids = At<int>(map);
        for (var t = 0; t < map.Shape[0]; t++)
        {
            if ((uint)ids[t] >= (uint)buckets)
                throw new ArgumentOutOfRangeException(nameof(keys), ids[t],
                    $"{op}: {name} bucket map entry {t} is {ids[t]}, outside [0, {buckets})");
        }
    }

    // A (…, T, D) view with unit stride on D in the given dtype and shape.
    private static void CheckHeadRows(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Shape != shape)
            throw new ShapeMismatchException(op, shape, v.Shape, $"{name} has the wrong shape");
        if (v.DType != dtype)
            throw new DTypeMismatchException(op, $"{name} {v} must be {dtype}");
        if (shape[3] > 1 && v.Strides[3] != 1)
            throw new InvalidShapeException(op, v.Shape, $"{name} needs unit stride on its last dimension");
    }

    // A contiguous view of exactly this shape and dtype (gradients, masks, positions).
    private static void CheckGrad(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Shape != shape || v.DType != dtype || !v.IsContiguous)
            throw new ShapeMismatchException(op, shape, v.Shape, $"{name} must be contiguous {dtype} of this shape");
    }

    private static void CheckSetGrads(string op, in AttentionKeys keys, in TensorView dk, in TensorView dv,
        in TensorView dBias, DType dtype)
    {
        CheckGrad(op, "dK", dk, keys.K.Shape, dtype);
        CheckGrad(op, "dV", dv, keys.K.Shape, dtype);
        if (keys.BiasTable.Buffer is not null)
            CheckGrad(op, "dBias", dBias, keys.BiasTable.Shape, dtype);
    }

    private static void CheckOptional(string op, string name, in TensorView v, Shape shape, DType dtype)
    {
        if (v.Buffer is not null)
            CheckGrad(op, name, v, shape, dtype);
    }
}
