// Shared correctness measures of the perf cases: each case compares its result against a reference before timing.
using System;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf;

public static class Checks
{
    /// <summary>A float64 store holding float64 copies of every parameter of <paramref name="store"/>, under the
    /// same names: the same model built on it is the float64 reference of the float32 one.</summary>
    public static ParameterStore Float64Copy(ParameterStore store) => Copy(store, DType.Float64, Device.Cpu);

    /// <summary>A store holding copies of every parameter of <paramref name="store"/> in <paramref name="dtype"/> on
    /// <paramref name="device"/>, under the same names.</summary>
    public static ParameterStore Copy(ParameterStore store, DType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(store);
        var copy = new ParameterStore(dtype, device, new Generator(1));
        using (Tensor.NoGrad())
        {
            foreach (var (name, tensor) in store.Parameters)
            {
                using var typed = tensor.To(dtype);
                copy.Add(name, typed.To(device));
            }
        }
        return copy;
    }

    /// <summary>max |got − want| / max |want| (the error relative to the tensor's largest magnitude).</summary>
    public static double RelativeToMax(double[] got, double[] want)
    {
        ArgumentNullException.ThrowIfNull(got);
        ArgumentNullException.ThrowIfNull(want);
        if (got.Length != want.Length)
            throw new ArgumentException($"compared arrays differ in length ({got.Length} vs {want.Length})");
        double worst = 0, scale = 0;
        for (var i = 0; i < want.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(got[i] - want[i]));
            scale = Math.Max(scale, Math.Abs(want[i]));
        }
        return worst / Math.Max(scale, 1e-30);
    }
}
