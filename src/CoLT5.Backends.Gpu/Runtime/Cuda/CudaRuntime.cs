// IGpuRuntime over the CUDA driver API and NVRTC: the device's primary context, one non-blocking stream, NVRTC
// compiling the portable kernels to CUBIN (PTX when this NVRTC cannot target the device), launches via
// cuLaunchKernel. Every call is serialised on one lock and makes the context current on the calling thread.
using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using static CoLT5.Backends.Gpu.Runtime.Cuda.CudaNative;
using static CoLT5.Backends.Gpu.Runtime.Cuda.NvrtcNative;

namespace CoLT5.Backends.Gpu.Runtime.Cuda;

/// <summary>
/// One CUDA device. Work is enqueued in order on one stream created with CU_STREAM_NON_BLOCKING (it never waits
/// for, nor holds up, the legacy NULL stream other code may use).
/// <list type="bullet">
/// <item><see cref="Upload"/> enqueues cuMemcpyHtoDAsync from the caller's (pinned for the call) span, then waits
/// for the stream, so the span may be reused on return and an Upload also surfaces earlier launch errors. Correct
/// first: an upload therefore waits for all queued work; keep uploads out of hot loops (small per-launch
/// parameters travel as kernel arguments).</item>
/// <item><see cref="Download"/> enqueues cuMemcpyDtoHAsync behind the queued work and waits for the stream.</item>
/// <item><see cref="Free"/> waits for the stream, then calls cuMemFree (cuda.h: "callers must ensure that all
/// accesses … have completed"); put a caching pool in front of it.</item>
/// <item>A sticky error (700 illegal address, 719 launch failed, …) faults the runtime: every later call throws
/// at once, naming the first fault. cuda.h says the process cannot use CUDA again after one.</item>
/// <item><c>COLT5_GPU_SYNC=1</c> waits after every launch, so a failing kernel is named by its own launch.</item>
/// <item><c>COLT5_CUDA_TARGET=ptx</c> compiles to PTX (driver JIT) even where NVRTC could emit CUBIN.</item>
/// </list>
/// </summary>
internal sealed unsafe class CudaRuntime : IGpuRuntime
{
    private const string Api = "CUDA";
    private const string CompilerApi = "NVRTC";
    private const int JitLogBytes = 16 * 1024;

    private readonly Lock gate = new();
    private readonly int device;
    private readonly string? cubinArch;              // "sm_90" when this NVRTC can emit SASS for the device
    private readonly string ptxArch;                 // "compute_90", or the newest virtual arch NVRTC knows
    private readonly bool syncEachLaunch;
    private readonly List<nint> modules = [];
    private readonly Dictionary<nint, byte[]> binaries = [];
    private readonly Dictionary<(nint Module, string Entry), GpuKernel> kernels = [];
    private nint context;                            // the retained primary context; 0 once released
    private nint stream;
    private GpuException? fault;
    private bool disposed;

