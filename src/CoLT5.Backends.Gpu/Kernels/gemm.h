// Batched strided SGEMM: C = alpha·A·B + beta·C for A (M, K), B (K, N), C (M, N) with any element strides (transposes
// are strides), batch offsets from a Layout over the batch dims (operands A, B, C). 64×64 tiles, 16×16 work-items
// each computing 4×4 outputs from K-slices of 16 staged in local memory.
#define TM 64
#define TN 64
#define TK 16

KERNEL void gemm(GLOBAL const float* A, i64 ao, i64 sam, i64 sak, GLOBAL const float* B, i64 bo, i64 sbk, i64 sbn,
    GLOBAL float* C, i64 co, i64 scm, i64 scn, int M, int N, int K, float alpha, float beta, Layout batch)
{
    LOCAL float As[TK][TM];
    LOCAL float Bs[TK][TN];
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    int tid = ty * 16 + tx;
    i64 m0 = GROUP_ID(1) * TM, n0 = GROUP_ID(0) * TN;
    for (i64 bt = GROUP_ID(2); bt < batch.n; bt += NUM_GROUPS(2))
    {
        i64 oa, ob, oc, unused;
        LAYOUT_OFFSETS(batch, bt, oa, ob, oc, unused);
        GLOBAL const float* a = A + ao + oa;
        GLOBAL const float* b = B + bo + ob;
        float acc[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                acc[i][j] = 0.0f;
        for (int k0 = 0; k0 < K; k0 += TK)
        {
            for (int l = 0; l < 4; l++)
            {
                int e = tid + l * 256;
                // consecutive work-items read consecutive addresses whichever operand stride is unit
                int am = sak == 1 ? e / TK : e % TM, ak = sak == 1 ? e % TK : e / TM;
                int bk = sbn == 1 ? e / TN : e % TK, bn = sbn == 1 ? e % TN : e / TK;
                As[ak][am] = (m0 + am < M && k0 + ak < K) ? a[(m0 + am) * sam + (i64)(k0 + ak) * sak] : 0.0f;
                Bs[bk][bn] = (k0 + bk < K && n0 + bn < N) ? b[(i64)(k0 + bk) * sbk + (n0 + bn) * sbn] : 0.0f;
            }
            BARRIER();
            for (int k = 0; k < TK; k++)
            {
                float av[4], bv[4];
                for (int i = 0; i < 4; i++)
                    av[i] = As[k][ty + 16 * i];
                for (int j = 0; j < 4; j++)
                    bv[j] = Bs[k][tx + 16 * j];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        acc[i][j] = FMAF(av[i], bv[j], acc[i][j]);
            }
            BARRIER();
        }
        for (int i = 0; i < 4; i++)
        {
            i64 m = m0 + ty + 16 * i;
            if (m >= M)
                continue;
            for (int j = 0; j < 4; j++)
            {
                i64 n = n0 + tx + 16 * j;
                if (n >= N)
                    continue;
                GLOBAL float* c = C + co + oc + m * scm + n * scn;
                *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
            }
        }
    }
}

// The same product with 128×128 tiles: 16×16 work-items each computing 8×8 outputs (rows ty·4 + {0..3} and
// 64 + ty·4 + {0..3}, columns likewise with tx). K-slices of 8 go through two local buffers: while one is multiplied,
// the next slice travels from global memory into registers and then into the other buffer, so each slice needs one
// barrier. Each k reads both operands as two 16-byte local vectors, fetched one k ahead of the multiply-adds; every
// fixed loop is unrolled, and each global load has its own pointer that advances one slice at a time (no 64-bit
// multiply per load). On an H100 this reaches 0.76–0.83× cuBLAS FP32 (docs/perf.md); a K-slice of 16 and a
// two-blocks-per-SM register bound (which spills) were both slower.
#define WM 128
#define WN 128
#define WK 8
#define WL (WK / 2)                     /* loads per operand, work-item and slice */
#define WPAD 4                          /* row stride 132 floats: rows stay 16-byte aligned */

KERNEL void gemm_wide(GLOBAL const float* A, i64 ao, i64 sam, i64 sak, GLOBAL const float* B, i64 bo, i64 sbk,
    i64 sbn, GLOBAL float* C, i64 co, i64 scm, i64 scn, int M, int N, int K, float alpha, float beta, Layout batch)
{
    LOCAL float As[2][WK][WM + WPAD] __attribute__((aligned(16)));
    LOCAL float Bs[2][WK][WN + WPAD] __attribute__((aligned(16)));
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    int tid = ty * 16 + tx;
    i64 m0 = GROUP_ID(1) * WM, n0 = GROUP_ID(0) * WN;
    int am[WL], ak[WL], bk[WL], bn[WL];
#pragma unroll
    for (int l = 0; l < WL; l++)
    {
        int e = tid + l * 256;
        am[l] = sak == 1 ? e / WK : e % WM;
        ak[l] = sak == 1 ? e % WK : e / WM;
        bk[l] = sbn == 1 ? e / WN : e % WK;
        bn[l] = sbn == 1 ? e % WN : e / WK;
    }
    for (i64 bt = GROUP_ID(2); bt < batch.n; bt += NUM_GROUPS(2))
    {
        i64 oa, ob, oc, unused;
        LAYOUT_OFFSETS(batch, bt, oa, ob, oc, unused);
        GLOBAL const float* pa[WL];
        GLOBAL const float* pb[WL];
        bool rowOk[WL], colOk[WL];
#pragma unroll
        for (int l = 0; l < WL; l++)
        {
            rowOk[l] = m0 + am[l] < M;
            colOk[l] = n0 + bn[l] < N;
            pa[l] = A + ao + oa + (rowOk[l] ? (m0 + am[l]) * sam : 0) + ak[l] * sak;
            pb[l] = B + bo + ob + (colOk[l] ? (n0 + bn[l]) * sbn : 0) + bk[l] * sbk;
        }
        i64 stepA = WK * sak, stepB = WK * sbk;
        float acc[8][8];
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 8; j++)
                acc[i][j] = 0.0f;
#pragma unroll
        for (int l = 0; l < WL; l++)
        {
            As[0][ak[l]][am[l]] = rowOk[l] && ak[l] < K ? *pa[l] : 0.0f;
            Bs[0][bk[l]][bn[l]] = colOk[l] && bk[l] < K ? *pb[l] : 0.0f;
        }
        BARRIER();
        for (int k0 = 0, cur = 0; k0 < K; k0 += WK, cur ^= 1)
        {
            int k1 = k0 + WK;
            float ra[WL], rb[WL];
            if (k1 < K)
            {
#pragma unroll
                for (int l = 0; l < WL; l++)
                {
                    pa[l] += stepA;
                    pb[l] += stepB;
                    ra[l] = rowOk[l] && k1 + ak[l] < K ? *pa[l] : 0.0f;
                    rb[l] = colOk[l] && k1 + bk[l] < K ? *pb[l] : 0.0f;
                }
            }
            f32x4 a0 = *(LOCAL_PTR const f32x4*)&As[cur][0][ty * 4];
            f32x4 a1 = *(LOCAL_PTR const f32x4*)&As[cur][0][64 + ty * 4];
            f32x4 b0 = *(LOCAL_PTR const f32x4*)&Bs[cur][0][tx * 4];
            f32x4 b1 = *(LOCAL_PTR const f32x4*)&Bs[cur][0][64 + tx * 4];
#pragma unroll
            for (int k = 0; k < WK; k++)
            {
                float av[8] = { a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w };
                float bv[8] = { b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w };
                if (k + 1 < WK)
                {
                    a0 = *(LOCAL_PTR const f32x4*)&As[cur][k + 1][ty * 4];
                    a1 = *(LOCAL_PTR const f32x4*)&As[cur][k + 1][64 + ty * 4];
                    b0 = *(LOCAL_PTR const f32x4*)&Bs[cur][k + 1][tx * 4];
                    b1 = *(LOCAL_PTR const f32x4*)&Bs[cur][k + 1][64 + tx * 4];
                }
#pragma unroll
                for (int i = 0; i < 8; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++)
                        acc[i][j] = FMAF(av[i], bv[j], acc[i][j]);
            }
            if (k1 < K)
            {
#pragma unroll
                for (int l = 0; l < WL; l++)
                {
                    As[cur ^ 1][ak[l]][am[l]] = ra[l];
                    Bs[cur ^ 1][bk[l]][bn[l]] = rb[l];
                }
            }
            BARRIER();
        }
#pragma unroll
        for (int i = 0; i < 8; i++)
        {
            i64 m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
            if (m >= M)
                continue;
#pragma unroll
            for (int j = 0; j < 8; j++)
            {
                i64 n = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
                if (n >= N)
                    continue;
                GLOBAL float* c = C + co + oc + m * scm + n * scn;
                *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
            }
        }
    }
}

// C = alpha·Σ_t W[t] + beta·C for the split-K partial products W (slots, M, N) contiguous, C strided: one work-item per
// output, the slots summed in order (the host's split-K path, GpuBackend.MatMul).
KERNEL void gemm_splitk_sum(GLOBAL const float* W, int slots, GLOBAL float* C, i64 co, i64 scm, i64 scn, int M, int N,
    float alpha, float beta)
{
    FOR_EACH_ELEMENT(e, (i64)M * N)
    {
        float s = 0.0f;
        for (int t = 0; t < slots; t++)
            s += W[t * (i64)M * N + e];
        GLOBAL float* c = C + co + (e / N) * scm + (e % N) * scn;
        *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
    }
}
