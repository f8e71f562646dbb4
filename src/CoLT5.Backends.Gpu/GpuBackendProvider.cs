// Registers the GPU backends with the tensor layer: OpenCL when a loader, platform and device exist, CUDA when
// libcuda, cuInit and a device succeed. Absence is a probe result with its reason, never an exception; the tests
// and the CLI turn it into a failure when COLT5_REQUIRE_OPENCL=1 / COLT5_REQUIRE_CUDA=1 asks for the device.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Gpu;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Backends.Gpu.Runtime.Cuda;
using CoLT5.Backends.Gpu.Runtime.OpenCl;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

[assembly: BackendProvider(typeof(GpuBackendProvider))]

namespace CoLT5.Backends.Gpu;

/// <summary>Creates one shared <see cref="GpuBackend"/> per OpenCL or CUDA device.</summary>
public sealed class GpuBackendProvider : IBackendProvider
{
    private readonly Dictionary<Device, GpuBackend> created = [];

    /// <inheritdoc/>
    public IReadOnlyList<DeviceKind> Kinds { get; } = [DeviceKind.OpenCl, DeviceKind.Cuda];

    /// <summary>True when <c>COLT5_REQUIRE_OPENCL=1</c> (or <c>COLT5_REQUIRE_CUDA=1</c>) makes an absent device an
    /// error for whoever asks (test fixtures, the CLI).</summary>
    public static bool Required(DeviceKind kind) =>
        Environment.GetEnvironmentVariable(kind == DeviceKind.Cuda ? "COLT5_REQUIRE_CUDA" : "COLT5_REQUIRE_OPENCL") == "1";

    /// <inheritdoc/>
    public BackendProbe Probe(DeviceKind kind)
    {
        string reason;
        int count;
        switch (kind)
        {
            case DeviceKind.OpenCl:
                count = OpenClRuntime.Probe(out reason).Count;
                break;
            case DeviceKind.Cuda:
                count = CudaRuntime.Probe(out count, out reason) ? count : 0;
                break;
            default:
                return new BackendProbe(kind, 0, $"the GPU provider does not drive {kind}");
        }
        return new BackendProbe(kind, count, reason);
    }

    /// <inheritdoc/>
    public IBackend Create(Device device)
    {
        lock (created)
        {
            if (created.TryGetValue(device, out var backend))
                return backend;
            IGpuRuntime runtime = device.Kind switch
            {
                DeviceKind.OpenCl => new OpenClRuntime(device.Ordinal),
                DeviceKind.Cuda => new CudaRuntime(device.Ordinal),
                _ => throw new BackendUnavailableException(device, "the GPU provider drives opencl and cuda devices"),
            };
            backend = new GpuBackend(runtime, device);
            created[device] = backend;
            return backend;
        }
    }
}
