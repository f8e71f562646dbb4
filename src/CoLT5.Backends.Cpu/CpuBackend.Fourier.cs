// Fused Fourier mixing (FNet) on the CPU: argument checks, then the float64 real-input FFTs of FourierMixKernel.
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public bool TryFourierMix(in TensorView x, in TensorView y, double scale)
    {
        const string op = "fourier_mix";
        if (x.DType is not (DType.Float32 or DType.Float64))
            return false;
        var (batch, n, d) = FusedOpChecks.FourierMix(op, x, y, scale);
        if (x.DType == DType.Float32)
            FourierMixKernel.Forward(At<float>(x), At<float>(y), batch, n, d, scale);
        else
            FourierMixKernel.Forward(At<double>(x), At<double>(y), batch, n, d, scale);
        return true;
    }
}
