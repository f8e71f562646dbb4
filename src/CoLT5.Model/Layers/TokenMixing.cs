// The two attention-free token mixers of the FNet and Sparse Mixer encoders, in the attention sub-layer's place:
// parameter-free 2D Fourier mixing (ortho-scaled real part of the DFT) and learned linear mixing Y = A·X·B. Both
// zero padded rows before mixing and again after it, so padding content never reaches a real token.
using System;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>
/// FNet's mixing sub-layer: y = Re(F_n · h · F_d) / √(n·d) over each row's (sequence, hidden) plane, no parameters.
/// The ortho scale keeps the RMS gain near 1/√2 (the unnormalised transform's √(n·d/2) would swamp the pre-norm
/// residual stream, spec 3.2). Padded rows are zeroed before the transform and in its output, so outputs do not
/// depend on padding content; they do depend on the padded length n, which sets the frequency grid.
/// </summary>
public static class FourierMixing
{
    /// <summary>h: the normed input (B, n, d) → mixed (B, n, d), zero at padded positions.</summary>
    public static Tensor Forward(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(context);
        var rows = context.RealRows;                                           // (B, n, 1) or null
        using var masked = rows is null ? null : h * rows;
        var mixed = FourierMix.Forward(masked ?? h, FourierMix.OrthoScale(h.Shape[1], h.Shape[2]));
        if (rows is null)
            return mixed;
        using (mixed)
            return mixed * rows;
    }
}

/// <summary>
/// Sparse Mixer's linear mixing sub-layer: y = A[:n, :n] · h · B with a learned sequence kernel A
/// (<c>Mixing.seq_kernel</c>, (N, N), N = mixing_length, indexed [output position, input position]) and hidden kernel
/// B (<c>Mixing.hidden_kernel</c>, (d, d), indexed [input feature, output feature]), both N(0, 0.02²). An input of
/// n &lt; N tokens uses A's leading n × n block, which is exactly zero rows padded up to N and cropped again; padded
/// rows are zeroed before and after mixing.
/// </summary>
public sealed class LinearMixing : Nn.Modules.Module
{
    /// <summary>Creates the kernels under <paramref name="p"/> (the <c>Mixing</c> module).</summary>
    public LinearMixing(ParameterBuilder p, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        MixingLength = config.MixingLength;
        SeqKernel = p.Get("seq_kernel", new Shape(config.MixingLength, config.MixingLength), Init.Normal(0.02));
        HiddenKernel = p.Get("hidden_kernel", new Shape(config.DModel, config.DModel), Init.Normal(0.02));
    }

    /// <summary>The fixed length N.</summary>
    public int MixingLength { get; }

    /// <summary>A: (N, N).</summary>
    public Tensor SeqKernel { get; }

    /// <summary>B: (d, d).</summary>
    public Tensor HiddenKernel { get; }

    /// <summary>h: the normed input (B, n, d) with n ≤ N → mixed (B, n, d), zero at padded positions.</summary>
    /// <exception cref="MixingLengthException">n exceeds the mixing length N.</exception>
    public Tensor Forward(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(context);
        var n = h.Shape[1];
        if (n > MixingLength)
            throw new MixingLengthException(n, MixingLength);
        var rows = context.RealRows;                                           // (B, n, 1) or null
        using var masked = rows is null ? null : h * rows;
        using var leadingRows = n == MixingLength ? null : SeqKernel.Narrow(0, 0, n);
        using var block = leadingRows?.Narrow(1, 0, n);                        // A[:n, :n]
        using var sequenceMixed = Tensor.MatMul(block ?? SeqKernel, masked ?? h);   // (B, n, d): Σ_j A[i, j]·h[j]
        var mixed = Tensor.MatMul(sequenceMixed, HiddenKernel);                // (B, n, d): · B
        if (rows is null)
            return mixed;
        using (mixed)
            return mixed * rows;
    }
}

/// <summary>An input is longer than the learned (N, N) mixing matrix of a Sparse Mixer encoder allows.</summary>
public sealed class MixingLengthException : ArgumentException
{
    /// <summary>Creates the error for an input of <paramref name="length"/> tokens and a mixing length
    /// <paramref name="mixingLength"/>.</summary>
    public MixingLengthException(int length, int mixingLength)
        : base($"linear mixing: the input has {length} positions (padding included) but the sequence kernel is " +
            $"{mixingLength} × {mixingLength} (mixing_length {mixingLength}); shorten or truncate inputs to at most " +
            $"{mixingLength} tokens")
    {
        Length = length;
        MixingLength = mixingLength;
    }

    /// <summary>Creates the error.</summary>
    public MixingLengthException() : base("linear mixing: the input is longer than mixing_length") { }

    /// <summary>Creates the error.</summary>
    public MixingLengthException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public MixingLengthException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The input's length n (padding included).</summary>
    public int Length { get; }

    /// <summary>The configured mixing length N.</summary>
    public int MixingLength { get; }
}
