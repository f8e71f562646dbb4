// Flash-style fused attention in T5 conventions (IBackend.TryAttention): one work-group of AT_THREADS per tile of
// queries, key tiles staged in local memory, an online softmax (running max, sum and unnormalised output), no
// Tq × Tk matrix in memory. Up to two key sets (the main keys and the transient-global side keys), each with its own
// mask, positions, band and bucketed bias table; G kv heads shared by groups of query heads.
// The backward recomputes score tiles: attention_backward_dq (per query tile: dQ, rowsum(dO ∘ O), the bias
// gradient through a local histogram per bucket) then attention_backward_dkv (per key tile: dK and dV over the
// query heads of its kv head).
// Host-set sizes: DH head dim; BQ × BK the query × key tile; NBMAX ≥ both tables' bucket counts (backward_dq);
// AT_PASS the one kernel a build holds (0 forward, 1 backward dQ, 2 backward dK/dV): each sizes its local tiles from
// BQ and BK, so a build holding all three with the forward's larger BQ would overflow CUDA's 48 KB of static shared
// memory in the backward kernels.
// cuda-check-defines: DH=64 BQ=64 BK=32 NBMAX=1 AT_PASS=0
// cuda-check-defines: DH=64 BQ=32 BK=32 NBMAX=32 AT_PASS=1
// cuda-check-defines: DH=64 BQ=32 BK=32 NBMAX=1 AT_PASS=2
// cuda-check-defines: DH=256 BQ=16 BK=8 NBMAX=1 AT_PASS=0
// cuda-check-defines: DH=256 BQ=8 BK=8 NBMAX=64 AT_PASS=1
// cuda-check-defines: DH=256 BQ=8 BK=8 NBMAX=1 AT_PASS=2
// cuda-check-defines: DH=17 BQ=32 BK=32 NBMAX=32 AT_PASS=1
#define AT_THREADS 256
#define DP (DH | 1)                     /* local row stride: odd, so threads reading rows j, j+1.. hit distinct banks */
#define PS (BK + 1)                     /* score tile row stride */
#define ACC ((BQ * DH + AT_THREADS - 1) / AT_THREADS)
#define KACC ((BK * DH + AT_THREADS - 1) / AT_THREADS)
#define AT_LOCAL_LIMIT (48 * 1024)      /* static shared memory per block on CUDA; OpenCL's minimum is 32 KB, NVIDIA's 48 */

// Fails the build (array of negative size) when a kernel's local tiles outgrow AT_LOCAL_LIMIT, on every compiler.
#define AT_LOCAL_FITS(floats) typedef char at_local_fits[(floats) * 4 <= AT_LOCAL_LIMIT ? 1 : -1]

#define AF_MASK 1
#define AF_KPOS 2
#define AF_QPOS 4
#define AF_BIAS 8
#define AF_BANDED 16

// One key set: element offsets of its views, key/value strides (batch row, kv head, key), sizes and flags.
typedef struct
{
    i64 k, v, mask, kpos, qpos, table, map, dk, dv, dtable;
    i64 kb, kh, kt, vb, vh, vt;
    int tk, groups, window, buckets, map_len, map_low, flags, unused;
} AttnSet;

// The query side: offsets and strides of q, output and dOutput (batch row, head, query), lse / rowsum / dQ offsets
// (contiguous), batch, heads and queries.
typedef struct
{
    i64 q, qb, qh, qt, o, ob, oh, ot, g, gb, gh, gt, lse, dots, dq;
    int batch, heads, tq, unused;
} AttnRows;

typedef struct
{
    int lo, hi;
} KeyRange;

DEVICE_FN i64 attn_qpos(AttnSet s, GLOBAL const int* qp, int b, int tq, int i)
{
    return (s.flags & AF_QPOS) ? (i64)qp[s.qpos + (i64)b * tq + i] : (i64)i;
}

