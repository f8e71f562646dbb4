// Which GPU devices the tests may use: a device that is absent skips its tests with the probe's reason, unless
// COLT5_REQUIRE_OPENCL=1 / COLT5_REQUIRE_CUDA=1 says it must be there (CI has PoCL; the GPU host has CUDA).
using CoLT5.Backends.Gpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using Xunit;

namespace CoLT5.Tests.Testing;

public static class GpuDevices
{
    /// <summary>The first device of <paramref name="kind"/>, or a skip (a failure when it is required).</summary>
    public static Device Require(DeviceKind kind)
    {
        var probe = BackendRegistry.Probe(kind);
        if (probe.IsAvailable)
            return new Device(kind);
        if (GpuBackendProvider.Required(kind))
            Assert.Fail($"{kind} is required by COLT5_REQUIRE_{kind.ToString().ToUpperInvariant()}=1 but absent: {probe.Reason}");
        Assert.Skip($"no {kind} device: {probe.Reason}");
        return default;
    }
}

/// <summary>GPU tests run one at a time and apart from every other test, so device memory counters mean something
/// and PoCL's two CPU threads are not shared.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuCollection
{
    public const string Name = "Gpu";
}
