// Strided copy with element-type conversion, compiled per pair with -DS=source type -DD=destination type and
// -DCONVERT(x)=... (float→int truncates and saturates, NaN → 0; anything → bool is x != 0).

// y = convert(x): operands x (0), y (1).
KERNEL void copy_convert(GLOBAL const S* x, i64 xo, GLOBAL D* y, i64 yo, Layout L)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        S v = x[xo + o0];
        y[yo + o1] = CONVERT(v);
    }
}