// Offset of key j from a query at qpos, or a value outside ±2^40 when the key may not be read (masked, past the
// set, outside the band).
#define AT_BLOCKED ((i64)1 << 40)
DEVICE_FN i64 attn_offset(AttnSet s, GLOBAL const uchar* mask, GLOBAL const int* kp, int b, i64 qpos, int j)
{
    if (j >= s.tk)
        return AT_BLOCKED;
    if ((s.flags & AF_MASK) && mask[s.mask + (i64)b * s.tk + j] == 0)
        return AT_BLOCKED;
    i64 kpos = (s.flags & AF_KPOS) ? (i64)kp[s.kpos + (i64)b * s.tk + j] : (i64)j;
    i64 off = kpos - qpos;
    if ((s.flags & AF_BANDED) && (off > s.window || -off > s.window))
        return AT_BLOCKED;
    return off;
}

// The bucket of a readable offset (clamped to the map's ends).
DEVICE_FN int attn_bucket(AttnSet s, GLOBAL const int* map, i64 off)
{
    i64 t = off - s.map_low;
    t = t < 0 ? 0 : (t >= s.map_len ? s.map_len - 1 : t);
    int id = map[s.map + t];
    return id < 0 ? 0 : (id >= s.buckets ? s.buckets - 1 : id);       // bad maps are reported by the forward
}

// The bias of a readable offset for head h (0 without a table).
DEVICE_FN float attn_bias(AttnSet s, GLOBAL const float* table, GLOBAL const int* map, int h, i64 off)
{
    return (s.flags & AF_BIAS) ? table[s.table + (i64)h * s.buckets + attn_bucket(s, map, off)] : 0.0f;
}

// The keys a tile of queries [i0, i0 + rows) can read: a band around their positions when keys sit at 0..Tk−1,
// else every key; lo rounded down to a whole tile.
DEVICE_FN KeyRange attn_key_range(AttnSet s, GLOBAL const int* qp, int b, int tq, int i0, int rows)
{
    KeyRange r;
    r.lo = 0;
    r.hi = s.tk;
    if (!(s.flags & AF_BANDED) || (s.flags & AF_KPOS))
        return r;
    i64 mn = attn_qpos(s, qp, b, tq, i0), mx = mn;
    for (int i = 1; i < rows; i++)
    {
        i64 p = attn_qpos(s, qp, b, tq, i0 + i);
        mn = p < mn ? p : mn;
        mx = p > mx ? p : mx;
    }
    i64 lo = mn - s.window, hi = mx + s.window + 1;
    lo = lo < 0 ? 0 : (lo > s.tk ? s.tk : lo);
    hi = hi < 0 ? 0 : (hi > s.tk ? s.tk : hi);
    r.lo = (int)(lo / BK * BK);
    r.hi = hi < r.lo ? r.lo : (int)hi;
    return r;
}

// The queries a tile of keys [j0, j0 + BK) can be read by: the band when queries and keys sit at their indices.
DEVICE_FN KeyRange attn_query_range(AttnSet s, int tq, int j0)
{
    KeyRange r;
    r.lo = 0;
    r.hi = tq;
    if (!(s.flags & AF_BANDED) || (s.flags & (AF_KPOS | AF_QPOS)))
        return r;
    i64 lo = (i64)j0 - s.window, hi = (i64)j0 + BK + s.window;
    lo = lo < 0 ? 0 : (lo > tq ? tq : lo);
    hi = hi < 0 ? 0 : (hi > tq ? tq : hi);
    r.lo = (int)(lo / BQ * BQ);
    r.hi = hi < r.lo ? r.lo : (int)hi;
    return r;
}

// rows (BQ or BK) × DH of a (…, T, DH) view starting at row r0 into a local tile (zeros past `count` rows).
DEVICE_FN void attn_stage(LOCAL_PTR float* tile, int rows, GLOBAL const float* src, i64 stride, int r0, int count)
{
    for (int e = LOCAL_ID(0); e < rows * DH; e += AT_THREADS)
    {
        int r = e / DH, d = e % DH;
        tile[r * DP + d] = r0 + r < count ? src[(i64)(r0 + r) * stride + d] : 0.0f;
    }
}

DEVICE_FN float attn_dot(LOCAL_PTR const float* a, LOCAL_PTR const float* b)
{
    float acc = 0.0f;
    for (int d = 0; d < DH; d++)
        acc = FMAF(a[d], b[d], acc);
    return acc;
}

