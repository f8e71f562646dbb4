// Counter-based random fills, bit-identical to the CPU backend (CoLT5.Tensors.Random.Philox): element i of a
// draw uses the Philox4x32-10 block (seed, (offset + i) / 4), word (offset + i) % 4. Uniform float32 and
// Bernoulli fills (any element type -DT) run here; normal samples are drawn on the host.

DEVICE_FN uint philox_word(u64 key, u64 element)
{
    uint k0 = (uint)key, k1 = (uint)(key >> 32);
    u64 counter = element >> 2;
    uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
    for (int round = 0; round < 10; round++)
    {
        uint hi0 = MULHI32(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint hi1 = MULHI32(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint n0 = hi1 ^ c1 ^ k0;
        uint n2 = hi0 ^ c3 ^ k1;
        c1 = lo1;
        c3 = lo0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    uint w = (uint)(element & 3);
    return w == 0 ? c0 : w == 1 ? c1 : w == 2 ? c2 : c3;
}

// y[i] = a + (b − a)·u, u = (bits >> 8)·2⁻²⁴, rounded like the CPU (no fused multiply-add).
KERNEL void random_uniform(GLOBAL float* y, i64 yo, i64 n, u64 seed, u64 offset, float a, float width)
{
    FOR_EACH_ELEMENT(i, n)
    {
        float u = (float)(philox_word(seed, offset + (u64)i) >> 8) * (1.0f / 16777216.0f);
        y[yo + i] = ADD_RN(a, MUL_RN(width, u));
    }
}

// y[i] = 1 if bits < threshold (threshold = p·2³², up to 2³²), else 0.
KERNEL void random_bernoulli(GLOBAL T* y, i64 yo, i64 n, u64 seed, u64 offset, u64 threshold)
{
    FOR_EACH_ELEMENT(i, n)
    {
        y[yo + i] = (T)((u64)philox_word(seed, offset + (u64)i) < threshold ? 1 : 0);
    }
}
