// Multithreaded CPU kernels must give bit-identical results on every call: training runs are reproducible only if
// no reduction depends on which thread finished first.
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Backends;

[Trait("Category", "Kernel")]
public sealed class CpuDeterminismTests
{
    /// <summary>
    /// The weight gradient of RMSNorm sums over all rows, split across threads; repeated backward passes over many
    /// rows (enough for several ranges per thread) must agree to the last bit.
    /// </summary>
    [Fact]
    public void RmsNormBackward_WeightGradient_IsBitIdenticalAcrossCalls()
    {
        float[]? first = null;
        for (int call = 0; call < 6; call++)
        {
            using var scope = DisposeScope.Enter();
            var x = Conformance.Normal([4096, 96], 11, DType.Float32);           // [rows, d]
            var w = Conformance.Normal([96], 12, DType.Float32);
            var probe = Conformance.Normal([4096, 96], 13, DType.Float32);       // [rows, d]
            x.RequiresGrad = true;
            w.RequiresGrad = true;
            (x.RmsNorm(w) * probe).Sum().Backward();
            float[] dw = w.Grad!.ToDoubleArray().Select(v => (float)v).ToArray();
            if (first == null)
            {
                first = dw;
                continue;
            }

            for (int i = 0; i < dw.Length; i++)
            {
                Assert.True(
                    System.BitConverter.SingleToInt32Bits(dw[i]) == System.BitConverter.SingleToInt32Bits(first[i]),
                    $"call {call}: dw[{i}] = {dw[i]:R}, first call gave {first[i]:R}");
            }
        }
    }
}
