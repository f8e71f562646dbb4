// Where a tensor lives: a device kind plus an ordinal, parsed from strings like "cpu" or "cuda:1".
using System;

namespace CoLT5.Tensors;

/// <summary>The kinds of device a backend can drive.</summary>
public enum DeviceKind : byte
{
    /// <summary>The SIMD, multithreaded CPU backend (always available).</summary>
    Cpu,

    /// <summary>The scalar reference backend: naive loops on the CPU, the oracle every backend is checked against.</summary>
    Reference,

    /// <summary>An OpenCL device.</summary>
    OpenCl,

    /// <summary>A CUDA device.</summary>
    Cuda,
}

/// <summary>A device: a kind and an ordinal among devices of that kind.</summary>
/// <param name="Kind">The device kind.</param>
/// <param name="Ordinal">Which device of that kind (0 for the first).</param>
public readonly record struct Device(DeviceKind Kind, int Ordinal = 0)
{
    /// <summary>The CPU backend.</summary>
    public static Device Cpu { get; } = new(DeviceKind.Cpu);

    /// <summary>The scalar reference backend.</summary>
    public static Device Reference { get; } = new(DeviceKind.Reference);

    /// <summary>Parses "cpu", "reference", "opencl", "opencl:1", "cuda", "cuda:0".</summary>
    /// <exception cref="FormatException">The text names no device kind or has a bad ordinal.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().ToLowerInvariant().Split(':');
        var kind = parts[0] switch
        {
            "cpu" => DeviceKind.Cpu,
            "reference" or "ref" => DeviceKind.Reference,
            "opencl" or "cl" => DeviceKind.OpenCl,
            "cuda" => DeviceKind.Cuda,
            _ => throw new FormatException($"unknown device '{text}': expected cpu, opencl[:N] or cuda[:N]"),
        };
        if (parts.Length == 1)
            return new Device(kind);
        if (parts.Length != 2 || !int.TryParse(parts[1], out var ordinal) || ordinal < 0)
            throw new FormatException($"bad device ordinal in '{text}': expected a non-negative integer after ':'");
        return new Device(kind, ordinal);
    }

    /// <summary>"cpu", "reference", "opencl:0", "cuda:1".</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Reference => "reference",
        DeviceKind.OpenCl => $"opencl:{Ordinal}",
        DeviceKind.Cuda => $"cuda:{Ordinal}",
        _ => $"{Kind}:{Ordinal}",
    };
}
