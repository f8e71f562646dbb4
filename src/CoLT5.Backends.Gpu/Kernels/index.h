// Index-driven moves along one axis, compiled per element type (-DT, -DIS_FLOAT): gather / index_select read
// x[.., idx, ..], scatter_add / index_add accumulate into dest[.., idx, ..] (atomically). The Layout walks the
// index-shaped (or source-shaped) loop with operands: index (0, broadcast for index_select/add), the dense side
// (1: y or source), and the indexed tensor with its axis stride zeroed (2); the axis stride comes separately.

KERNEL void gather_axis(GLOBAL const int* index, i64 io, GLOBAL T* y, i64 yo, GLOBAL const T* x, i64 xo, i64 xAxisStride,
    int axisSize, Layout L, GLOBAL int* err)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        int k = index[io + o0];
        if (k < 0 || k >= axisSize)
        {
            report_index_error(err, 3, k, axisSize);
            continue;
        }
        y[yo + o1] = x[xo + o2 + k * xAxisStride];
    }
}

KERNEL void scatter_add_axis(GLOBAL const int* index, i64 io, GLOBAL const T* source, i64 so, GLOBAL T* dest, i64 dso,
    i64 destAxisStride, int axisSize, Layout L, GLOBAL int* err)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        int k = index[io + o0];
        if (k < 0 || k >= axisSize)
        {
            report_index_error(err, 4, k, axisSize);
            continue;
        }
#if IS_FLOAT
        ATOMIC_ADD_F32(dest + dso + o2 + k * destAxisStride, source[so + o1]);
#else
        ATOMIC_ADD_I32(dest + dso + o2 + k * destAxisStride, source[so + o1]);
#endif
    }
}

// The k largest (smallest) of each contiguous row, sorted, ties to the lower index, NaN above every number: each
// element's rank is the count of elements that beat it, and ranks below k are written in place.
DEVICE_FN int beats(float v, int i, float w, int j, int largest)
{
    int nv = ISNAN(v), nw = ISNAN(w);
    int c = nv || nw ? (nv == nw ? 0 : nv ? 1 : -1) : (v > w ? 1 : v < w ? -1 : 0);
    if (!largest)
        c = -c;
    return c > 0 || (c == 0 && i < j);
}

KERNEL void topk_rows(GLOBAL const T* x, i64 xo, GLOBAL T* values, i64 vo, GLOBAL int* indices, i64 io, i64 rows,
    int len, int k, int largest)
{
    for (i64 r = GROUP_ID(0); r < rows; r += NUM_GROUPS(0))
    {
        GLOBAL const T* row = x + xo + r * len;
        for (int j = LOCAL_ID(0); j < len; j += GROUP_SIZE(0))
        {
            float v = row[j];
            int rank = 0;
            for (int i = 0; i < len && rank < k; i++)
                rank += beats(row[i], i, v, j, largest);
            if (rank < k)
            {
                values[vo + r * k + rank] = v;
                indices[io + r * k + rank] = j;
            }
        }
    }
}
