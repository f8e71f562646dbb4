// Finds libcuda (the driver) and libnvrtc (the run-time compiler) without LD_LIBRARY_PATH and maps the logical
// import names "cuda" and "nvrtc" to them; absence is reported as a reason string, never thrown.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace CoLT5.Backends.Gpu.Runtime.Cuda;

/// <summary>
/// The <see cref="NativeLibrary"/> resolver of this assembly for the CUDA imports. Search order (first file that
/// loads wins): the loader's own search for each soname (LD_LIBRARY_PATH, ld.so.cache), then
/// <c>$COLT5_CUDA_LIBDIRS</c> (colon-separated), <c>$CUDA_PATH/lib64</c>, <c>$CUDA_HOME/lib64</c>,
/// <c>/usr/local/cuda/lib64</c>, <c>/usr/local/cuda/targets/x86_64-linux/lib</c>, <c>/usr/local/cuda-*/lib64</c>,
/// <c>/usr/local/nvidia/lib64</c>, <c>/usr/lib/x86_64-linux-gnu</c>, and the pip wheels'
/// <c>nvidia/*/lib</c> folders under <c>/opt/*/.venv</c> and <c>/usr/local/lib/python3*/dist-packages</c>.
/// </summary>
internal static class CudaLibraries
{
    /// <summary>Logical import name of the driver API (libcuda.so.1).</summary>
    public const string Driver = "cuda";

    /// <summary>Logical import name of NVRTC (libnvrtc.so.*).</summary>
    public const string Nvrtc = "nvrtc";

    private static readonly string[] DriverNames = ["libcuda.so.1", "libcuda.so"];
    private static readonly string[] NvrtcNames =
        ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"];

    private static readonly Lazy<Loaded> DriverLibrary = new(() => Load(DriverNames, preloadBuiltins: false),
        LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Loaded> NvrtcLibrary = new(() => Load(NvrtcNames, preloadBuiltins: true),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private static int installed;

    /// <summary>What one search found: the handle (0 when nothing loaded), the file, and the folders tried.</summary>
    private sealed record Loaded(nint Handle, string? Path, IReadOnlyList<string> Searched);

    /// <summary>Installs the resolver once; the import classes call this from their static constructors, so it
    /// runs before any CUDA entry point is bound. Another resolver set on this assembly first is left alone
    /// (the imports then fall back to the runtime's default probing).</summary>
    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref installed, 1) != 0)
            return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // a resolver is already set for this assembly; default probing still finds LD_LIBRARY_PATH copies
        }
    }

    /// <summary>The file the driver was loaded from, or null.</summary>
    public static string? DriverPath => DriverLibrary.Value.Path;

    /// <summary>The file NVRTC was loaded from, or null.</summary>
    public static string? NvrtcPath => NvrtcLibrary.Value.Path;

    /// <summary>Loads the driver library; false with a reason ("no CUDA driver (libcuda.so.1 not found)").
    /// Never throws.</summary>
    public static bool TryLoadDriver(out string reason)
    {
        EnsureResolver();
        if (DriverLibrary.Value.Handle != 0)
        {
            reason = "";
            return true;
        }
        reason = "no CUDA driver (libcuda.so.1 not found)";
        return false;
    }

    /// <summary>Loads NVRTC; false with a reason naming the folders searched. Never throws.</summary>
    public static bool TryLoadNvrtc(out string reason)
    {
        EnsureResolver();
        var loaded = NvrtcLibrary.Value;
        if (loaded.Handle != 0)
        {
            reason = "";
            return true;
        }
        reason = $"NVRTC not found (searched: the loader's path, {string.Join(", ", loaded.Searched)})";
        return false;
    }

    /// <summary>Loads both libraries; false with the first reason. Never throws.</summary>
    public static bool TryLoad(out string reason) => TryLoadDriver(out reason) && TryLoadNvrtc(out reason);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        Driver => DriverLibrary.Value.Handle,
        Nvrtc => NvrtcLibrary.Value.Handle,
        _ => 0,     // everything else (libOpenCL.so.1, libc) takes the default probing
    };

    private static Loaded Load(string[] names, bool preloadBuiltins)
    {
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out var handle))
                return new Loaded(handle, name, []);
        }
        var searched = new List<string>();
        foreach (var dir in SearchDirectories())
        {
            searched.Add(dir);
            foreach (var name in names)
            {
                var path = Path.Combine(dir, name);
                if (!File.Exists(path) || !NativeLibrary.TryLoad(path, out var handle))
                    continue;
                if (preloadBuiltins)
                    PreloadBuiltins(dir);
                return new Loaded(handle, path, searched);
            }
        }
        return new Loaded(0, null, searched);
    }

    // NVRTC dlopens libnvrtc-builtins.so.<major>.<minor> by soname; when libnvrtc itself came from a folder the
    // loader does not search, load the builtins from that folder first so the soname lookup finds them loaded.
    private static void PreloadBuiltins(string dir)
    {
        foreach (var path in SafeFiles(dir, "libnvrtc-builtins.so*"))
        {
            if (NativeLibrary.TryLoad(path, out _))
                return;
        }
    }

    /// <summary>Existing folders in search order, without duplicates.</summary>
    public static IEnumerable<string> SearchDirectories()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var candidate in Candidates())
        {
            if (candidate.Length == 0 || !Directory.Exists(candidate))
                continue;
            var full = Path.GetFullPath(candidate);
            if (seen.Add(full))
                yield return full;
        }
    }

    private static IEnumerable<string> Candidates()
    {
        var extra = Environment.GetEnvironmentVariable("COLT5_CUDA_LIBDIRS");
        if (!string.IsNullOrEmpty(extra))
        {
            var options = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;
            foreach (var dir in extra.Split(':', options))
                yield return dir;
        }
        foreach (var variable in (string[])["CUDA_PATH", "CUDA_HOME"])
        {
            var root = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(root))
                yield return Path.Combine(root, "lib64");
        }
        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
        foreach (var dir in Glob("/usr/local/cuda-*/lib64"))
            yield return dir;
        yield return "/usr/local/nvidia/lib64";
        yield return "/usr/lib/x86_64-linux-gnu";
        foreach (var dir in Glob("/opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib"))
            yield return dir;
        foreach (var dir in Glob("/usr/local/lib/python3*/dist-packages/nvidia/*/lib"))
            yield return dir;
    }

    /// <summary>Expands an absolute folder pattern whose segments may hold '*' (one level each); newest-looking
    /// names first (descending ordinal order), unreadable folders skipped.</summary>
    internal static IEnumerable<string> Glob(string pattern)
    {
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> current = ["/"];
        foreach (var segment in segments)
        {
            var next = new List<string>();
            foreach (var dir in current)
            {
                if (!segment.Contains('*', StringComparison.Ordinal))
                {
                    var child = Path.Combine(dir, segment);
                    if (Directory.Exists(child))
                        next.Add(child);
                    continue;
                }
                var matches = SafeDirectories(dir, segment);
                matches.Sort((a, b) => string.CompareOrdinal(b, a));
                next.AddRange(matches);
            }
            current = next;
        }
        return current;
    }

    private static List<string> SafeDirectories(string dir, string pattern)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(dir, pattern)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return [];
        }
    }

    private static List<string> SafeFiles(string dir, string pattern)
    {
        try
        {
            var files = new List<string>(Directory.EnumerateFiles(dir, pattern));
            files.Sort(StringComparer.Ordinal);
            return files;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return [];
        }
    }
}
