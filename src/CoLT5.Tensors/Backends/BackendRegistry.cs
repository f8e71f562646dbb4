// Finds backend providers (in assemblies that ship next to this one), probes devices, and hands out one shared
// backend per device. Absence of a GPU driver is a normal answer, never an exception, until a device is asked for.
using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;

namespace CoLT5.Tensors.Backends;

/// <summary>The registry of backends. The CPU backend is found automatically; GPU backends when installed.</summary>
public static class BackendRegistry
{
    // Assemblies probed for [BackendProvider] attributes, in order. Missing ones are skipped.
    private static readonly string[] KnownProviderAssemblies = ["CoLT5.Backends.Cpu", "CoLT5.Backends.Gpu"];

    private static readonly Lock Gate = new();
    private static readonly Dictionary<Device, IBackend> Backends = [];
    private static List<IBackendProvider>? providers;

    /// <summary>The device new tensors go to when none is named (default: <see cref="Device.Cpu"/>).</summary>
    public static Device DefaultDevice { get; set; } = Device.Cpu;

    /// <summary>Adds a provider explicitly (tests, plug-ins outside the known assemblies).</summary>
    public static void Register(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate)
        {
            var list = Providers();
            if (!list.Any(p => p.GetType() == provider.GetType()))
                list.Add(provider);
        }
    }

    /// <summary>Probes a device kind; never throws for a missing driver or device.</summary>
    public static BackendProbe Probe(DeviceKind kind)
    {
        lock (Gate)
        {
            var provider = Providers().FirstOrDefault(p => p.Kinds.Contains(kind));
            if (provider is null)
                return new BackendProbe(kind, 0, $"no backend assembly for {kind} is installed");
            try
            {
                return provider.Probe(kind);
            }
#pragma warning disable CA1031 // a probe failure of any kind means "not available", with the reason kept
            catch (Exception e)
#pragma warning restore CA1031
            {
                return new BackendProbe(kind, 0, $"probe failed: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Every usable device, CPU first.</summary>
    public static IReadOnlyList<Device> AvailableDevices()
    {
        var devices = new List<Device>();
        foreach (var kind in Enum.GetValues<DeviceKind>())
        {
            var probe = Probe(kind);
            for (var i = 0; i < probe.DeviceCount; i++)
                devices.Add(new Device(kind, i));
        }
        return devices;
    }

    /// <summary>The shared backend for a device, created on first use.</summary>
    /// <exception cref="BackendUnavailableException">The device does not exist or its driver is missing.</exception>
    public static IBackend Get(Device device)
    {
        lock (Gate)
        {
            if (Backends.TryGetValue(device, out var backend))
                return backend;
            var probe = Probe(device.Kind);
            if (device.Ordinal >= probe.DeviceCount)
                throw new BackendUnavailableException(device, probe.IsAvailable
                    ? $"only {probe.DeviceCount} {device.Kind} device(s) exist"
                    : probe.Reason);
            var provider = Providers().First(p => p.Kinds.Contains(device.Kind));
            backend = provider.Create(device);
            Backends[device] = backend;
            return backend;
        }
    }

    private static List<IBackendProvider> Providers()
    {
        if (providers is not null)
            return providers;
        providers = [];
        foreach (var name in KnownProviderAssemblies)
        {
            var assembly = TryLoad(name);
            if (assembly is null)
                continue;
            foreach (var attribute in assembly.GetCustomAttributes<BackendProviderAttribute>())
                providers.Add(CreateProvider(attribute.ProviderType));
        }
        return providers;
    }

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor,
        "CoLT5.Backends.Cpu.CpuBackendProvider", "CoLT5.Backends.Cpu")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor,
        "CoLT5.Backends.Gpu.GpuBackendProvider", "CoLT5.Backends.Gpu")]
    private static Assembly? TryLoad(string name)
    {
        try
        {
            return Assembly.Load(name);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2067",
        Justification = "Provider types are kept by the DynamicDependency on TryLoad.")]
    private static IBackendProvider CreateProvider(Type type) =>
        (IBackendProvider)(Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"cannot create backend provider {type.FullName}"));
}

/// <summary>A device was asked for that this machine cannot provide; the message says why.</summary>
public sealed class BackendUnavailableException(Device device, string reason)
    : Exception($"device {device} is not available: {reason}")
{
    /// <summary>The requested device.</summary>
    public Device Device { get; } = device;
}
