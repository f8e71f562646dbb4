// Reductions along one axis and the row-wise NN kernels built on the same group reduction, one work-group per
// lane or row: sum, mean, max, min, logsumexp (ReduceOp ordinals 0–4), max/min with the first extreme index,
// softmax and log-softmax, RMSNorm, cross-entropy, and their backwards. Layouts walk the lanes (rows): operand 0
// is x at the lane's first element, the others the outputs.
#define RG 256

// combine for max (op 2) / min (op 3): NaN wins.
DEVICE_FN float pick(int op, float a, float b)
{
    if (ISNAN(a)) return a;
    if (ISNAN(b)) return b;
    return op == 3 ? (b < a ? b : a) : (b > a ? b : a);
}

// Tree reduction of buf[0..RG) with op (0 = sum, else pick); every thread gets the result.
DEVICE_FN float group_reduce(LOCAL_PTR float* buf, int op)
{
    int t = LOCAL_ID(0);
    for (int s = RG / 2; s > 0; s >>= 1)
    {
        BARRIER();
        if (t < s)
            buf[t] = op == 0 ? buf[t] + buf[t + s] : pick(op, buf[t], buf[t + s]);
    }
    BARRIER();
    float r = buf[0];
    BARRIER();
    return r;
}

KERNEL void reduce_axis(int op, GLOBAL const float* x, i64 xo, i64 xs, GLOBAL float* y, i64 yo, Layout L, int len)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 lane = GROUP_ID(0); lane < L.n; lane += NUM_GROUPS(0))
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, lane, o0, o1, o2, o3);
        GLOBAL const float* row = x + xo + o0;
        float result;
        if (op == 0 || op == 1)
        {
            float acc = 0.0f;
            for (int j = t; j < len; j += RG)
                acc += row[j * xs];
            buf[t] = acc;
            result = group_reduce(buf, 0);
            if (op == 1)
                result = result / (float)len;
        }
        else
        {
            int pop = op == 4 ? 2 : op;
            float acc = pop == 2 ? -INFINITY : INFINITY;
            for (int j = t; j < len; j += RG)
                acc = pick(pop, acc, row[j * xs]);
            buf[t] = acc;
            float m = group_reduce(buf, pop);
            result = m;
            if (op == 4 && !ISNAN(m) && m != INFINITY && m != -INFINITY)
            {
                float sum = 0.0f;
                for (int j = t; j < len; j += RG)
                    sum += EXPF(row[j * xs] - m);
                buf[t] = sum;
                result = m + LOGF(group_reduce(buf, 0));
            }
        }
        if (t == 0)
            y[yo + o1] = result;
    }
}

// (value, index) of the first extreme: NaN beats every number, ties go to the lower index.
DEVICE_FN int better(int op, float v, int i, float w, int k)
{
    int nv = ISNAN(v), nw = ISNAN(w);
    if (nv || nw)
        return nv && nw ? i < k : nv;
    if (v == w)
        return i < k;
    return op == 3 ? v < w : v > w;
}

KERNEL void reduce_index(int op, GLOBAL const float* x, i64 xo, i64 xs, GLOBAL float* values, i64 vo,
    GLOBAL int* indices, i64 io, Layout L, int len)
{
    LOCAL float bv[RG];
    LOCAL int bi[RG];
    int t = LOCAL_ID(0);
    for (i64 lane = GROUP_ID(0); lane < L.n; lane += NUM_GROUPS(0))
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, lane, o0, o1, o2, o3);
        GLOBAL const float* row = x + xo + o0;
        float v = 0.0f;
        int vi = -1;
        for (int j = t; j < len; j += RG)
        {
            float w = row[j * xs];
            if (vi < 0 || better(op, w, j, v, vi))
            {
                v = w;
                vi = j;
            }
        }
        bv[t] = v;
        bi[t] = vi;
        for (int s = RG / 2; s > 0; s >>= 1)
        {
            BARRIER();
            if (t < s && bi[t + s] >= 0 && (bi[t] < 0 || better(op, bv[t + s], bi[t + s], bv[t], bi[t])))
            {
                bv[t] = bv[t + s];
                bi[t] = bi[t + s];
            }
        }
        BARRIER();
        if (t == 0)
        {
            values[vo + o1] = bv[0];
            indices[io + o2] = bi[0];
        }
        BARRIER();
    }
}

