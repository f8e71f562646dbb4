// Option factories with one-line parse errors ("--steps expects a whole number ≥ 1, got 'x'"), and the options
// several commands share: device and threads.
using System;
using System.CommandLine;
using System.Globalization;
using CoLT5.Backends.Cpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Cli;

/// <summary>Typed options whose parse errors are short and name the option.</summary>
internal static class CliOptions
{
    /// <summary>An optional whole number of at least <paramref name="min"/>.</summary>
    public static Option<long?> Long(string name, string description, long min = 0) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min)
                return value;
            result.AddError($"{name} expects a whole number ≥ {min}, got '{text}'");
            return null;
        },
    };

    /// <summary>An optional whole number of at least <paramref name="min"/> that fits an int.</summary>
    public static Option<int?> Int(string name, string description, int min = 0) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min)
                return value;
            result.AddError($"{name} expects a whole number ≥ {min}, got '{text}'");
            return null;
        },
    };

    /// <summary>An optional non-negative finite number.</summary>
    public static Option<double?> Number(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "X",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) &&
                double.IsFinite(value) && value >= 0)
                return value;
            result.AddError($"{name} expects a non-negative number, got '{text}'");
            return null;
        },
    };

    /// <summary>An optional seed (unsigned 64-bit).</summary>
    public static Option<ulong?> Seed() => new("--seed")
    {
        Description = "Random seed (initialisation, dropout, data order, built-in task examples)",
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                return value;
            result.AddError($"--seed expects a whole number ≥ 0, got '{text}'");
            return null;
        },
    };

    /// <summary>An optional string (a path or a name).</summary>
    public static Option<string?> Text(string name, string description, string helpName) => new(name)
    {
        Description = description,
        HelpName = helpName,
    };

    /// <summary>A flag.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>--device: the compute device ("cpu", "opencl[:N]", "cuda[:N]").</summary>
    public static Option<string?> Device() =>
        Text("--device", "Compute device: cpu (default), opencl[:N] or cuda[:N] (float32 on GPUs)", "DEVICE");

    /// <summary>--threads (recursive): CPU threads for the kernels (default: all cores).</summary>
    public static Option<int?> Threads()
    {
        var option = Int("--threads", "CPU threads for the kernels (default: all cores or COLT5_CPU_THREADS)", 1);
        option.Recursive = true;
        return option;
    }

    /// <summary>Resolves --device to an available device (default cpu).</summary>
    /// <exception cref="CliException">Unknown or unavailable device.</exception>
    public static Device ResolveDevice(string? text)
    {
        if (text is null)
            return Tensors.Device.Cpu;
        Device device;
        try
        {
            device = Tensors.Device.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message, e);
        }
        try
        {
            BackendRegistry.Get(device);
        }
        catch (BackendUnavailableException e)
        {
            throw new CliException($"--device {text}: {e.Message}", e);
        }
        return device;
    }

    /// <summary>Applies --threads to the CPU backend when given.</summary>
    public static void ApplyThreads(int? threads)
    {
        if (threads is { } n)
            CpuBackend.Threads = n;
    }
}