// Picks set 0 or 1's arguments by name (the kernels take both sets' buffers and descriptors).
#define SET_ARGS(n)                                                                                           \
    GLOBAL const float *K##n, GLOBAL const float *V##n, GLOBAL const uchar *M##n, GLOBAL const int *KP##n,        \
        GLOBAL const int *QP##n, GLOBAL const float *TB##n, GLOBAL const int *MP##n, AttnSet S##n
#define PICK(n, set) ((set) == 0 ? n##0 : n##1)

// Inside the loop over sets of a query-tile kernel: set `set`'s descriptor S, its mask, positions, table and map,
// the kv head g of query head h, and its key/value rows kb, vb of batch row b; skips (continue) an absent set.
#define SET_LOCALS(set)                                                                                      \
    AttnSet S = PICK(S, set);                                                                                 \
    if (S.tk == 0)                                                                                            \
        continue;                                                                                             \
    GLOBAL const uchar* M = PICK(M, set);                                                                     \
    GLOBAL const int* KP = PICK(KP, set);                                                                     \
    GLOBAL const int* QP = PICK(QP, set);                                                                     \
    GLOBAL const float* TB = PICK(TB, set);                                                                   \
    GLOBAL const int* MP = PICK(MP, set);                                                                     \
    int g = h / (R.heads / S.groups);                                                                         \
    GLOBAL const float* kb = PICK(K, set) + S.k + b * S.kb + g * S.kh;                                        \
    GLOBAL const float* vb = PICK(V, set) + S.v + b * S.vb + g * S.vh

// grid (ceil(Tq / BQ), H, B); output (B, H, Tq, DH) strided, lse (B, H, Tq) contiguous.
// Work-group 0 reports the first bucket map entry outside its table (as op 5).
DEVICE_FN void attn_check_map(AttnSet s, GLOBAL const int* map, GLOBAL int* err)
{
    if (s.tk == 0 || !(s.flags & AF_BIAS))
        return;
    for (int t = LOCAL_ID(0); t < s.map_len; t += AT_THREADS)
    {
        int id = map[s.map + t];
        if (id < 0 || id >= s.buckets)
            report_index_error(err, 5, id, s.buckets);
    }
}

