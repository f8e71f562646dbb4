// One key set of the fused attention kernel as raw pointers and strides, plus what the kernel derives from it once
// per call: the bias of every offset per head, the additive key mask and the transposed keys.
using System;
using System.Numerics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Pointers and strides of one key set (see CoLT5.Tensors.Backends.AttentionKeys).</summary>
internal unsafe struct AttentionKeySet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Keys and values (B, G, Tk, D), unit stride on D; strides per batch row, kv head and key.</summary>
    public T* K, V;
    public long KB, KH, KT, VB, VH, VT;

    /// <summary>Key/value heads G (H a multiple of G: query head h reads kv head h / (H/G)).</summary>
    public int Groups;

    /// <summary>Number of keys Tk.</summary>
    public int Tk;

    /// <summary>(B, Tk) real-key flags or null; (B, Tk) key positions or null (j); (B, Tq) query positions or null (i).</summary>
    public byte* Mask;
    public int* KeyPositions, QueryPositions;

    /// <summary>Band half-width (int.MaxValue: none).</summary>
    public int Window;

    /// <summary>(H, NB) table or null; bucket map of MapLen offsets starting at MapLow.</summary>
    public T* Table;
    public int Buckets;
    public int* Map;
    public int MapLen, MapLow;

    /// <summary>Derived once per call: (H, MapLen) bias per offset, (B, Tk) additive mask (0 / −∞), Kᵀ and Vᵀ in
    /// key tiles (B, G, tiles, D, KeyTile), each tile one contiguous block.</summary>
    public T* BiasByOffset, MaskAdd, KeysT, ValuesT;

    public readonly bool Banded => Window != int.MaxValue;

    /// <summary>The kv head query head <paramref name="h"/> of <paramref name="heads"/> reads.</summary>
    public readonly int KvHead(int h, int heads) => h / (heads / Groups);

    /// <summary>Key tiles per (b, kv head).</summary>
    public readonly int Tiles => (Tk + AttentionKernel.KeyTile - 1) / AttentionKernel.KeyTile;

    /// <summary>Kᵀ or Vᵀ tile of (b, kv head g) holding key j0 (a multiple of KeyTile): D rows of KeyTile.</summary>
    public readonly T* TileOf(T* transposed, int b, int g, int d, int j0) =>
        transposed + (((long)b * Groups + g) * Tiles + j0 / AttentionKernel.KeyTile) * d * AttentionKernel.KeyTile;

    /// <summary>Position of query i of batch row b for this set.</summary>
    public readonly int QueryPosition(int b, int tq, int i) => QueryPositions is null ? i : QueryPositions[b * tq + i];

    /// <summary>
    /// The key range [lo, hi) a tile of queries [i0, i1) can read: the band around the tile's query positions when
    /// the keys sit at 0..Tk−1, else every key. The range covers whole key tiles (keys outside the band are masked).
    /// </summary>
    public readonly (int Lo, int Hi) KeyRange(int b, int tq, int i0, int i1)
    {
        if (!Banded || KeyPositions is not null)
            return (0, Tk);
        int min = int.MaxValue, max = int.MinValue;
        for (var i = i0; i < i1; i++)
        {
            var p = QueryPosition(b, tq, i);
            min = Math.Min(min, p);
            max = Math.Max(max, p);
        }
        var lo = (long)min - Window;
        var hi = (long)max + Window + 1;
        // whole tiles (keys outside the band are masked): no short tile inside the sequence
        const int tile = AttentionKernel.KeyTile;
        var first = (int)Math.Clamp(lo, 0, Tk) / tile * tile;
        var end = (int)Math.Min(Tk, (Math.Clamp(hi, 0, Tk) + tile - 1) / tile * tile);
        return (first, end);
    }
}
