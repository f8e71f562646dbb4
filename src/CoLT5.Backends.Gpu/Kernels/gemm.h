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
