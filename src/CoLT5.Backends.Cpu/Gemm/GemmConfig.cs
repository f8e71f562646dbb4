// Blocking parameters of the packed GEMM: the register tile (MR × NR, fixed by the active SIMD width) and the
// cache blocks KC / MC / NC (sized for Zen 5: 48 KiB L1d, 1 MiB L2 per core, large shared L3).
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>Register-tile and cache-block sizes for the active SIMD tier and element type.</summary>
/// <remarks>
/// The micro-kernel keeps one KC × NR micro-panel of packed B in L1 while KC × MR micro-panels of A stream past it
/// from the L2-resident MC × KC packed A block; the KC × NC packed B block lives in L3. For float with AVX-512:
/// KC = 256 → 32 KiB of B + 12 KiB of A per 12 × 32 tile (of 48 KiB L1); MC = 384 → 384 KiB of A in L2.
/// For double the measured optimum is a deeper KC = 512 (B then streams from L2, which keeps up), MC = 96.
/// The settable values are tuning knobs for the perf harness; production code only reads them.
/// </remarks>
internal static class GemmConfig
{
    /// <summary>Depth of one packed block for float.</summary>
    internal static int KcFloat { get; set; } = 256;

    /// <summary>Rows of one packed A block for float.</summary>
    internal static int McFloat { get; set; } = 384;

    /// <summary>Columns of one packed B block for float.</summary>
    internal static int NcFloat { get; set; } = 4096;

    /// <summary>Depth of one packed block for double (measured best: longer panels amortise the C tile update).</summary>
    internal static int KcDouble { get; set; } = 512;

    /// <summary>Rows of one packed A block for double (96 · 512 · 8 B = 384 KiB of L2).</summary>
    internal static int McDouble { get; set; } = 96;

    /// <summary>Columns of one packed B block for double.</summary>
    internal static int NcDouble { get; set; } = 1024;

    /// <summary>Rows of the register tile (broadcast A values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Mr<T>()
        where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return MicroKernel512.Mr;
        }

        return Vector256.IsHardwareAccelerated ? MicroKernel256.Mr : MicroKernelScalar.Mr;
    }

    /// <summary>Columns of the register tile (two SIMD vectors of B).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Nr<T>()
        where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return 2 * Vector512<T>.Count;
        }

        return Vector256.IsHardwareAccelerated ? 2 * Vector256<T>.Count : MicroKernelScalar.Nr;
    }

    /// <summary>Depth (k) of one packed block (a multiple of 4).</summary>
    public static int Kc<T>()
        where T : unmanaged
        => Math.Max(4, (typeof(T) == typeof(float) ? KcFloat : KcDouble) & ~3);

    /// <summary>Rows of one packed A block (a multiple of MR).</summary>
    public static int Mc<T>()
        where T : unmanaged
    {
        int mr = Mr<T>();
        return Math.Max(1, (typeof(T) == typeof(float) ? McFloat : McDouble) / mr) * mr;
    }

    /// <summary>Columns of one packed B block (a multiple of NR).</summary>
    public static int Nc<T>()
        where T : unmanaged
    {
        int nr = Nr<T>();
        return Math.Max(1, (typeof(T) == typeof(float) ? NcFloat : NcDouble) / nr) * nr;
    }
}