// Softmax / log-softmax over rows of length len (stride xs / ys): operands x (0), y (1).
KERNEL void softmax_rows(GLOBAL const float* x, i64 xo, i64 xs, GLOBAL float* y, i64 yo, i64 ys, Layout L, int len,
    int logOut)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 r = GROUP_ID(0); r < L.n; r += NUM_GROUPS(0))
    {
        i64 o0, o1, o2, o3;
        LAYOUT_OFFSETS(L, r, o0, o1, o2, o3);
        GLOBAL const float* row = x + xo + o0;
        GLOBAL float* out = y + yo + o1;
        float m = -INFINITY;
        for (int j = t; j < len; j += RG)
            m = pick(2, m, row[j * xs]);
        buf[t] = m;
        m = group_reduce(buf, 2);
        float sum = 0.0f;
        for (int j = t; j < len; j += RG)
            sum += EXPF(row[j * xs] - m);
        buf[t] = sum;
        sum = group_reduce(buf, 0);
        float logSum = LOGF(sum);
        for (int j = t; j < len; j += RG)
            out[j * ys] = logOut ? row[j * xs] - m - logSum : EXPF(row[j * xs] - m) / sum;
        BARRIER();
    }
}

// Softmax: dx = y·(dy − Σ dy·y); log-softmax: dx = dy − e^y·Σ dy. Contiguous rows: operands y (0), dy (1), dx (2).
KERNEL void softmax_backward_rows(GLOBAL const float* y, i64 yo, GLOBAL const float* dy, i64 dyo, GLOBAL float* dx,
    i64 dxo, i64 rows, int len, int logOut)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 r = GROUP_ID(0); r < rows; r += NUM_GROUPS(0))
    {
        GLOBAL const float* yr = y + yo + r * len;
        GLOBAL const float* gr = dy + dyo + r * len;
        GLOBAL float* out = dx + dxo + r * len;
        float s = 0.0f;
        for (int j = t; j < len; j += RG)
            s += logOut ? gr[j] : gr[j] * yr[j];
        buf[t] = s;
        s = group_reduce(buf, 0);
        for (int j = t; j < len; j += RG)
            out[j] = logOut ? gr[j] - EXPF(yr[j]) * s : yr[j] * (gr[j] - s);
        BARRIER();
    }
}

// T5 RMSNorm of contiguous rows: y = w·x·rstd, rstd = 1/√(mean x² + eps).
KERNEL void rmsnorm_rows(GLOBAL const float* x, i64 xo, GLOBAL const float* w, i64 wo, GLOBAL float* y, i64 yo,
    GLOBAL float* rstd, i64 ro, i64 rows, int len, float eps)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 r = GROUP_ID(0); r < rows; r += NUM_GROUPS(0))
    {
        GLOBAL const float* xr = x + xo + r * len;
        float s = 0.0f;
        for (int j = t; j < len; j += RG)
            s += xr[j] * xr[j];
        buf[t] = s;
        s = group_reduce(buf, 0);
        float inv = RSQRTF(s / (float)len + eps);
        for (int j = t; j < len; j += RG)
            y[yo + r * len + j] = w[wo + j] * (xr[j] * inv);
        if (t == 0)
            rstd[ro + r] = inv;
    }
}

// dx = rstd·(w·dy − x·rstd²·Σ(w·dy·x)/D) per row.
KERNEL void rmsnorm_backward_rows(GLOBAL const float* x, i64 xo, GLOBAL const float* w, i64 wo,
    GLOBAL const float* rstd, i64 ro, GLOBAL const float* dy, i64 dyo, GLOBAL float* dx, i64 dxo, i64 rows, int len)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 r = GROUP_ID(0); r < rows; r += NUM_GROUPS(0))
    {
        GLOBAL const float* xr = x + xo + r * len;
        GLOBAL const float* gr = dy + dyo + r * len;
        float s = 0.0f;
        for (int j = t; j < len; j += RG)
            s += w[wo + j] * gr[j] * xr[j];
        buf[t] = s;
        s = group_reduce(buf, 0);
        float inv = rstd[ro + r];
        float c = inv * inv * s / (float)len;
        for (int j = t; j < len; j += RG)
            dx[dxo + r * len + j] = inv * (w[wo + j] * gr[j] - xr[j] * c);
    }
}

