// LongT5 transient-global bookkeeping: which global block each token belongs to (incomplete last blocks join the
// previous full block, padding gets −1) and which global tokens exist (segment ids, −1 beyond the last block).
namespace CoLT5.Model.Layers;

/// <summary>Fixed-size global blocks as LongT5 defines them.</summary>
public static class TransientGlobalBlocks
{
    /// <summary>Block id of every token (B·n): i / g for real tokens, capped at the last full block; −1 for padding.</summary>
    public static int[] BlockIds(bool[] mask, int batch, int n, int g)
    {
        var ids = new int[batch * n];
        for (var b = 0; b < batch; b++)
        {
            var fullBlocks = 0;
            for (var i = 0; i < n; i++)
            {
                if (i % g == g - 1 && mask[b * n + i])
                    fullBlocks++;
            }
            for (var i = 0; i < n; i++)
                ids[b * n + i] = mask[b * n + i] ? System.Math.Min(i / g, fullBlocks - 1) : -1;
        }
        return ids;
    }

    /// <summary>Segment id of every global token (B·G): its index when some token maps to it or beyond, else −1.</summary>
    public static int[] SegmentIds(int[] blockIds, int batch, int n, int globals)
    {
        var segments = new int[batch * globals];
        for (var b = 0; b < batch; b++)
        {
            var max = -1;
            for (var i = 0; i < n; i++)
                max = System.Math.Max(max, blockIds[b * n + i]);
            for (var t = 0; t < globals; t++)
                segments[b * globals + t] = t <= max ? t : -1;
        }
        return segments;
    }
}