#if AT_PASS == 0
AT_LOCAL_FITS(BQ * DP + 2 * BK * DP + BQ * PS + 3 * BQ);
KERNEL void attention_forward(GLOBAL const float* q, GLOBAL float* out, GLOBAL float* lse, GLOBAL int* err,
    AttnRows R, SET_ARGS(0), SET_ARGS(1))
{
    LOCAL float Qs[BQ * DP];
    LOCAL float Ks[BK * DP];
    LOCAL float Vs[BK * DP];
    LOCAL float Ps[BQ * PS];
    LOCAL float m_s[BQ];
    LOCAL float l_s[BQ];
    LOCAL float a_s[BQ];
    int tid = LOCAL_ID(0);
    int i0 = (int)GROUP_ID(0) * BQ, h = (int)GROUP_ID(1), b = (int)GROUP_ID(2);
    int rows = R.tq - i0 < BQ ? R.tq - i0 : BQ;
    if (i0 == 0 && h == 0 && b == 0)
    {
        attn_check_map(S0, MP0, err);
        attn_check_map(S1, MP1, err);
    }
    attn_stage(Qs, BQ, q + R.q + b * R.qb + h * R.qh, R.qt, i0, R.tq);
    if (tid < BQ)
    {
        m_s[tid] = -INFINITY;
        l_s[tid] = 0.0f;
    }
    float acc[ACC];
    for (int c = 0; c < ACC; c++)
        acc[c] = 0.0f;
    for (int set = 0; set < 2; set++)
    {
        SET_LOCALS(set);
        KeyRange kr = attn_key_range(S, QP, b, R.tq, i0, rows);
        for (int j0 = kr.lo; j0 < kr.hi; j0 += BK)
        {
            BARRIER();                                   // the previous tile's readers are done
            attn_stage(Ks, BK, kb, S.kt, j0, kr.hi);
            attn_stage(Vs, BK, vb, S.vt, j0, kr.hi);
            BARRIER();
            for (int e = tid; e < BQ * BK; e += AT_THREADS)
            {
                int r = e / BK, c = e % BK;
                float s = -INFINITY;
                if (r < rows && j0 + c < kr.hi)
                {
                    i64 off = attn_offset(S, M, KP, b, attn_qpos(S, QP, b, R.tq, i0 + r), j0 + c);
                    if (off != AT_BLOCKED)
                        s = attn_dot(Qs + r * DP, Ks + c * DP) + attn_bias(S, TB, MP, h, off);
                }
                Ps[r * PS + c] = s;
            }
            BARRIER();
            if (tid < BQ)
            {
                // fold the tile into row tid's running softmax
                float mx = -INFINITY;
                for (int c = 0; c < BK; c++)
                    mx = FMAXF(mx, Ps[tid * PS + c]);
                float alpha = 1.0f;
                if (mx == -INFINITY)
                {
                    for (int c = 0; c < BK; c++)
                        Ps[tid * PS + c] = 0.0f;
                }
                else
                {
                    float next = FMAXF(m_s[tid], mx);
                    alpha = EXPF(m_s[tid] - next);       // 0 on the first tile with a readable key
                    float sum = 0.0f;
                    for (int c = 0; c < BK; c++)
                    {
                        float p = EXPF(Ps[tid * PS + c] - next);
                        Ps[tid * PS + c] = p;
                        sum += p;
                    }
                    l_s[tid] = l_s[tid] * alpha + sum;
                    m_s[tid] = next;
                }
                a_s[tid] = alpha;
            }
            BARRIER();
            for (int c = 0; c < ACC; c++)
            {
                int e = tid + c * AT_THREADS;
                if (e < BQ * DH)
                {
                    int r = e / DH, d = e % DH;
                    float v = acc[c] * a_s[r];
                    for (int j = 0; j < BK; j++)
                        v = FMAF(Ps[r * PS + j], Vs[j * DP + d], v);
                    acc[c] = v;
                }
            }
        }
    }
    BARRIER();
    for (int c = 0; c < ACC; c++)
    {
        int e = tid + c * AT_THREADS;
        int r = e / DH, d = e % DH;
        if (e < BQ * DH && r < rows)
        {
            float l = l_s[r];
            out[R.o + b * R.ob + h * R.oh + (i64)(i0 + r) * R.ot + d] = l == 0.0f ? 0.0f : acc[c] / l;
        }
    }
    if (tid < rows)
        lse[R.lse + ((i64)b * R.heads + h) * R.tq + i0 + tid] = l_s[tid] == 0.0f ? -INFINITY : m_s[tid] + LOGF(l_s[tid]);
}

#endif

