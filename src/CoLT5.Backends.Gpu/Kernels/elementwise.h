// Elementwise kernels over strided layouts: fill, unary ops and their derivatives, binary ops, comparisons and
// where. Compiled per element type with -DT=float|int|uchar (unary ops only for float). Op codes are the ordinals
// of the C# enums UnaryOp, BinaryOp and CompareOp; each formula matches ReferenceBackend's.

// float64 tensors are filled with their bit pattern as T = i64 (no float64 support needed).
KERNEL void fill(GLOBAL T* y, i64 yo, Layout L, float value, i64 ivalue)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
#if IS_FLOAT
        y[yo + o0] = value;
#else
        y[yo + o0] = (T)ivalue;
#endif
    }
}

#if IS_FLOAT
DEVICE_FN float sigmoid_f(float x) { return 1.0f / (1.0f + EXPF(-x)); }

// gelu(x) = x·σ(2u), u = √(2/π)·(x + 0.044715·x³) (the σ form of 0.5·x·(1 + tanh u), without cancellation).
DEVICE_FN float gelu_u(float x) { return 0.7978845608028654f * (x + 0.044715f * x * x * x); }

DEVICE_FN float unary_value(int op, float x, float a, float b, int hasA, int hasB)
{
    switch (op)
    {
        case 0: return -x;
        case 1: return EXPF(x);
        case 2: return LOGF(x);
        case 3: return SQRTF(x);
        case 4: return RSQRTF(x);
        case 5: return a == 2.0f ? x * x : a == 1.0f ? x : POWF(x, a);
        case 6: return TANHF(x);
        case 7: return sigmoid_f(x);
        case 8: return x > 0.0f ? x : (ISNAN(x) ? x : 0.0f);
        case 9: return x * sigmoid_f(2.0f * gelu_u(x));
        case 10: return FABSF(x);
        case 11:
        {
            float y = x;
            if (hasA && y < a) y = a;
            if (hasB && y > b) y = b;
            return y;
        }
        case 12: return a * x + b;
        default: return x * x;
    }
}

DEVICE_FN float unary_gradient(int op, float x, float y, float dy, float a, float b, int hasA, int hasB)
{
    switch (op)
    {
        case 0: return -dy;
        case 1: return dy * y;
        case 2: return dy / x;
        case 3: return dy / (2.0f * y);
        case 4: return -0.5f * dy * y * y * y;
        case 5: return a == 0.0f ? 0.0f : a == 1.0f ? dy : a == 2.0f ? dy * (x + x) : dy * (a * POWF(x, a - 1.0f));
        case 6: return dy * (1.0f - y * y);
        case 7: return dy * y * (1.0f - y);
        case 8: return x <= 0.0f ? 0.0f : dy;
        case 9:
        {
            // d/dx x·σ(2u) = s + 2·x·s·(1 − s)·u′, s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²)
            float s = sigmoid_f(2.0f * gelu_u(x));
            float du = 0.7978845608028654f * (1.0f + 0.134145f * x * x);
            return dy * (s + 2.0f * x * s * (1.0f - s) * du);
        }
        case 10: return x > 0.0f ? dy : x < 0.0f ? -dy : (ISNAN(x) ? x : 0.0f);
        case 11: return ((!hasA || x >= a) && (!hasB || x <= b)) ? dy : 0.0f;
        case 12: return dy * a;
        default: return dy * 2.0f * x;
    }
}

// y = op(x): operands x (0), y (1).
KERNEL void unary(int op, GLOBAL const float* x, i64 xo, GLOBAL float* y, i64 yo, Layout L, float a, float b,
    int hasA, int hasB)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        y[yo + o1] = unary_value(op, x[xo + o0], a, b, hasA, hasB);
    }
}

// dx = dy · op′: operands x (0), y (1), dy (2), dx (3).
KERNEL void unary_backward(int op, GLOBAL const float* x, i64 xo, GLOBAL const float* y, i64 yo,
    GLOBAL const float* dy, i64 dyo, GLOBAL float* dx, i64 dxo, Layout L, float a, float b, int hasA, int hasB)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        dx[dxo + o3] = unary_gradient(op, x[xo + o0], y[yo + o1], dy[dyo + o2], a, b, hasA, hasB);
    }
}
#endif

DEVICE_FN T binary_value(int op, T a, T b)
{
    switch (op)
    {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
#if IS_FLOAT
        case 4: return ISNAN(a) || ISNAN(b) ? a + b : (a > b || (a == b && AS_UINT(a) == 0u) ? a : b);
        default: return ISNAN(a) || ISNAN(b) ? a + b : (a < b || (a == b && AS_UINT(a) != 0u) ? a : b);
#else
        case 4: return a > b ? a : b;
        default: return a < b ? a : b;
#endif
    }
}

// y = a op b: operands a (0), b (1), y (2).
KERNEL void binary(int op, GLOBAL const T* a, i64 ao, GLOBAL const T* b, i64 bo, GLOBAL T* y, i64 yo, Layout L)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        y[yo + o2] = binary_value(op, a[ao + o0], b[bo + o1]);
    }
}

// y = (a op b) as 0/1: operands a (0), b (1), y (2).
KERNEL void compare(int op, GLOBAL const T* a, i64 ao, GLOBAL const T* b, i64 bo, GLOBAL uchar* y, i64 yo, Layout L)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        T va = a[ao + o0], vb = b[bo + o1];
        int r;
        switch (op)
        {
            case 0: r = va == vb; break;
            case 1: r = va != vb; break;
            case 2: r = va < vb; break;
            case 3: r = va <= vb; break;
            case 4: r = va > vb; break;
            default: r = va >= vb; break;
        }
        y[yo + o2] = (uchar)r;
    }
}

// y = cond ? a : b: operands cond (0), a (1), b (2), y (3).
KERNEL void where_select(GLOBAL const uchar* c, i64 co, GLOBAL const T* a, i64 ao, GLOBAL const T* b, i64 bo,
    GLOBAL T* y, i64 yo, Layout L)
{
    FOR_EACH_ELEMENT(i, L.n)
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, i, o0, o1, o2, o3);
        y[yo + o3] = c[co + o0] != 0 ? a[ao + o1] : b[bo + o2];
    }
}