    /// <summary>Opens device <paramref name="ordinal"/>: retains its primary context and creates the stream.</summary>
    /// <exception cref="GpuException">No driver or NVRTC, cuInit failed, or a context call failed.</exception>
    public CudaRuntime(int ordinal)
    {
        if (!CudaLibraries.TryLoad(out var reason))
            throw new GpuException(Api, "dlopen", -1, "CUDA_NOT_AVAILABLE", reason);
        Check(cuInit(0), "cuInit");
        int count, dev, driverVersion, major, minor, units, nvMajor, nvMinor;
        Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        if ((uint)ordinal >= (uint)count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"{count} CUDA device(s)");
        Check(cuDeviceGet(&dev, ordinal), "cuDeviceGet");
        device = dev;
        Check(cuDriverGetVersion(&driverVersion), "cuDriverGetVersion");
        Check(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
        Check(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
        Check(cuDeviceGetAttribute(&units, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev), "cuDeviceGetAttribute");
        nuint memory;
        Check(cuDeviceTotalMem_v2(&memory, dev), "cuDeviceTotalMem_v2");
        var nameBytes = stackalloc byte[256];
        Check(cuDeviceGetName(nameBytes, 256, dev), "cuDeviceGetName");
        var name = Marshal.PtrToStringUTF8((nint)nameBytes) ?? "?";
        CheckNvrtc(nvrtcVersion(&nvMajor, &nvMinor), "nvrtcVersion");

        var computeCapability = 10 * major + minor;   // e.g. 90
        (cubinArch, ptxArch) = ChooseTargets(computeCapability, SupportedArchs());
        if (Environment.GetEnvironmentVariable("COLT5_CUDA_TARGET") == "ptx")
            cubinArch = null;                        // always PTX, JIT-compiled by the driver
        syncEachLaunch = Environment.GetEnvironmentVariable("COLT5_GPU_SYNC") == "1";

        var arch = $"sm_{computeCapability}";
        var driver = $"driver {driverVersion / 1000}.{driverVersion % 1000 / 10}, NVRTC {nvMajor}.{nvMinor}";
        Info = new GpuDeviceInfo(Api, name, driver, (long)memory, units, arch);
        CacheIdentity = $"{Api}|{name}|driver {driverVersion}|NVRTC {nvMajor}.{nvMinor}|{arch}|" +
            $"{cubinArch ?? ptxArch}|std=c++17";

        nint ctx, str;
        Check(cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
        context = ctx;
        try
        {
            Check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            Check(cuStreamCreate(&str, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            stream = str;
        }
        catch
        {
            _ = cuDevicePrimaryCtxRelease_v2(dev);
            context = 0;
            throw;
        }
    }

    /// <inheritdoc/>
    public GpuDeviceInfo Info { get; }

    /// <inheritdoc/>
    public string Dialect => "cuda";

    /// <inheritdoc/>
    public string CacheIdentity { get; }

    /// <summary>How many CUDA devices the driver reports; 0 without a driver. Never throws.</summary>
    public static int DeviceCount => TryCountDevices(out var count, out _) ? count : 0;

    /// <summary>
    /// Whether a CUDA runtime can be opened here: driver found, cuInit and cuDeviceGetCount succeed, at least one
    /// device, NVRTC found. <paramref name="reason"/> says why not ("no CUDA driver (libcuda.so.1 not found)",
    /// "cuInit failed: CUDA_ERROR_NO_DEVICE (100)", "NVRTC not found (searched: …)") or, on success, what was
    /// found. Never throws.
    /// </summary>
    public static bool Probe(out int deviceCount, out string reason)
    {
        if (!TryCountDevices(out deviceCount, out reason))
            return false;
        if (deviceCount == 0)
        {
            reason = "the CUDA driver reports no device";
            return false;
        }
        try
        {
            if (!CudaLibraries.TryLoadNvrtc(out reason))
                return false;
            int major, minor;
            var status = nvrtcVersion(&major, &minor);
            if (status != NVRTC_SUCCESS)
            {
                reason = $"nvrtcVersion failed: {NvrtcName(status)} ({status})";
                return false;
            }
            reason = $"{deviceCount} CUDA device(s), driver {CudaLibraries.DriverPath}, " +
                $"NVRTC {major}.{minor} {CudaLibraries.NvrtcPath}";
            return true;
        }
        catch (Exception e)
        {
            reason = $"NVRTC unusable: {e.GetType().Name}: {e.Message}";
            return false;
        }
    }

    private static bool TryCountDevices(out int count, out string reason)
    {
        count = 0;
        try
        {
            if (!CudaLibraries.TryLoadDriver(out reason))
                return false;
            var status = cuInit(0);
            if (status != CUDA_SUCCESS)
            {
                reason = $"cuInit failed: {ErrorName(status)} ({status})";
                return false;
            }
            int n;
            status = cuDeviceGetCount(&n);
            if (status != CUDA_SUCCESS)
            {
                reason = $"cuDeviceGetCount failed: {ErrorName(status)} ({status})";
                return false;
            }
            count = n;
            reason = "";
            return true;
        }
        catch (Exception e)     // DllNotFoundException, EntryPointNotFoundException, BadImageFormatException, …
        {
            reason = $"CUDA driver unusable: {e.GetType().Name}: {e.Message}";
            return false;
        }
    }

    /// <inheritdoc/>
    public nint Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (gate)
        {
            Enter("cuMemAlloc_v2");
            ulong pointer;
            var status = cuMemAlloc_v2(&pointer, (nuint)Math.Max(bytes, 1));    // 0 bytes is INVALID_VALUE
            if (status == CUDA_ERROR_OUT_OF_MEMORY)
                throw new GpuOutOfMemoryException(Api, "cuMemAlloc_v2", status, ErrorName(status), bytes);
            if (status != CUDA_SUCCESS)
                Fail(status, "cuMemAlloc_v2", $"{bytes} bytes");
            return (nint)pointer;
        }
    }

    /// <inheritdoc/>
    public void Free(nint memory)
    {
        if (memory == 0)
            return;
        lock (gate)
        {
            if (disposed || context == 0)
                return;         // the context is gone, and with it every allocation
            if (cuCtxSetCurrent(context) != CUDA_SUCCESS)
                return;
            if (fault is null)
                NoteFault(cuStreamSynchronize(stream), "cuStreamSynchronize", "before cuMemFree_v2");
            _ = cuMemFree_v2((ulong)memory);
        }
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<byte> source, nint destination, long byteOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        if (source.IsEmpty)
            return;
        lock (gate)
        {
            Enter("cuMemcpyHtoDAsync_v2");
            fixed (byte* host = source)
            {
                var status = cuMemcpyHtoDAsync_v2((ulong)destination + (ulong)byteOffset, host, (nuint)source.Length,
                    stream);
                if (status != CUDA_SUCCESS)
                    Fail(status, "cuMemcpyHtoDAsync_v2", $"{source.Length} bytes");
                // the span is only pinned inside this block: wait until the driver is done reading it
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize", "after an upload");
            }
        }
    }

    /// <inheritdoc/>
    public void Download(nint source, long byteOffset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        lock (gate)
        {
            Enter("cuMemcpyDtoHAsync_v2");
            if (destination.IsEmpty)
            {
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
                return;
            }
            fixed (byte* host = destination)
            {
                // in-order stream: the copy runs after every queued launch
                var status = cuMemcpyDtoHAsync_v2(host, (ulong)source + (ulong)byteOffset, (nuint)destination.Length,
                    stream);
                if (status != CUDA_SUCCESS)
                    Fail(status, "cuMemcpyDtoHAsync_v2", $"{destination.Length} bytes");
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize", "after a download");
            }
        }
    }

    /// <inheritdoc/>
    public void CopyDeviceToDevice(nint source, long sourceOffset, nint destination, long destinationOffset, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(destinationOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
            return;
        lock (gate)
        {
            Enter("cuMemcpyDtoDAsync_v2");
            var status = cuMemcpyDtoDAsync_v2((ulong)destination + (ulong)destinationOffset,
                (ulong)source + (ulong)sourceOffset, (nuint)bytes, stream);
            if (status != CUDA_SUCCESS)
                Fail(status, "cuMemcpyDtoDAsync_v2", $"{bytes} bytes");
        }
    }

    /// <summary>Compiles with NVRTC (<c>--gpu-architecture=sm_XY --std=c++17</c>, defines as <c>#define</c> lines,
    /// see <see cref="WithDefines"/>) to CUBIN, or to PTX for the driver to JIT when this NVRTC cannot target the
    /// device or the driver rejects the CUBIN.</summary>
    /// <inheritdoc/>
    public GpuProgram Compile(string source, string name, string[] defines)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(defines);
        lock (gate)
            Enter("nvrtcCompileProgram");

        // NVRTC needs no context: compile outside the lock so launches from other threads go on meanwhile
        var image = cubinArch is null ? null : NvrtcCompile(source, name, defines, cubinArch, cubin: true);
        var isCubin = image is not null;
        image ??= NvrtcCompile(source, name, defines, ptxArch, cubin: false)!;

        lock (gate)
        {
            Enter("cuModuleLoadDataEx");
            var module = LoadImage(image, out var status, out var log);
            if (module == 0 && isCubin && status is CUDA_ERROR_INVALID_IMAGE or CUDA_ERROR_NO_BINARY_FOR_GPU
                or CUDA_ERROR_UNSUPPORTED_PTX_VERSION or CUDA_ERROR_INVALID_PTX)
            {
                image = NvrtcCompile(source, name, defines, ptxArch, cubin: false)!;
                module = LoadImage(image, out status, out log);
            }
            if (module == 0)
            {
                NoteFault(status, "cuModuleLoadDataEx", log);
                throw new GpuCompileException(Api, "cuModuleLoadDataEx", status, ErrorName(status), name,
                    log.Length == 0 ? ErrorText(status) : log);
            }
            return Register(module, image, name);
        }
    }

    /// <inheritdoc/>
    public byte[]? ProgramBinary(GpuProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (gate)
            return binaries.TryGetValue(program.Handle, out var image) ? image : null;
    }

    /// <inheritdoc/>
    public GpuProgram? LoadBinary(byte[] binary, string name)
    {
        if (binary is null || binary.Length == 0)
            return null;
        var image = binary;
        if (!IsElf(image) && image[^1] != 0)
        {
            image = new byte[binary.Length + 1];                    // PTX text must end in a NUL
            binary.CopyTo(image, 0);
        }
        lock (gate)
        {
            Enter("cuModuleLoadDataEx");
            var module = LoadImage(image, out var status, out var log);
            if (module == 0)
            {
                if (IsSticky(status))
                    Check(status, "cuModuleLoadDataEx", log);      // faults the runtime and throws
                return null;
            }
            return Register(module, image, name);
        }
    }

    /// <inheritdoc/>
    public GpuKernel GetKernel(GpuProgram program, string entry)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(entry);
        lock (gate)
        {
            if (kernels.TryGetValue((program.Handle, entry), out var cached))
                return cached;
            Enter("cuModuleGetFunction");
            var entryBytes = Utf8Z(entry);
            nint function;
            int status;
            fixed (byte* p = entryBytes)
                status = cuModuleGetFunction(&function, program.Handle, p);
            if (status != CUDA_SUCCESS)
                Fail(status, "cuModuleGetFunction", $"no kernel '{entry}' in {program.Name}");
            var kernel = new GpuKernel(function, $"{program.Name}:{entry}");
            kernels.Add((program.Handle, entry), kernel);
            return kernel;
        }
    }

    /// <summary>Enqueues the kernel on the stream: grid = <paramref name="groups"/>, block =
    /// <paramref name="groupSize"/>, no dynamic shared memory. Each kernelParams entry points at the argument's
    /// bytes inside <paramref name="args"/> (a Buffer argument's bytes are the 64-bit CUdeviceptr).</summary>
    /// <inheritdoc/>
    public void Launch(GpuKernel kernel, Dim3 groups, Dim3 groupSize, in KernelArgs args)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (groups.Count == 0)
            return;
        if (groups.X < 0 || groups.Y < 0 || groups.Z < 0 || groupSize.X <= 0 || groupSize.Y <= 0 || groupSize.Z <= 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{kernel.Name}: groups {groups} size {groupSize}");
        lock (gate)
        {
            Enter("cuLaunchKernel");
            fixed (KernelArgs* a = &args)
            {
                var count = a->Count;
                var parameters = stackalloc void*[Math.Max(count, 1)];
                for (var i = 0; i < count; i++)
                    parameters[i] = a->ValueAt(i);
                var status = cuLaunchKernel(kernel.Handle, (uint)groups.X, (uint)groups.Y, (uint)groups.Z,
                    (uint)groupSize.X, (uint)groupSize.Y, (uint)groupSize.Z, 0, stream, parameters, null);
                // messages are formatted only on failure: a launch is a few microseconds, formatting is not free
                if (status != CUDA_SUCCESS)
                    Fail(status, "cuLaunchKernel", $"{kernel.Name} groups {groups} size {groupSize}");
            }
            if (syncEachLaunch)
            {
                var synced = cuStreamSynchronize(stream);
                if (synced != CUDA_SUCCESS)
                    Fail(synced, "cuStreamSynchronize", $"after {kernel.Name} (COLT5_GPU_SYNC=1)");
            }
        }
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        lock (gate)
        {
            Enter("cuStreamSynchronize");
            Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        }
    }

    /// <summary>Unloads the modules, destroys the stream and releases the primary context; idempotent, never
    /// throws, and nothing calls the driver for this runtime afterwards.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            if (context == 0)
                return;
            if (cuCtxSetCurrent(context) == CUDA_SUCCESS)
            {
                if (fault is null)
                    _ = cuStreamSynchronize(stream);
                foreach (var module in modules)
                    _ = cuModuleUnload(module);
                if (stream != 0)
                    _ = cuStreamDestroy_v2(stream);
            }
            modules.Clear();
            binaries.Clear();
            kernels.Clear();
            stream = 0;
            _ = cuDevicePrimaryCtxRelease_v2(device);
            context = 0;
        }
    }

    // --- compilation -------------------------------------------------------------------------------------------

    /// <summary>CUBIN target when NVRTC lists the device's arch (or cannot list any), and the PTX target: the
    /// device's virtual arch, or the newest one NVRTC knows below it (the driver JITs PTX forward).</summary>
    private static (string? Cubin, string Ptx) ChooseTargets(int cc, int[] supported)
    {
        if (supported.Length == 0)
            return ($"sm_{cc}", $"compute_{cc}");
        var best = -1;
        foreach (var a in supported)
        {
            if (a <= cc)
                best = Math.Max(best, a);
        }
        var cubin = Array.IndexOf(supported, cc) >= 0 ? $"sm_{cc}" : null;
        return (cubin, $"compute_{(best < 0 ? cc : best)}");
    }

    /// <summary>The archs this NVRTC can target; empty when it cannot say (no nvrtcGetSupportedArchs).</summary>
    private static int[] SupportedArchs()
    {
        try
        {
            int count;
            if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0)
                return [];
            var archs = new int[count];
            fixed (int* p = archs)
            {
                if (nvrtcGetSupportedArchs(p) != NVRTC_SUCCESS)
                    return [];
            }
            return archs;
        }
        catch (EntryPointNotFoundException)
        {
            return [];
        }
    }

