// Confirms that the SIMD-fallback switches CI uses really move the kernels off the wide paths, so the fallback
// runs of the kernel tests test what they claim to.
using System;
using System.Runtime.Intrinsics;
using Xunit;

namespace CoLT5.Tests.Kernels;

[Trait("Category", "Kernel")]
public sealed class SimdPathTests
{
    [Fact]
    public void EnvironmentSwitchesSelectTheExpectedVectorWidth()
    {
        var noAvx512 = Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0";
        var noIntrinsics = Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0";
        if (noAvx512 || noIntrinsics)
            Assert.False(Vector512.IsHardwareAccelerated, "Vector512 should be off under the fallback switches");
        if (noIntrinsics)
            Assert.False(Vector256.IsHardwareAccelerated, "Vector256 should be off with DOTNET_EnableHWIntrinsic=0");
        Assert.Contains(Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar",
            CoLT5.Backends.Cpu.CpuBackend.DescribeMachine(), StringComparison.Ordinal);
    }
}