#if AT_PASS == 1
AT_LOCAL_FITS(2 * BQ * DP + 2 * BK * DP + BQ * PS + 2 * BQ + 2 * NBMAX);
// grid (ceil(Tq / BQ), H, B): dQ (B, H, Tq, DH) contiguous, dots = rowsum(dO ∘ O) (B, H, Tq) for the dK/dV pass, and
// each table's gradient (H, buckets), zeroed by the host, through a local histogram per bucket.
KERNEL void attention_backward_dq(GLOBAL const float* q, GLOBAL const float* out, GLOBAL const float* dout,
    GLOBAL const float* lse, GLOBAL float* dots, GLOBAL float* dq, GLOBAL float* dTable0, GLOBAL float* dTable1,
    AttnRows R, SET_ARGS(0), SET_ARGS(1))
{
    LOCAL float Qs[BQ * DP];
    LOCAL float Gs[BQ * DP];
    LOCAL float Ks[BK * DP];
    LOCAL float Vs[BK * DP];
    LOCAL float Ps[BQ * PS];
    LOCAL float lse_s[BQ];
    LOCAL float dot_s[BQ];
    LOCAL float hist[2 * NBMAX];
    int tid = LOCAL_ID(0);
    int i0 = (int)GROUP_ID(0) * BQ, h = (int)GROUP_ID(1), b = (int)GROUP_ID(2);
    int rows = R.tq - i0 < BQ ? R.tq - i0 : BQ;
    attn_stage(Qs, BQ, q + R.q + b * R.qb + h * R.qh, R.qt, i0, R.tq);
    attn_stage(Gs, BQ, dout + R.g + b * R.gb + h * R.gh, R.gt, i0, R.tq);
    i64 row0 = ((i64)b * R.heads + h) * R.tq + i0;
    if (tid < BQ)
    {
        float dot = 0.0f;
        if (tid < rows)
        {
            GLOBAL const float* o = out + R.o + b * R.ob + h * R.oh + (i64)(i0 + tid) * R.ot;
            GLOBAL const float* g = dout + R.g + b * R.gb + h * R.gh + (i64)(i0 + tid) * R.gt;
            for (int d = 0; d < DH; d++)
                dot = FMAF(g[d], o[d], dot);
            dots[R.dots + row0 + tid] = dot;
        }
        dot_s[tid] = dot;
        lse_s[tid] = tid < rows ? lse[R.lse + row0 + tid] : -INFINITY;
    }
    for (int t = tid; t < 2 * NBMAX; t += AT_THREADS)
        hist[t] = 0.0f;
    float acc[ACC];
    for (int c = 0; c < ACC; c++)
        acc[c] = 0.0f;
    for (int set = 0; set < 2; set++)
    {
        SET_LOCALS(set);
        KeyRange kr = attn_key_range(S, QP, b, R.tq, i0, rows);
        for (int j0 = kr.lo; j0 < kr.hi; j0 += BK)
        {
            BARRIER();
            attn_stage(Ks, BK, kb, S.kt, j0, kr.hi);
            attn_stage(Vs, BK, vb, S.vt, j0, kr.hi);
            BARRIER();
            for (int e = tid; e < BQ * BK; e += AT_THREADS)
            {
                int r = e / BK, c = e % BK;
                float ds = 0.0f;
                if (r < rows && j0 + c < kr.hi && lse_s[r] != -INFINITY)
                {
                    i64 off = attn_offset(S, M, KP, b, attn_qpos(S, QP, b, R.tq, i0 + r), j0 + c);
                    if (off != AT_BLOCKED)
                    {
                        float s = attn_dot(Qs + r * DP, Ks + c * DP) + attn_bias(S, TB, MP, h, off);
                        float p = EXPF(s - lse_s[r]);
                        ds = p * (attn_dot(Gs + r * DP, Vs + c * DP) - dot_s[r]);
                        if (S.flags & AF_BIAS)
                            ATOMIC_ADD_LOCAL_F32(&hist[set * NBMAX + attn_bucket(S, MP, off)], ds);
                    }
                }
                Ps[r * PS + c] = ds;
            }
            BARRIER();
            for (int c = 0; c < ACC; c++)
            {
                int e = tid + c * AT_THREADS;
                if (e < BQ * DH)
                {
                    int r = e / DH, d = e % DH;
                    float v = acc[c];
                    for (int j = 0; j < BK; j++)
                        v = FMAF(Ps[r * PS + j], Ks[j * DP + d], v);
                    acc[c] = v;
                }
            }
        }
    }
    for (int c = 0; c < ACC; c++)
    {
        int e = tid + c * AT_THREADS;
        int r = e / DH, d = e % DH;
        if (e < BQ * DH && r < rows)
            dq[R.dq + (row0 + r) * DH + d] = acc[c];
    }
    BARRIER();
    for (int t = tid; t < 2 * NBMAX; t += AT_THREADS)
    {
        int set = t / NBMAX, bucket = t % NBMAX;
        AttnSet S = PICK(S, set);
        if (S.tk > 0 && (S.flags & AF_BIAS) && bucket < S.buckets && hist[t] != 0.0f)
            ATOMIC_ADD_F32(PICK(dTable, set) + S.dtable + (i64)h * S.buckets + bucket, hist[t]);
    }
}

#endif

