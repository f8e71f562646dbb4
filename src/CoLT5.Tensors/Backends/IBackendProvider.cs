// How backends are discovered: an assembly names a provider; the provider probes its devices without throwing.
using System;
using System.Collections.Generic;

namespace CoLT5.Tensors.Backends;

/// <summary>Result of probing a device kind: the devices found, or why there are none.</summary>
/// <param name="Kind">The probed kind.</param>
/// <param name="DeviceCount">How many devices of the kind are usable.</param>
/// <param name="Reason">When none: why (missing driver, no platform, ...); otherwise a short description.</param>
public sealed record BackendProbe(DeviceKind Kind, int DeviceCount, string Reason)
{
    /// <summary>True when at least one device is usable.</summary>
    public bool IsAvailable => DeviceCount > 0;
}

/// <summary>Creates backends for one or more device kinds. Implementations must not throw from
/// <see cref="Probe"/> when a driver or device is absent.</summary>
public interface IBackendProvider
{
    /// <summary>The kinds this provider can create.</summary>
    IReadOnlyList<DeviceKind> Kinds { get; }

    /// <summary>Looks for devices of <paramref name="kind"/>; never throws for absence.</summary>
    BackendProbe Probe(DeviceKind kind);

    /// <summary>Creates (or returns the shared) backend for a device the probe reported.</summary>
    IBackend Create(Device device);
}

/// <summary>Marks an assembly as containing a backend provider (a public parameterless class).</summary>
/// <param name="providerType">The provider type.</param>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class BackendProviderAttribute(Type providerType) : Attribute
{
    /// <summary>The provider type.</summary>
    public Type ProviderType { get; } = providerType;
}
