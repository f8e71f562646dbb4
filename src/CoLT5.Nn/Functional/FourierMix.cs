// FNet's token mixing, y = scale · Re(F_N · x · F_d) over (sequence, hidden) per batch row: the backend's fused
// kernel when it has one (the CPU's FFTs), otherwise two real products with cached cos/sin DFT matrices, which every
// backend runs. The operator is self-adjoint, so the backward is the same transform of the upstream gradient and
// nothing is saved for it.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;
using CoLT5.Tensors.Autograd;

namespace CoLT5.Nn.Functional;

/// <summary>
/// The real part of the 2D discrete Fourier transform over the last two axes, L(X) = Re(F_N X F_d) with
/// [F_L]_(jk) = e^(−2πi·jk/L), times a scale. With <see cref="OrthoScale"/> the RMS gain on i.i.d. input is about
/// 1/√2, which is what a pre-norm residual block needs (the unnormalised transform has gain √(N·d/2)).
/// </summary>
public static class FourierMix
{
    /// <summary>
    /// Whether <see cref="Forward"/> asks the backend for its fused transform (default) or goes straight to
    /// <see cref="Composed"/>: false when the environment variable <c>COLT5_FOURIER</c> is <c>composed</c>.
    /// </summary>
    /// <remarks>Setting it affects the calling thread only (tests and the perf runner compare the two paths).</remarks>
    public static bool PreferFused
    {
        get => preferFused ?? FusedByDefault;
        set => preferFused = value;
    }

    [ThreadStatic] private static bool? preferFused;

    private static readonly bool FusedByDefault =
        !string.Equals(Environment.GetEnvironmentVariable("COLT5_FOURIER"), "composed",
            StringComparison.OrdinalIgnoreCase);

    /// <summary>1/√(N·d): the "ortho" normalisation of an N × d transform.</summary>
    public static double OrthoScale(int n, int d)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d);
        return 1 / Math.Sqrt((double)n * d);
    }

    /// <summary>
    /// x (B, N, d) float → scale · Re(F_N x[b] F_d) (B, N, d). Runs the backend's fused transform, else (or when
    /// <see cref="PreferFused"/> is false) <see cref="Composed"/>; the gradient is the same transform of the
    /// upstream gradient (the operator is self-adjoint), so nothing is saved.
    /// </summary>
    /// <exception cref="InvalidShapeException">x is not (B, N, d) with N, d ≥ 1.</exception>
    /// <exception cref="DTypeMismatchException">x is not a floating-point tensor.</exception>
    public static Tensor Forward(Tensor x, double scale)
    {
        Check(x, scale);
        var y = Apply(x, scale);
        return Tensor.Recording(x) ? y.Attach(new FourierMixBackward(x, scale)) : y;
    }

    /// <summary>
    /// The composed transform every backend runs: Z = x · [C_d | S_d] (B, N, 2d), then
    /// y = [C_N | −S_N] · [Z₁; Z₂] (B, N, d), i.e. C_N x C_d − S_N x S_d, with C and S the cos and sin parts of the
    /// DFT matrices (spec 1.4), cached per length and device. Differentiable through its products.
    /// </summary>
    /// <inheritdoc cref="Forward" path="/exception"/>
    public static Tensor Composed(Tensor x, double scale)
    {
        Check(x, scale);
        int batch = x.Shape[0], n = x.Shape[1], d = x.Shape[2];
        using var hidden = DftMatrices.Get(d, sequence: false, x.DType, x.Device);     // (d, 2d), / √d
        using var sequence = DftMatrices.Get(n, sequence: true, x.DType, x.Device);    // (N, 2N), / √N
        using var z = Tensor.MatMul(x, hidden);                                         // (B, N, 2d)
        using var halves = z.Reshape(batch, n, 2, d);
        using var stackedView = halves.Permute(0, 2, 1, 3);                             // (B, 2, N, d)
        using var stacked = stackedView.Reshape(batch, 2 * n, d);                       // (B, 2N, d)
        var y = Tensor.MatMul(sequence, stacked);                                       // (B, N, d), / √(N·d)
        var factor = scale * Math.Sqrt((double)n * d);
        if (Math.Abs(factor - 1) <= 1e-15)
            return y;
        using (y)
            return y * factor;
    }

    // The transform without recording: fused when the backend has it (and it is preferred), composed otherwise.
    private static Tensor Apply(Tensor x, double scale)
    {
        using var noGrad = Tensor.NoGrad();
        using var input = x.IsContiguous ? x.Alias() : x.ContiguousCopy();
        if (!PreferFused)
            return Composed(input, scale);
        var y = Tensor.Empty(x.Backend, x.Shape, x.DType);
        bool done;
        try
        {
            done = x.Backend.TryFourierMix(input.View, y.View, scale);
        }
        catch
        {
            y.Dispose();
            throw;
        }
        if (done)
            return y;
        y.Dispose();
        return Composed(input, scale);
    }

    /// <summary>Releases the DFT matrices <see cref="Composed"/> keeps between calls (up to 1 GiB, on whatever
    /// devices ran it); the next call builds them again.</summary>
    public static void ReleaseCachedMatrices() => DftMatrices.Clear();

    private static void Check(Tensor x, double scale)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Shape[1] == 0 || x.Shape[2] == 0)
            throw new InvalidShapeException("fourier_mix", x.Shape, "x must be (B, N, d) with N, d ≥ 1");
        if (!x.DType.IsFloatingPoint())
            throw new DTypeMismatchException("fourier_mix", $"x must be a floating-point tensor, got {x}");
        if (!double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "fourier_mix: the scale must be finite");
    }

    // ⟨L(X), G⟩ = ⟨X, L(G)⟩ (C and S are symmetric): the gradient is the forward transform of the gradient.
    private sealed class FourierMixBackward(Tensor x, double scale) : GradFn(x)
    {
        public override string Name => "fourier_mix_backward";

        public override Tensor?[] Backward(Tensor grad) => [Apply(grad, scale)];
    }
}