#if AT_PASS == 2
AT_LOCAL_FITS(2 * BK * DP + 2 * BQ * DP + 2 * BQ * PS + 2 * BQ);
// grid (ceil(Tk / BK), G, B) for set `which`: dK and dV (B, G, Tk, DH) contiguous, summed over the query heads of
// kv head g, from the dots attention_backward_dq wrote.
KERNEL void attention_backward_dkv(GLOBAL const float* q, GLOBAL const float* dout, GLOBAL const float* lse,
    GLOBAL const float* dots, GLOBAL float* dk, GLOBAL float* dv, AttnRows R, SET_ARGS(0))
{
    LOCAL float Ks[BK * DP];
    LOCAL float Vs[BK * DP];
    LOCAL float Qs[BQ * DP];
    LOCAL float Gs[BQ * DP];
    LOCAL float Ps[BQ * PS];
    LOCAL float Ds[BQ * PS];
    LOCAL float lse_s[BQ];
    LOCAL float dot_s[BQ];
    AttnSet S = S0;
    int tid = LOCAL_ID(0);
    int j0 = (int)GROUP_ID(0) * BK, g = (int)GROUP_ID(1), b = (int)GROUP_ID(2);
    attn_stage(Ks, BK, K0 + S.k + b * S.kb + g * S.kh, S.kt, j0, S.tk);
    attn_stage(Vs, BK, V0 + S.v + b * S.vb + g * S.vh, S.vt, j0, S.tk);
    float ak[KACC], av[KACC];
    for (int c = 0; c < KACC; c++)
    {
        ak[c] = 0.0f;
        av[c] = 0.0f;
    }
    int per = R.heads / S.groups;
    KeyRange qr = attn_query_range(S, R.tq, j0);
    for (int h = g * per; h < (g + 1) * per; h++)
    {
        for (int i0 = qr.lo; i0 < qr.hi; i0 += BQ)
        {
            int rows = R.tq - i0 < BQ ? R.tq - i0 : BQ;
            i64 row0 = ((i64)b * R.heads + h) * R.tq + i0;
            BARRIER();
            attn_stage(Qs, BQ, q + R.q + b * R.qb + h * R.qh, R.qt, i0, R.tq);
            attn_stage(Gs, BQ, dout + R.g + b * R.gb + h * R.gh, R.gt, i0, R.tq);
            if (tid < BQ)
            {
                lse_s[tid] = tid < rows ? lse[R.lse + row0 + tid] : -INFINITY;
                dot_s[tid] = tid < rows ? dots[R.dots + row0 + tid] : 0.0f;
            }
            BARRIER();
            for (int e = tid; e < BQ * BK; e += AT_THREADS)
            {
                int r = e / BK, c = e % BK;
                float p = 0.0f, ds = 0.0f;
                if (lse_s[r] != -INFINITY)
                {
                    i64 off = attn_offset(S, M0, KP0, b, attn_qpos(S, QP0, b, R.tq, i0 + r), j0 + c);
                    if (off != AT_BLOCKED)
                    {
                        float s = attn_dot(Qs + r * DP, Ks + c * DP) + attn_bias(S, TB0, MP0, h, off);
                        p = EXPF(s - lse_s[r]);
                        ds = p * (attn_dot(Gs + r * DP, Vs + c * DP) - dot_s[r]);
                    }
                }
                Ps[r * PS + c] = p;
                Ds[r * PS + c] = ds;
            }
            BARRIER();
            for (int c = 0; c < KACC; c++)
            {
                int e = tid + c * AT_THREADS;
                if (e < BK * DH)
                {
                    int j = e / DH, d = e % DH;
                    float k = ak[c], v = av[c];
                    for (int r = 0; r < BQ; r++)
                    {
                        v = FMAF(Ps[r * PS + j], Gs[r * DP + d], v);
                        k = FMAF(Ds[r * PS + j], Qs[r * DP + d], k);
                    }
                    ak[c] = k;
                    av[c] = v;
                }
            }
        }
    }
    for (int c = 0; c < KACC; c++)
    {
        int e = tid + c * AT_THREADS;
        int j = e / DH, d = e % DH;
        if (e < BK * DH && j0 + j < S.tk)
        {
            i64 at = (((i64)b * S.groups + g) * S.tk + j0 + j) * DH + d;
            dk[S.dk + at] = ak[c];
            dv[S.dv + at] = av[c];
        }
    }
}
#endif