    /// <summary>Runs NVRTC; returns CUBIN or NUL-terminated PTX, or null when a CUBIN target is rejected as an
    /// option (the caller then asks for PTX).</summary>
    /// <exception cref="GpuCompileException">The source did not compile; carries NVRTC's whole log.</exception>
    private static byte[]? NvrtcCompile(string source, string name, string[] defines, string arch, bool cubin)
    {
        string[] options = [$"--gpu-architecture={arch}", "--std=c++17"];
        var program = $"{name} [{string.Join(' ', options)}{string.Concat(defines.Select(d => " -D" + d))}]";

        var sourceBytes = Utf8Z(WithDefines(source, defines));
        var nameBytes = Utf8Z(name);
        nint prog;
        fixed (byte* s = sourceBytes)
        fixed (byte* n = nameBytes)
            CheckNvrtc(nvrtcCreateProgram(&prog, s, n, 0, null, null), "nvrtcCreateProgram", program);
        var optionMemory = new nint[options.Length];
        try
        {
            for (var i = 0; i < options.Length; i++)
                optionMemory[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            int status;
            fixed (nint* o = optionMemory)
                status = nvrtcCompileProgram(prog, options.Length, (byte**)o);
            if (status == NVRTC_ERROR_INVALID_OPTION && cubin)
                return null;
            if (status == NVRTC_ERROR_COMPILATION)
                throw new GpuCompileException(CompilerApi, "nvrtcCompileProgram", status, NvrtcName(status), program,
                    ProgramLog(prog));
            if (status == NVRTC_ERROR_BUILTIN_OPERATION_FAILURE)
                throw new GpuException(CompilerApi, "nvrtcCompileProgram", status, NvrtcName(status),
                    $"{program}: is libnvrtc-builtins.so.* loadable next to {CudaLibraries.NvrtcPath}? " +
                    $"(add its folder to LD_LIBRARY_PATH) {ProgramLog(prog)}");
            if (status != NVRTC_SUCCESS)
                throw new GpuException(CompilerApi, "nvrtcCompileProgram", status, NvrtcName(status),
                    $"{program} {ProgramLog(prog)}");

            nuint size;
            byte[] image;
            if (cubin)
            {
                CheckNvrtc(nvrtcGetCUBINSize(prog, &size), "nvrtcGetCUBINSize", program);
                image = new byte[(int)size];
                fixed (byte* p = image)
                    CheckNvrtc(nvrtcGetCUBIN(prog, p), "nvrtcGetCUBIN", program);
            }
            else
            {
                CheckNvrtc(nvrtcGetPTXSize(prog, &size), "nvrtcGetPTXSize", program);   // size counts the NUL
                image = new byte[(int)size];
                fixed (byte* p = image)
                    CheckNvrtc(nvrtcGetPTX(prog, p), "nvrtcGetPTX", program);
            }
            return image;
        }
        finally
        {
            foreach (var p in optionMemory)
                Marshal.FreeCoTaskMem(p);
            _ = nvrtcDestroyProgram(&prog);
        }
    }

    /// <summary>
    /// The defines as <c>#define</c> lines ahead of the source, then <c>#line 1</c> so the prelude keeps its line
    /// numbers. Not <c>-D</c> options: NVRTC reads its builtin header (templates over <c>T</c>, …) after the
    /// command-line macros, so <c>-DT=float</c> breaks it (seen with NVRTC 13.0); source macros come after it.
    /// "NAME=VALUE" becomes <c>#define NAME VALUE</c>, "NAME(x)=…" a function-like macro, "NAME" <c>NAME 1</c>.
    /// </summary>
    internal static string WithDefines(string source, string[] defines)
    {
        if (defines.Length == 0)
            return source;
        var text = new StringBuilder();
        foreach (var raw in defines)
        {
            var define = raw.StartsWith("-D", StringComparison.Ordinal) ? raw[2..] : raw;
            if (define.Length == 0 || define.AsSpan().IndexOfAny('\r', '\n') >= 0)
                throw new ArgumentException($"define '{raw}' is empty or spans lines", nameof(defines));
            var eq = define.IndexOf('=', StringComparison.Ordinal);
            text.Append("#define ");
            if (eq < 0)
                text.Append(define).Append(" 1\n");
            else
                text.Append(define, 0, eq).Append(' ').Append(define, eq + 1, define.Length - eq - 1).Append('\n');
        }
        return text.Append("#line 1\n").Append(source).ToString();
    }

    private static string ProgramLog(nint prog)
    {
        nuint size;
        if (nvrtcGetProgramLogSize(prog, &size) != NVRTC_SUCCESS || size <= 1)
            return "";
        var log = new byte[(int)size];
        fixed (byte* p = log)
        {
            if (nvrtcGetProgramLog(prog, p) != NVRTC_SUCCESS)
                return "";
        }
        return Encoding.UTF8.GetString(log, 0, log.Length - 1).TrimEnd();
    }

    /// <summary>cuModuleLoadDataEx with an error-log buffer (CU_JIT_ERROR_LOG_BUFFER / _SIZE_BYTES), so PTX JIT
    /// and image errors come back as text. Needs the lock and the current context; returns 0 on failure.</summary>
    private static nint LoadImage(byte[] image, out int status, out string log)
    {
        var logBuffer = new byte[JitLogBytes];
        var options = stackalloc int[2];
        var values = stackalloc void*[2];
        nint module;
        fixed (byte* img = image)
        fixed (byte* buffer = logBuffer)
        {
            options[0] = CU_JIT_ERROR_LOG_BUFFER;
            values[0] = buffer;
            options[1] = CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES;
            values[1] = (void*)(nuint)JitLogBytes;      // an unsigned int carried in the pointer slot
            status = cuModuleLoadDataEx(&module, img, 2, options, values);
        }
        var end = Array.IndexOf(logBuffer, (byte)0);
        log = Encoding.UTF8.GetString(logBuffer, 0, end < 0 ? logBuffer.Length : end).TrimEnd();
        return status == CUDA_SUCCESS ? module : 0;
    }

    private GpuProgram Register(nint module, byte[] image, string name)
    {
        modules.Add(module);
        binaries[module] = image;
        return new GpuProgram(module, name);
    }

    private static bool IsElf(byte[] image) =>
        image.Length >= 4 && image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';

    // --- errors and state --------------------------------------------------------------------------------------

    /// <summary>Start of every public call, under the lock: not disposed, not faulted, context current.</summary>
    private void Enter(string call)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (fault is not null)
            throw new GpuException(Api, call, fault.Code, fault.CodeName,
                $"not attempted: the runtime faulted earlier ({fault.Message}); CUDA stays unusable in this process");
        Check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    private void Check(int status, string call, string? detail = null)
    {
        if (status != CUDA_SUCCESS)
            Fail(status, call, detail);
    }

    /// <summary>Throws the GpuException for a failed call; a sticky status also faults the runtime.</summary>
    [DoesNotReturn]
    private void Fail(int status, string call, string? detail)
    {
        var text = ErrorText(status);
        var e = new GpuException(Api, call, status, ErrorName(status), detail is null ? text : $"{text}; {detail}");
        if (IsSticky(status))
            fault ??= e;
        throw e;
    }

    /// <summary>Records a sticky status as the fault without throwing (release paths).</summary>
    private void NoteFault(int status, string call, string detail)
    {
        if (status != CUDA_SUCCESS && IsSticky(status))
            fault ??= new GpuException(Api, call, status, ErrorName(status), detail);
    }

    private static void CheckNvrtc(int status, string call, string? detail = null)
    {
        if (status != NVRTC_SUCCESS)
            throw new GpuException(CompilerApi, call, status, NvrtcName(status), detail);
    }

    /// <summary>"CUDA_ERROR_ILLEGAL_ADDRESS" from cuGetErrorName, or the built-in table.</summary>
    private static string ErrorName(int status)
    {
        byte* text = null;
        return cuGetErrorName(status, &text) == CUDA_SUCCESS && text is not null
            ? Marshal.PtrToStringUTF8((nint)text) ?? FallbackName(status)
            : FallbackName(status);
    }

    /// <summary>The driver's description of a status ("an illegal memory access was encountered").</summary>
    private static string ErrorText(int status)
    {
        byte* text = null;
        return cuGetErrorString(status, &text) == CUDA_SUCCESS && text is not null
            ? Marshal.PtrToStringUTF8((nint)text) ?? ""
            : "";
    }

    private static string NvrtcName(int status)
    {
        var text = nvrtcGetErrorString(status);
        return text is null ? $"nvrtcResult {status}" : Marshal.PtrToStringUTF8((nint)text) ?? $"nvrtcResult {status}";
    }

    private static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
