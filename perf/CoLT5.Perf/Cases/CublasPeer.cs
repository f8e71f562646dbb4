// cuBLAS as the GPU GEMM peer, loaded at run time from the CUDA toolkit or a pip wheel (never a dependency): one
// handle in the current (primary) context, SGEMM in FP32 or TF32 tensor-op mode, and a context-wide synchronise.
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace CoLT5.Perf.Cases;

/// <summary>A cuBLAS handle with just enough of the API to time SGEMM on our device buffers.</summary>
internal sealed unsafe class CublasPeer : IDisposable
{
    private readonly nint handle;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int> sgemm;
    private readonly delegate* unmanaged<nint, int, int> setMathMode;
    private readonly delegate* unmanaged<nint, int> destroy;
    private readonly delegate* unmanaged<int> synchronize;

    private CublasPeer(nint library, nint driver)
    {
        var create = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(library, "cublasCreate_v2");
        sgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int>)
            NativeLibrary.GetExport(library, "cublasSgemm_v2");
        setMathMode = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(library, "cublasSetMathMode");
        destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
        synchronize = (delegate* unmanaged<int>)NativeLibrary.GetExport(driver, "cuCtxSynchronize");
        nint h;
        var status = create(&h);
        if (status != 0)
            throw new InvalidOperationException($"cublasCreate_v2 failed with status {status}");
        handle = h;
    }

    /// <summary>cuBLAS, or null with the reason when it cannot be found (no toolkit, no wheel).</summary>
    public static CublasPeer? TryCreate(out string reason)
    {
        if (!NativeLibrary.TryLoad("libcuda.so.1", out var driver))
        {
            reason = "no CUDA driver";
            return null;
        }
        foreach (var path in Candidates())
        {
            if (NativeLibrary.TryLoad(path, out var library))
            {
                reason = path;
                return new CublasPeer(library, driver);
            }
        }
        reason = "libcublas not found (CUDA toolkit or nvidia-cublas wheel)";
        return null;
    }

    private static readonly string[] WheelRoots = ["/opt", "/usr/local/lib", "/usr/lib"];

    private static string[] Candidates()
    {
        string[] names = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"];
        string[] dirs = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"];
        var wheels = WheelRoots
            .Where(Directory.Exists)
            .SelectMany(root => SafeGlob(root))
            .ToArray();
        return [.. names, .. dirs.Concat(wheels).SelectMany(d => names.Select(n => Path.Combine(d, n))).Where(File.Exists)];
    }

    // …/site-packages/nvidia/cublas/lib folders under a root, searched a few levels deep.
    private static string[] SafeGlob(string root)
    {
        try
        {
            return Directory.EnumerateDirectories(root, "lib", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 7, IgnoreInaccessible = true })
                .Where(d => d.Contains("nvidia", StringComparison.Ordinal) && d.Contains("cublas", StringComparison.Ordinal))
                .ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Tensor-op TF32 (true) or plain FP32 (false) math for the following calls.</summary>
    public void UseTf32(bool on) => Check(setMathMode(handle, on ? 3 : 0), "cublasSetMathMode");

    /// <summary>Row-major C (m, n) = A (m, k) · B (k, n) on device pointers: column-major Cᵀ = Bᵀ·Aᵀ.</summary>
    public void Sgemm(int m, int n, int k, nint a, nint b, nint c)
    {
        float alpha = 1, beta = 0;
        Check(sgemm(handle, 0, 0, n, m, k, &alpha, b, n, a, k, &beta, c, n), "cublasSgemm_v2");
    }

    /// <summary>Waits for everything queued in the current context.</summary>
    public void Synchronize()
    {
        var status = synchronize();
        if (status != 0)
            throw new InvalidOperationException($"cuCtxSynchronize failed with status {status}");
    }

    public void Dispose() => _ = destroy(handle);

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new InvalidOperationException($"{call} failed with status {status}");
    }
}
