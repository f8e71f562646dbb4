// Compiled kernel programs, cached in memory by (file, defines) and on disk by a hash of everything that affects
// the binary (device identity, prelude, sources, defines), so a second process loads instead of compiling.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Text;
using System.Threading;
using CoLT5.Backends.Gpu.Runtime;

namespace CoLT5.Backends.Gpu;

/// <summary>Builds kernel files of the portable dialect for one runtime, once.</summary>
internal sealed class KernelCache
{
    private readonly IGpuRuntime runtime;
    private readonly Lock gate = new();
    private readonly Dictionary<string, GpuProgram> programs = [];
    private readonly string? directory;

    public KernelCache(IGpuRuntime runtime)
    {
        this.runtime = runtime;
        directory = DiskDirectory();
    }

    /// <summary>Programs compiled from source in this process (a disk-cache hit does not count).</summary>
    public int Compilations { get; private set; }

    /// <summary>The on-disk cache folder: <c>COLT5_KERNEL_CACHE</c> (a folder, or "off"), else
    /// <c>$XDG_CACHE_HOME/colt5/kernels</c> or <c>~/.cache/colt5/kernels</c>.</summary>
    public static string? DiskDirectory()
    {
        var setting = Environment.GetEnvironmentVariable("COLT5_KERNEL_CACHE");
        if (string.Equals(setting, "off", StringComparison.OrdinalIgnoreCase))
            return null;
        if (!string.IsNullOrEmpty(setting))
            return setting;
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
                return null;
            root = Path.Combine(home, ".cache");
        }
        return Path.Combine(root, "colt5", "kernels");
    }

    /// <summary>The kernel <paramref name="entry"/> of <paramref name="file"/> built with <paramref name="defines"/>
    /// ("T=float", ...).</summary>
    public GpuKernel Get(string file, string entry, params string[] defines)
    {
        GpuProgram program;
        var key = file + "|" + string.Join(' ', defines);
        lock (gate)
        {
            if (!programs.TryGetValue(key, out program!))
            {
                program = Build(file, defines);
                programs[key] = program;
            }
        }
        return runtime.GetKernel(program, entry);
    }

    private GpuProgram Build(string file, string[] defines)
    {
        var source = Source(file);
        var name = $"{file} [{string.Join(' ', defines)}]";
        var hash = Fnv1a64($"{runtime.CacheIdentity}\n{string.Join('\n', defines)}\n{source}");
        var path = directory is null ? null : Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(file)}-{hash:x16}.bin");
        if (path is not null && File.Exists(path))
        {
            try
            {
                var loaded = runtime.LoadBinary(File.ReadAllBytes(path), name);
                if (loaded is not null)
                    return loaded;
            }
            catch (IOException)
            {
                // unreadable cache entry: rebuild below and overwrite it
            }
        }
        var program = runtime.Compile(source, name, defines);
        Compilations++;
        if (path is not null && runtime.ProgramBinary(program) is { Length: > 0 } binary)
            TryWriteAtomically(path, binary);
        return program;
    }

    /// <summary>The dialect's prelude, the shared layout and error headers and the kernel file, with #line markers so compiler
    /// messages name the kernel file's own lines.</summary>
    public string Source(string file) =>
        $"{Resource("prelude." + (runtime.Dialect == "cuda" ? "cu" : "cl"))}\n#line 1 \"layout.h\"\n{Resource("layout.h")}\n" +
        $"#line 1 \"errors.h\"\n{Resource("errors.h")}\n#line 1 \"{file}\"\n{Resource(file)}\n";

    /// <summary>An embedded kernel file's text.</summary>
    public static string Resource(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("kernels/" + file)
            ?? throw new FileNotFoundException($"kernel file '{file}' is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static void TryWriteAtomically(string path, byte[] bytes)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // a read-only or full cache folder only costs a recompile next time
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static ulong Fnv1a64(string text)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 0x100000001b3UL;
        }
        return hash;
    }
}