/// <summary>
/// Cached DFT matrices for the composed transform, scaled by 1/√L: the hidden form [C_L | S_L] and the sequence form
/// [C_L | −S_L], both (L, 2L), per length, dtype and device. Angles are reduced exactly (j·k mod L) before they are
/// scaled by 2π. At most <see cref="CacheBytes"/> are kept; a larger set empties the cache first.
/// </summary>
internal static class DftMatrices
{
    /// <summary>The most bytes of matrices kept alive between calls.</summary>
    public const long CacheBytes = 1L << 30;

    private static readonly Dictionary<(int Length, bool Sequence, DType DType, Device Device), Tensor> Cache = [];
    private static readonly object Gate = new();
    private static long cachedBytes;

    /// <summary>The matrix (L, 2L) as a new reference (dispose it; the cache keeps its own).</summary>
    public static Tensor Get(int length, bool sequence, DType dtype, Device device)
    {
        var key = (length, sequence, dtype, device);
        lock (Gate)
        {
            if (Cache.TryGetValue(key, out var hit))
                return hit.Alias();
        }
        var built = Build(length, sequence, dtype, device);
        built.OwnerScope = null;
        var bytes = built.NumElements * dtype.SizeOf();
        lock (Gate)
        {
            if (Cache.TryGetValue(key, out var raced))
            {
                built.Dispose();
                return raced.Alias();
            }
            if (cachedBytes + bytes > CacheBytes)
            {
                foreach (var t in Cache.Values)
                    t.Dispose();                        // callers hold their own references
                Cache.Clear();
                cachedBytes = 0;
            }
            if (bytes <= CacheBytes)
            {
                Cache[key] = built;
                cachedBytes += bytes;
                return built.Alias();
            }
            return built;
        }
    }

    /// <summary>Drops every cached matrix (callers' own references stay valid).</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            foreach (var t in Cache.Values)
                t.Dispose();
            Cache.Clear();
            cachedBytes = 0;
        }
    }

    private static Tensor Build(int length, bool sequence, DType dtype, Device device)
    {
        using var noGrad = Tensor.NoGrad();
        var norm = 1 / Math.Sqrt(length);
        var cos = new double[length];
        var sin = new double[length];
        for (var j = 0; j < length; j++)
        {
            var angle = 2 * Math.PI * j / length;
            cos[j] = norm * Math.Cos(angle);
            sin[j] = (sequence ? -norm : norm) * Math.Sin(angle);
        }
        var shape = new Shape(length, 2 * length);
        if (dtype == DType.Float64)
            return Tensor.FromArray<double>(Fill<double>(length, cos, sin, v => v), shape, device);
        var values = Fill<float>(length, cos, sin, v => (float)v);
        using var single = Tensor.FromArray<float>(values, shape, device);
        return dtype == DType.Float32 ? single.Alias() : single.To(dtype);
    }

    // Row j: cos(2π·jk/L), k < L, then ±sin(2π·jk/L), with jk reduced modulo L.
    private static T[] Fill<T>(int length, double[] cos, double[] sin, Func<double, T> convert)
    {
        var values = new T[(long)length * 2 * length];
        for (var j = 0; j < length; j++)
        {
            var row = (long)j * 2 * length;
            for (var k = 0; k < length; k++)
            {
                var at = (int)((long)j * k % length);
                values[row + k] = convert(cos[at]);
                values[row + length + k] = convert(sin[at]);
            }
        }
        return values;
    }
}
