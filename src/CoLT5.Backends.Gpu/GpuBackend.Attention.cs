// The fused attention on the GPU (Kernels/attention.h): the shared argument checks, the kernels' set and row
// descriptors, tile sizes per head dimension, and the three launches (forward; backward dQ, then dK/dV per set).
using System;
using System.Runtime.InteropServices;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <summary>Work-items per attention work-group (AT_THREADS in attention.h).</summary>
    private const int AttentionThreads = 256;

    /// <summary>Largest head dimension the fused kernels take (its tiles then hold 8 rows; local memory ≤ 48 KB, checked as the kernels compile).</summary>
    private const int MaxFusedHeadDim = 256;

    /// <summary>Most buckets a bias table may have for the fused kernels: the dQ pass sums the bias gradient in a
    /// local histogram of NBMAX (≥ buckets, a power of two) per set, which must fit beside the tiles of the largest
    /// head dimension. Larger tables (T5 uses 32) decline the fused path in both directions.</summary>
    private const int MaxFusedBuckets = 512;

    /// <inheritdoc/>
    public bool HasFusedAttention => true;

    /// <inheritdoc/>
    public bool TryAttention(in TensorView q, in AttentionKeys main, in AttentionKeys side, in TensorView output,
        in TensorView lse)
    {
        const string op = "attention";
        if (q.DType != DType.Float32 || q.Rank != 4 || q.Shape[3] > MaxFusedHeadDim
            || Math.Max(Buckets(main), Buckets(side)) > MaxFusedBuckets)
            return false;
        var (b, h, tq, d) = FusedOpChecks.Attention(op, q, main, side, output, lse);
        if (tq == 0 || b == 0 || h == 0)
            return true;
        var rows = Rows(q, output, default, lse, 0, 0);
        var args = new KernelArgs();
        args.Buffer(Own(q));
        args.Buffer(Own(output));
        args.Buffer(Own(lse));
        args.Buffer(ErrorBuffer);
        args.Struct(rows);
        AddSet(ref args, main, default, default, default);
        AddSet(ref args, side, default, default, default);
        var t = Tile(d);
        var kernel = Kernels.Get("attention.h", "attention_forward", Defines(d, 2 * t, t, 1, pass: 0));
        runtime.Launch(kernel, new Dim3((tq + 2 * t - 1) / (2 * t), h, b), new Dim3(AttentionThreads), args);
        return true;
    }

    /// <inheritdoc/>
    public bool TryAttentionBackward(in TensorView q, in AttentionKeys main, in AttentionKeys side,
        in TensorView output, in TensorView lse, in TensorView dOutput, in AttentionGradients grads)
    {
        const string op = "attention_backward";
        if (q.DType != DType.Float32 || q.Rank != 4 || q.Shape[3] > MaxFusedHeadDim
            || Math.Max(Buckets(main), Buckets(side)) > MaxFusedBuckets)
            return false;
        var (b, h, tq, d) = FusedOpChecks.Attention(op, q, main, side, output, lse);
        FusedOpChecks.AttentionGradients(op, q, main, side, dOutput, grads);
        if (main.BiasTable.Buffer is not null)
            Fill(grads.DBias, 0);                                        // the dQ pass adds into the tables
        if (side.Present && side.BiasTable.Buffer is not null)
            Fill(grads.DSideBias, 0);
        if (tq == 0 || b == 0 || h == 0)
        {
            Fill(grads.DK, 0);
            Fill(grads.DV, 0);
            if (side.Present)
            {
                Fill(grads.DSideK, 0);
                Fill(grads.DSideV, 0);
            }
            return true;
        }
        var t = Tile(d);
        using var dots = (GpuBuffer)Allocate(DType.Float32, (long)b * h * tq);      // rowsum(dO ∘ O)
        var rows = Rows(q, output, dOutput, lse, grads.DQ.Offset, 0);
        var args = new KernelArgs();
        args.Buffer(Own(q));
        args.Buffer(Own(output));
        args.Buffer(Own(dOutput));
        args.Buffer(Own(lse));
        args.Buffer(dots.Handle);
        args.Buffer(Own(grads.DQ));
        args.Buffer(main.BiasTable.Buffer is null ? ErrorBuffer : Own(grads.DBias));
        args.Buffer(side.Present && side.BiasTable.Buffer is not null ? Own(grads.DSideBias) : ErrorBuffer);
        args.Struct(rows);
        AddSet(ref args, main, default, default, grads.DBias);
        AddSet(ref args, side, default, default, grads.DSideBias);
        // the histogram holds at least 32 buckets (T5's count), so one build serves every usual table
        var buckets = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(32, Math.Max(Buckets(main), Buckets(side))));
        var dq = Kernels.Get("attention.h", "attention_backward_dq", Defines(d, t, t, buckets, pass: 1));
        runtime.Launch(dq, new Dim3((tq + t - 1) / t, h, b), new Dim3(AttentionThreads), args);
        KeyGradients(q, dOutput, lse, dots.Handle, rows, main, grads.DK, grads.DV, d, t);
        if (side.Present)
            KeyGradients(q, dOutput, lse, dots.Handle, rows, side, grads.DSideK, grads.DSideV, d, t);
        return true;
    }

    // dK and dV of one set: one work-group per (key tile, kv head, batch row).
    private void KeyGradients(in TensorView q, in TensorView dOutput, in TensorView lse, nint dots, AttnRows rows,
        in AttentionKeys set, in TensorView dk, in TensorView dv, int d, int t)
    {
        var (b, g, tk) = (set.K.Shape[0], set.K.Shape[1], set.K.Shape[2]);
        if (tk == 0)
            return;
        var args = new KernelArgs();
        args.Buffer(Own(q));
        args.Buffer(Own(dOutput));
        args.Buffer(Own(lse));
        args.Buffer(dots);
        args.Buffer(Own(dk));
        args.Buffer(Own(dv));
        args.Struct(rows);
        AddSet(ref args, set, dk, dv, default);
        var kernel = Kernels.Get("attention.h", "attention_backward_dkv", Defines(d, t, t, 1, pass: 2));
        runtime.Launch(kernel, new Dim3((tk + t - 1) / t, g, b), new Dim3(AttentionThreads), args);
    }

    /// <summary>Rows per tile for a head dimension: 32 up to 64, 16 up to 128, 8 beyond (the forward's query tile
    /// is twice that), keeping every kernel's local memory within CUDA's 48 KB of static shared memory (AT_LOCAL_FITS).</summary>
    private static int Tile(int d) => d <= 64 ? 32 : d <= 128 ? 16 : 8;

    // `pass` picks the one kernel the build holds (AT_PASS in attention.h).
    private static string[] Defines(int d, int bq, int bk, int buckets, int pass) =>
        [$"DH={d}", $"BQ={bq}", $"BK={bk}", $"NBMAX={buckets}", $"AT_PASS={pass}"];

    private static int Buckets(in AttentionKeys set) =>
        set.Present && set.BiasTable.Buffer is not null ? set.BiasTable.Shape[1] : 0;

    // The query side's offsets and strides (q, output, dOutput), the lse offset, the dQ offset, and the sizes.
    private static AttnRows Rows(in TensorView q, in TensorView output, in TensorView dOutput, in TensorView lse,
        long dq, long dots)
    {
        var r = new AttnRows
        {
            Q = q.Offset,
            QB = q.Strides[0],
            QH = q.Strides[1],
            QT = q.Strides[2],
            O = output.Offset,
            OB = output.Strides[0],
            OH = output.Strides[1],
            OT = output.Strides[2],
            Lse = lse.Offset,
            Dots = dots,
            DQ = dq,
            Batch = q.Shape[0],
            Heads = q.Shape[1],
            Tq = q.Shape[2],
        };
        if (dOutput.Buffer is not null)
            (r.G, r.GB, r.GH, r.GT) = (dOutput.Offset, dOutput.Strides[0], dOutput.Strides[1], dOutput.Strides[2]);
        return r;
    }

    // A set's seven buffers (placeholders where absent) and its descriptor; an absent set has Tk = 0.
    private void AddSet(ref KernelArgs args, in AttentionKeys set, in TensorView dk, in TensorView dv,
        in TensorView dTable)
    {
        var s = new AttnSet();
        if (!set.Present)
        {
            for (var i = 0; i < 7; i++)
                args.Buffer(ErrorBuffer);
            args.Struct(s);
            return;
        }
        args.Buffer(Own(set.K));
        args.Buffer(Own(set.V));
        args.Buffer(Optional(set.KeyMask, ref s.Mask, ref s.Flags, AttnSet.HasMask));
        args.Buffer(Optional(set.KeyPositions, ref s.KPos, ref s.Flags, AttnSet.HasKeyPositions));
        args.Buffer(Optional(set.QueryPositions, ref s.QPos, ref s.Flags, AttnSet.HasQueryPositions));
        args.Buffer(Optional(set.BiasTable, ref s.Table, ref s.Flags, AttnSet.HasBias));
        args.Buffer(set.BiasTable.Buffer is null ? ErrorBuffer : Own(set.BucketMap));
        (s.K, s.V) = (set.K.Offset, set.V.Offset);
        (s.KB, s.KH, s.KT) = (set.K.Strides[0], set.K.Strides[1], set.K.Strides[2]);
        (s.VB, s.VH, s.VT) = (set.V.Strides[0], set.V.Strides[1], set.V.Strides[2]);
        (s.Tk, s.Groups, s.Window) = (set.K.Shape[2], set.K.Shape[1], set.Window);
        if (set.Window != int.MaxValue)
            s.Flags |= AttnSet.Banded;
        if (set.BiasTable.Buffer is not null)
        {
            (s.Map, s.MapLen, s.MapLow, s.Buckets) = (set.BucketMap.Offset, set.BucketMap.Shape[0], set.BucketLow,
                set.BiasTable.Shape[1]);
        }
        s.DK = dk.Buffer is null ? 0 : dk.Offset;
        s.DV = dv.Buffer is null ? 0 : dv.Offset;
        s.DTable = dTable.Buffer is null ? 0 : dTable.Offset;
        args.Struct(s);
    }

    private nint Optional(in TensorView view, ref long offset, ref int flags, int flag)
    {
        if (view.Buffer is null)
            return ErrorBuffer;
        offset = view.Offset;
        flags |= flag;
        return Own(view);
    }

    /// <summary>Bytes identical to attention.h's <c>AttnSet</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct AttnSet
    {
        public const int HasMask = 1, HasKeyPositions = 2, HasQueryPositions = 4, HasBias = 8, Banded = 16;

        public long K, V, Mask, KPos, QPos, Table, Map, DK, DV, DTable;
        public long KB, KH, KT, VB, VH, VT;
        public int Tk, Groups, Window, Buckets, MapLen, MapLow, Flags, Unused;
    }

    /// <summary>Bytes identical to attention.h's <c>AttnRows</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct AttnRows
    {
        public long Q, QB, QH, QT, O, OB, OH, OT, G, GB, GH, GT, Lse, Dots, DQ;
        public int Batch, Heads, Tq, Unused;
    }
}