// Partial sums of dw[j] = Σ_r dy[r, j]·x[r, j]·rstd[r] over chunks of `per` rows: a work-group of 64 columns × 4
// row lanes per (column tile, chunk); lane l takes rows l, l + 4, … of the chunk in order, and the 4 lanes are added in
// lane order, so partial[chunk, j] (chunks, len) contiguous does not depend on scheduling. The host sums the chunks.
#define WG_COLS 64
#define WG_LANES 4
KERNEL void rmsnorm_weight_grad(GLOBAL const float* x, i64 xo, GLOBAL const float* rstd, i64 ro,
    GLOBAL const float* dy, i64 dyo, GLOBAL float* partial, i64 rows, int len, i64 per)
{
    LOCAL float lanes[WG_LANES][WG_COLS];
    int col = LOCAL_ID(0) % WG_COLS, lane = LOCAL_ID(0) / WG_COLS;
    i64 j = GROUP_ID(0) * WG_COLS + col, chunk = GROUP_ID(1);
    i64 r0 = chunk * per, r1 = r0 + per < rows ? r0 + per : rows;
    float s = 0.0f;
    if (j < len)
        for (i64 r = r0 + lane; r < r1; r += WG_LANES)
            s += dy[dyo + r * len + j] * x[xo + r * len + j] * rstd[ro + r];
    lanes[lane][col] = s;
    BARRIER();
    if (lane == 0 && j < len)
        partial[chunk * len + j] = ((lanes[0][col] + lanes[1][col]) + lanes[2][col]) + lanes[3][col];
}

// Cross-entropy parts per contiguous row of logits: lse, and nll = lse − logit[target] (0 for ignoreIndex). A
// target outside [0, V) is reported (the row gets NaN).
KERNEL void cross_entropy_rows(GLOBAL const float* logits, i64 lo, GLOBAL const int* targets, i64 to,
    GLOBAL float* nll, i64 no, GLOBAL float* lse, i64 so, i64 rows, int len, int ignoreIndex, GLOBAL int* err)
{
    LOCAL float buf[RG];
    int t = LOCAL_ID(0);
    for (i64 r = GROUP_ID(0); r < rows; r += NUM_GROUPS(0))
    {
        GLOBAL const float* row = logits + lo + r * len;
        float m = -INFINITY;
        for (int j = t; j < len; j += RG)
            m = pick(2, m, row[j]);
        buf[t] = m;
        m = group_reduce(buf, 2);
        float result = m;
        if (!ISNAN(m) && m != INFINITY && m != -INFINITY)
        {
            float sum = 0.0f;
            for (int j = t; j < len; j += RG)
                sum += EXPF(row[j] - m);
            buf[t] = sum;
            result = m + LOGF(group_reduce(buf, 0));
        }
        if (t == 0)
        {
            int target = targets[to + r];
            lse[so + r] = result;
            if (target == ignoreIndex)
                nll[no + r] = 0.0f;
            else if (target < 0 || target >= len)
            {
                report_index_error(err, 1, target, len);
                nll[no + r] = NAN;
            }
            else
                nll[no + r] = result - row[target];
        }
        BARRIER();
    }
}

// dlogits[r, v] = (g + gLse[r])·e^(logit − lse[r]) − g·[v = target], g = gNll[r] (0 for ignored rows).
KERNEL void cross_entropy_backward(GLOBAL const float* logits, i64 lo, GLOBAL const int* targets, i64 to,
    GLOBAL const float* lse, i64 so, GLOBAL const float* gNll, i64 gno, GLOBAL const float* gLse, i64 glo,
    GLOBAL float* dlogits, i64 dlo, i64 rows, int len, int ignoreIndex, GLOBAL int* err)
{
    FOR_EACH_ELEMENT(i, rows * len)
    {
        i64 r = i / len;
        int v = (int)(i - r * len);
        int target = targets[to + r];
        float g = target == ignoreIndex ? 0.0f : gNll[gno + r];
        if (target != ignoreIndex && (target < 0 || target >= len))
        {
            report_index_error(err, 2, target, len);
            dlogits[dlo + i] = NAN;
            continue;
        }
        float p = EXPF(logits[lo + i] - lse[so + r]);
        dlogits[dlo + i] = (g + gLse[glo + r]) * p - (v == target ? g : 0.0f);
    }
}
