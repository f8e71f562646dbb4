// Philox4x32-10 counter-based generator (Salmon et al., SC'11): the same (key, counter) gives the same bits on
// every machine and backend, so random tensors are reproducible and parallel fills need no shared state.
using System;
using System.Runtime.CompilerServices;

namespace CoLT5.Tensors.Random;

/// <summary>
/// Philox4x32 with 10 rounds, plus the element mappings every backend uses:
/// float32 uniform/Bernoulli element e reads 32-bit lane e mod 4 of block e/4; float64 uniform element e reads
/// lanes 2(e mod 2), 2(e mod 2)+1 of block e/2; a normal element e uses all four lanes of block e (Box–Muller).
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The four 32-bit outputs for a 64-bit counter under a 64-bit key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint X0, uint X1, uint X2, uint X3) Block(ulong key, ulong counter)
    {
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        for (var round = 0; round < 10; round++)
        {
            var p0 = (ulong)M0 * c0;
            var p1 = (ulong)M1 * c2;
            var n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            var n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>32 random bits for float32 element <paramref name="element"/> of stream <paramref name="key"/>.</summary>
    public static uint Bits32(ulong key, ulong element)
    {
        var (x0, x1, x2, x3) = Block(key, element >> 2);
        return (element & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
    }

    /// <summary>64 random bits for float64 element <paramref name="element"/>.</summary>
    public static ulong Bits64(ulong key, ulong element)
    {
        var (x0, x1, x2, x3) = Block(key, element >> 1);
        return (element & 1) == 0 ? ((ulong)x1 << 32) | x0 : ((ulong)x3 << 32) | x2;
    }

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public static float UniformFloat(ulong key, ulong element) => (Bits32(key, element) >> 8) * (1.0f / (1 << 24));

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public static double UniformDouble(ulong key, ulong element) => (Bits64(key, element) >> 11) * (1.0 / (1L << 53));

    /// <summary>Bernoulli(p) for element <paramref name="element"/>: 1 when the 32-bit draw falls below p·2³².</summary>
    public static bool Bernoulli(ulong key, ulong element, double p) => Bits32(key, element) < Threshold(p);

    /// <summary>The integer threshold for <see cref="Bernoulli"/> (0 for p ≤ 0; 2³² saturates to always-true).</summary>
    public static ulong Threshold(double p) =>
        p <= 0 ? 0UL : p >= 1 ? 1UL << 32 : (ulong)(p * 4294967296.0);

    /// <summary>Standard normal for element <paramref name="element"/> (Box–Muller, deterministic math).</summary>
    public static double Normal(ulong key, ulong element)
    {
        var (x0, x1, x2, x3) = Block(key, element);
        // u1 in (0, 1]: never 0, so the log is finite; u2 in [0, 1).
        var u1 = ((((ulong)x1 << 32) | x0) >> 11) * (1.0 / (1L << 53)) + 1.0 / (1L << 53);
        var u2 = ((((ulong)x3 << 32) | x2) >> 11) * (1.0 / (1L << 53));
        return Math.Sqrt(-2.0 * DeterministicMath.Log(u1)) * DeterministicMath.CosTwoPi(u2);
    }
}
