// Registers the CPU backend and the scalar reference backend with the tensor layer's registry.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Backends.Cpu.Reference;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

[assembly: BackendProvider(typeof(CpuBackendProvider))]

namespace CoLT5.Backends.Cpu;

/// <summary>Creates the shared <see cref="CpuBackend"/> and <see cref="ReferenceBackend"/>.</summary>
public sealed class CpuBackendProvider : IBackendProvider
{
    private static readonly Lazy<CpuBackend> Cpu = new(() => new CpuBackend());
    private static readonly Lazy<ReferenceBackend> Reference = new(() => new ReferenceBackend());

    /// <inheritdoc/>
    public IReadOnlyList<DeviceKind> Kinds { get; } = [DeviceKind.Cpu, DeviceKind.Reference];

    /// <inheritdoc/>
    public BackendProbe Probe(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpu => new BackendProbe(kind, 1, CpuBackend.DescribeMachine()),
        DeviceKind.Reference => new BackendProbe(kind, 1, "scalar reference loops"),
        _ => new BackendProbe(kind, 0, $"the CPU provider does not drive {kind}"),
    };

    /// <inheritdoc/>
    public IBackend Create(Device device) => device switch
    {
        { Kind: DeviceKind.Cpu, Ordinal: 0 } => Cpu.Value,
        { Kind: DeviceKind.Reference, Ordinal: 0 } => Reference.Value,
        _ => throw new BackendUnavailableException(device, "the CPU provider has a single cpu and reference device"),
    };
}
