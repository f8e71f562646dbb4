// The OpenCL runtime: one platform device, one in-order queue, programs built from source (or loaded from a cached
// binary), launches with explicit work-group sizes. Runs on PoCL in CI and on any vendor ICD.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using static CoLT5.Backends.Gpu.Runtime.OpenCl.OpenClNative;

namespace CoLT5.Backends.Gpu.Runtime.OpenCl;

/// <summary>An OpenCL device behind <see cref="IGpuRuntime"/>.</summary>
internal sealed unsafe class OpenClRuntime : IGpuRuntime
{
    private const string Api = "OpenCL";
    private readonly Lock gate = new();
    private readonly nint device;
    private readonly nint context;
    private readonly nint queue;
    private readonly List<nint> programs = [];
    private readonly Dictionary<(nint, string), GpuKernel> kernels = [];
    private readonly bool syncEachLaunch = Environment.GetEnvironmentVariable("COLT5_GPU_SYNC") == "1";
    private bool disposed;

    /// <summary>Opens device <paramref name="ordinal"/> of <see cref="Devices"/>.</summary>
    public OpenClRuntime(int ordinal)
    {
        var all = Devices();
        if (ordinal < 0 || ordinal >= all.Count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), $"OpenCL device {ordinal} does not exist ({all.Count} found)");
        var (platform, id) = all[ordinal];
        device = id;
        int status;
        var d = device;
        context = clCreateContext(null, 1, &d, 0, 0, &status);
        Check(status, "clCreateContext");
        queue = clCreateCommandQueue(context, device, 0, &status);
        Check(status, "clCreateCommandQueue");
        long memory;
        uint units;
        Check(clGetDeviceInfo(device, DeviceGlobalMemSize, sizeof(long), &memory, null), "clGetDeviceInfo");
        Check(clGetDeviceInfo(device, DeviceMaxComputeUnits, sizeof(uint), &units, null), "clGetDeviceInfo");
        var driver = $"{PlatformText(platform, PlatformVersion)}, driver {DeviceText(device, DriverVersion)}";
        Info = new GpuDeviceInfo(Api, DeviceText(device, DeviceName), driver, memory, (int)units,
            DeviceText(device, DeviceOpenClCVersion));
        CacheIdentity = $"{Api}|{Info.Name}|{Info.Driver}|{Info.Architecture}";
    }

    public GpuDeviceInfo Info { get; }

    public string Dialect => "opencl";

    public string CacheIdentity { get; }

    /// <summary>Every OpenCL device of every platform (GPUs, CPUs, accelerators), in platform order; empty with a
    /// reason when there is no loader, no platform or no device. Never throws.</summary>
    public static IReadOnlyList<(nint Platform, nint Device)> Devices() => Probe(out _);

    /// <summary>The devices, or why there are none.</summary>
    public static IReadOnlyList<(nint Platform, nint Device)> Probe(out string reason)
    {
        var found = new List<(nint, nint)>();
        if (!NativeLibrary.TryLoad(Library, typeof(OpenClRuntime).Assembly, null, out _))
        {
            reason = $"no OpenCL ICD loader ({Library} not found)";
            return found;
        }
        try
        {
            uint count;
            var status = clGetPlatformIDs(0, null, &count);
            if (status != 0 || count == 0)
            {
                reason = $"OpenCL loader present but no platform ({StatusName(status)})";
                return found;
            }
            var platforms = new nint[count];
            fixed (nint* p = platforms)
                _ = clGetPlatformIDs(count, p, null);
            var filter = Environment.GetEnvironmentVariable("COLT5_OPENCL_DEVICE");
            foreach (var platform in platforms)
            {
                uint n;
                if (clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &n) != 0 || n == 0)
                    continue;
                var ids = new nint[n];
                fixed (nint* p = ids)
                    _ = clGetDeviceIDs(platform, DeviceTypeAll, n, p, null);
                foreach (var id in ids)
                {
                    if (string.IsNullOrEmpty(filter) || DeviceText(id, DeviceName).Contains(filter, StringComparison.OrdinalIgnoreCase))
                        found.Add((platform, id));
                }
            }
            reason = found.Count == 0
                ? $"OpenCL platforms present but no device{(string.IsNullOrEmpty(filter) ? "" : $" matching COLT5_OPENCL_DEVICE='{filter}'")}"
                : string.Join("; ", found.ConvertAll(f => DeviceText(f.Item2, DeviceName)));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            reason = $"OpenCL loader unusable: {e.Message}";
        }
        return found;
    }

    public nint Allocate(long bytes)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            int status;
            var memory = clCreateBuffer(context, MemReadWrite, (nuint)Math.Max(bytes, 4), null, &status);
            if (status is -4 or -5 or -6 or -61)
                throw new GpuOutOfMemoryException(Api, "clCreateBuffer", status, StatusName(status), bytes);
            Check(status, "clCreateBuffer");
            return memory;
        }
    }

    public void Free(nint memory)
    {
        lock (gate)
        {
            if (!disposed && memory != 0)
                _ = clReleaseMemObject(memory);             // the driver keeps it alive until queued work is done
        }
    }

    public void Upload(ReadOnlySpan<byte> source, nint destination, long byteOffset)
    {
        if (source.IsEmpty)
            return;
        lock (gate)
        {
            ThrowIfDisposed();
            fixed (byte* s = source)
                Check(clEnqueueWriteBuffer(queue, destination, True, (nuint)byteOffset, (nuint)source.Length, s, 0, null, null),
                    "clEnqueueWriteBuffer");
        }
    }

    public void Download(nint source, long byteOffset, Span<byte> destination)
    {
        if (destination.IsEmpty)
            return;
        lock (gate)
        {
            ThrowIfDisposed();
            fixed (byte* d = destination)
                Check(clEnqueueReadBuffer(queue, source, True, (nuint)byteOffset, (nuint)destination.Length, d, 0, null, null),
                    "clEnqueueReadBuffer");
        }
    }

    public void CopyDeviceToDevice(nint source, long sourceOffset, nint destination, long destinationOffset, long bytes)
    {
        if (bytes == 0)
            return;
        lock (gate)
        {
            ThrowIfDisposed();
            Check(clEnqueueCopyBuffer(queue, source, destination, (nuint)sourceOffset, (nuint)destinationOffset, (nuint)bytes,
                0, null, null), "clEnqueueCopyBuffer");
        }
    }

    public GpuProgram Compile(string source, string name, string[] defines)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(defines);
        lock (gate)
        {
            ThrowIfDisposed();
            var text = Encoding.UTF8.GetBytes(source);
            int status;
            nint program;
            fixed (byte* t = text)
            {
                var strings = t;
                var length = (nuint)text.Length;
                program = clCreateProgramWithSource(context, 1, &strings, &length, &status);
            }
            Check(status, "clCreateProgramWithSource");
            var options = new StringBuilder("-cl-std=CL1.2");
            foreach (var define in defines)
                options.Append(" -D").Append(define);
            Build(program, name, options.ToString());
            programs.Add(program);
            return new GpuProgram(program, name);
        }
    }

    public byte[]? ProgramBinary(GpuProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (gate)
        {
            ThrowIfDisposed();
            nuint size;
            if (clGetProgramInfo(program.Handle, ProgramBinarySizes, (nuint)sizeof(nuint), &size, null) != 0 || size == 0)
                return null;
            var binary = new byte[(int)size];
            fixed (byte* b = binary)
            {
                var pointer = b;
                if (clGetProgramInfo(program.Handle, ProgramBinaries, (nuint)sizeof(nint), &pointer, null) != 0)
                    return null;
            }
            return binary;
        }
    }

    public GpuProgram? LoadBinary(byte[] binary, string name)
    {
        ArgumentNullException.ThrowIfNull(binary);
        lock (gate)
        {
            ThrowIfDisposed();
            int status, binaryStatus;
            nint program;
            var d = device;
            fixed (byte* b = binary)
            {
                var pointer = b;
                var length = (nuint)binary.Length;
                program = clCreateProgramWithBinary(context, 1, &d, &length, &pointer, &binaryStatus, &status);
            }
            if (status != 0 || binaryStatus != 0)
                return null;
            if (clBuildProgram(program, 1, &d, null, 0, 0) != 0)
            {
                _ = clReleaseProgram(program);
                return null;
            }
            programs.Add(program);
            return new GpuProgram(program, name);
        }
    }

    public GpuKernel GetKernel(GpuProgram program, string entry)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (gate)
        {
            ThrowIfDisposed();
            if (kernels.TryGetValue((program.Handle, entry), out var kernel))
                return kernel;
            var name = Encoding.ASCII.GetBytes(entry + "\0");
            int status;
            nint handle;
            fixed (byte* n = name)
                handle = clCreateKernel(program.Handle, n, &status);
            Check(status, "clCreateKernel", $"{program.Name}:{entry}");
            kernel = new GpuKernel(handle, $"{program.Name}:{entry}");
            kernels[(program.Handle, entry)] = kernel;
            return kernel;
        }
    }

    public void Launch(GpuKernel kernel, Dim3 groups, Dim3 groupSize, in KernelArgs args)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (groups.Count == 0)
            return;
        lock (gate)
        {
            ThrowIfDisposed();
            for (var i = 0; i < args.Count; i++)
            {
                var set = clSetKernelArg(kernel.Handle, (uint)i, (nuint)args.SizeAt(i), args.ValueAt(i));
                if (set != 0)
                    Check(set, "clSetKernelArg", $"{kernel.Name} argument {i}");    // messages only on failure
            }
            var global = stackalloc nuint[3];
            var local = stackalloc nuint[3];
            global[0] = (nuint)((long)groups.X * groupSize.X);
            global[1] = (nuint)((long)groups.Y * groupSize.Y);
            global[2] = (nuint)((long)groups.Z * groupSize.Z);
            local[0] = (nuint)groupSize.X;
            local[1] = (nuint)groupSize.Y;
            local[2] = (nuint)groupSize.Z;
            var status = clEnqueueNDRangeKernel(queue, kernel.Handle, 3, null, global, local, 0, null, null);
            if (status != 0)
                Check(status, "clEnqueueNDRangeKernel", $"{kernel.Name} groups {groups} size {groupSize}");
            if (syncEachLaunch && (status = clFinish(queue)) != 0)
                Check(status, "clFinish", $"after {kernel.Name}");
        }
    }

    public void Synchronize()
    {
        lock (gate)
        {
            ThrowIfDisposed();
            Check(clFinish(queue), "clFinish");
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            _ = clFinish(queue);
            foreach (var kernel in kernels.Values)
                _ = clReleaseKernel(kernel.Handle);
            foreach (var program in programs)
                _ = clReleaseProgram(program);
            _ = clReleaseCommandQueue(queue);
            _ = clReleaseContext(context);
        }
    }

    private void Build(nint program, string name, string options)
    {
        var d = device;
        var bytes = Encoding.ASCII.GetBytes(options + "\0");
        int status;
        fixed (byte* o = bytes)
            status = clBuildProgram(program, 1, &d, o, 0, 0);
        if (status == 0)
            return;
        var log = BuildLog(program);
        _ = clReleaseProgram(program);
        throw new GpuCompileException(Api, "clBuildProgram", status, StatusName(status), $"{name} [{options}]", log);
    }

    private string BuildLog(nint program)
    {
        nuint size;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != 0 || size == 0)
            return "(no build log)";
        var log = new byte[(int)size];
        fixed (byte* l = log)
            _ = clGetProgramBuildInfo(program, device, ProgramBuildLog, size, l, null);
        return Encoding.UTF8.GetString(log).TrimEnd('\0', '\n');
    }

    private static string DeviceText(nint device, uint name)
    {
        nuint size;
        if (clGetDeviceInfo(device, name, 0, null, &size) != 0 || size == 0)
            return "?";
        var text = new byte[(int)size];
        fixed (byte* t = text)
            _ = clGetDeviceInfo(device, name, size, t, null);
        return Encoding.UTF8.GetString(text).TrimEnd('\0').Trim();
    }

    private static string PlatformText(nint platform, uint name)
    {
        nuint size;
        if (clGetPlatformInfo(platform, name, 0, null, &size) != 0 || size == 0)
            return "?";
        var text = new byte[(int)size];
        fixed (byte* t = text)
            _ = clGetPlatformInfo(platform, name, size, t, null);
        return Encoding.UTF8.GetString(text).TrimEnd('\0').Trim();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private static void Check(int status, string call, string? detail = null)
    {
        if (status != 0)
            throw new GpuException(Api, call, status, StatusName(status), detail);
    }
}
