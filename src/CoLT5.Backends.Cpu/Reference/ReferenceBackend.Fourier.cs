// Fourier mixing in the reference backend: the 2D DFT's real part written out as two direct float64 DFT sums with
// exactly reduced angles and compensated summation, O(N·d·(N + d)) per batch row. The oracle of the FFT kernel.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// y[b] = scale · Re(F_N x[b] F_d) by the definition: Z[m, k] = Σ_c x[m, c]·e^(−2πi·ck/d), then
    /// y[n, k] = scale · Σ_m Re(e^(−2πi·nm/N)·Z[m, k]), each angle reduced modulo the length before it is scaled by
    /// 2π. Views may be strided; each batch row is read completely before it is written, so y may be x.
    /// </summary>
    public bool TryFourierMix(in TensorView x, in TensorView y, double scale)
    {
        const string name = "fourier_mix";
        var hx = Host(x, name, "x");
        var hy = Host(y, name, "y");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "y", y, x);
        RequireShape(name, "y", y, x.Shape);
        if (x.Rank != 3 || x.Shape[1] == 0 || x.Shape[2] == 0)
            throw new InvalidShapeException(name, x.Shape, "x must be (B, N, d) with N, d ≥ 1");
        if (!double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"{name}: the scale must be finite");
        int batch = x.Shape[0], n = x.Shape[1], d = x.Shape[2];
        var (cosD, sinD) = Unit(d);
        var (cosN, sinN) = Unit(n);
        var zr = new double[n * d];
        var zi = new double[n * d];
        var result = new double[n * d];
        for (var b = 0; b < batch; b++)
        {
            for (var m = 0; m < n; m++)
            {
                for (var k = 0; k < d; k++)
                {
                    NeumaierSum re = default, im = default;
                    for (var c = 0; c < d; c++)
                    {
                        var v = hx[x.Offset + b * x.Strides[0] + m * x.Strides[1] + c * x.Strides[2]];
                        var at = (int)((long)c * k % d);
                        re.Add(v * cosD[at]);
                        im.Add(-v * sinD[at]);
                    }
                    zr[m * d + k] = re.Value;
                    zi[m * d + k] = im.Value;
                }
            }
            for (var i = 0; i < n; i++)
            {
                for (var k = 0; k < d; k++)
                {
                    NeumaierSum sum = default;
                    for (var m = 0; m < n; m++)
                    {
                        var at = (int)((long)i * m % n);
                        // Re(e^(−iθ)·z) = cos θ·Re z + sin θ·Im z
                        sum.Add(cosN[at] * zr[m * d + k]);
                        sum.Add(sinN[at] * zi[m * d + k]);
                    }
                    result[i * d + k] = scale * sum.Value;
                }
            }
            for (var i = 0; i < n; i++)
            {
                for (var k = 0; k < d; k++)
                    hy[y.Offset + b * y.Strides[0] + i * y.Strides[1] + k * y.Strides[2]] = result[i * d + k];
            }
        }
        return true;
    }

    // cos and sin of 2π·j/L for j < L.
    private static (double[] Cos, double[] Sin) Unit(int length)
    {
        var cos = new double[length];
        var sin = new double[length];
        for (var j = 0; j < length; j++)
        {
            var angle = 2 * Math.PI * j / length;
            cos[j] = Math.Cos(angle);
            sin[j] = Math.Sin(angle);
        }
        return (cos, sin);
    }
}
