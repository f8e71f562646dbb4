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
// 64 + ty·4 + {0..3}, columns likewise with tx, so neighbouring work-items read neighbouring local words), K-slices
// of 8 staged in local memory while the next slice is already being read from global memory into registers.
#define WM 128
#define WN 128
#define WK 8
#define WPAD 4

KERNEL void gemm_wide(GLOBAL const float* A, i64 ao, i64 sam, i64 sak, GLOBAL const float* B, i64 bo, i64 sbk,
    i64 sbn, GLOBAL float* C, i64 co, i64 scm, i64 scn, int M, int N, int K, float alpha, float beta, Layout batch)
{
    LOCAL float As[WK][WM + WPAD];
    LOCAL float Bs[WK][WN + WPAD];
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    int tid = ty * 16 + tx;
    i64 m0 = GROUP_ID(1) * WM, n0 = GROUP_ID(0) * WN;
    for (i64 bt = GROUP_ID(2); bt < batch.n; bt += NUM_GROUPS(2))
    {
        i64 oa, ob, oc, unused;
        LAYOUT_OFFSETS(batch, bt, oa, ob, oc, unused);
        GLOBAL const float* a = A + ao + oa;
        GLOBAL const float* b = B + bo + ob;
        float acc[8][8];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                acc[i][j] = 0.0f;
        // which (row, k) / (k, column) each of this work-item's 4 loads per operand and slice fetches: consecutive
        // work-items read consecutive addresses whichever operand stride is unit
        int am[4], ak[4], bk[4], bn[4];
        for (int l = 0; l < 4; l++)
        {
            int e = tid + l * 256;
            am[l] = sak == 1 ? e / WK : e % WM;
            ak[l] = sak == 1 ? e % WK : e / WM;
            bk[l] = sbn == 1 ? e / WN : e % WK;
            bn[l] = sbn == 1 ? e % WN : e / WK;
        }
        float ra[4], rb[4];
        for (int l = 0; l < 4; l++)
        {
            ra[l] = (m0 + am[l] < M && ak[l] < K) ? a[(m0 + am[l]) * sam + (i64)ak[l] * sak] : 0.0f;
            rb[l] = (bk[l] < K && n0 + bn[l] < N) ? b[(i64)bk[l] * sbk + (n0 + bn[l]) * sbn] : 0.0f;
        }
        for (int k0 = 0; k0 < K; k0 += WK)
        {
            for (int l = 0; l < 4; l++)
            {
                As[ak[l]][am[l]] = ra[l];
                Bs[bk[l]][bn[l]] = rb[l];
            }
            BARRIER();
            int k1 = k0 + WK;
            if (k1 < K)
            {
                // the next slice travels from global memory while this one is multiplied
                for (int l = 0; l < 4; l++)
                {
                    ra[l] = (m0 + am[l] < M && k1 + ak[l] < K) ? a[(m0 + am[l]) * sam + (i64)(k1 + ak[l]) * sak] : 0.0f;
                    rb[l] = (k1 + bk[l] < K && n0 + bn[l] < N) ? b[(i64)(k1 + bk[l]) * sbk + (n0 + bn[l]) * sbn] : 0.0f;
                }
            }
            for (int k = 0; k < WK; k++)
            {
                float av[8], bv[8];
                for (int i = 0; i < 4; i++)
                {
                    av[i] = As[k][ty * 4 + i];
                    av[4 + i] = As[k][64 + ty * 4 + i];
                    bv[i] = Bs[k][tx * 4 + i];
                    bv[4 + i] = Bs[k][64 + tx * 4 + i];
                }
                for (int i = 0; i < 8; i++)
                    for (int j = 0; j < 8; j++)
                        acc[i][j] = FMAF(av[i], bv[j], acc[i][j]);
            }
            BARRIER();
        }
        for (int i = 0; i < 8; i++)
        {
            i64 m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
            if (m >= M)
                continue;
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
