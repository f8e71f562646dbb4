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
        FusedOpChecks.AttentionGradients(op, q, main, side, dOutput, grads);
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

    // The shared checks, then every bucket map entry inside its table (the maps are host memory here).
    private AttentionSizes CheckAttention(string op, in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse)
    {
        var (b, h, tq, d) = FusedOpChecks.Attention(op, q, main, side, output, lse);
        CheckBucketMap(op, "main", main);
        if (side.Present)
            CheckBucketMap(op, "side", side);
        return new AttentionSizes(b, h, tq, d);
    }

    private void CheckBucketMap(string op, string name, in AttentionKeys keys)
    {
        if (keys.BiasTable.Buffer is null)
            return;
        var buckets = keys.BiasTable.Shape[1];
        int* ids = At<int>(keys.BucketMap);
        for (var t = 0; t < keys.BucketMap.Shape[0]; t++)
        {
            if ((uint)ids[t] >= (uint)buckets)
                throw new ArgumentOutOfRangeException(nameof(keys), ids[t],
                    $"{op}: {name} bucket map entry {t} is {ids[t]}, outside [0, {buckets})");
        }
    }
}
