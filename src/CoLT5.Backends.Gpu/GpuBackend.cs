// The GPU backend: the backend contract implemented once over IGpuRuntime (OpenCL or CUDA). This file holds
// memory, transfers, fills, copies and the launch helpers; the op families live in the GpuBackend.*.cs partials and
// their kernels in Kernels/*.h.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

/// <summary>
/// Tensor ops on an OpenCL or CUDA device. Floating-point ops run in float32 (float64 tensors are rejected with a
/// typed error); index tensors are int32 and masks bool. Every op is enqueued on the runtime's one in-order queue;
/// only <see cref="Download"/> and <see cref="Synchronize"/> wait.
/// </summary>
public sealed unsafe partial class GpuBackend : IBackend
{
    /// <summary>Work-items per work-group of the 1-D elementwise launches.</summary>
    private const int GroupSize = 256;

    /// <summary>Cap on work-groups of a grid-stride launch.</summary>
    private const int MaxGroups = 65535;

    private readonly IGpuRuntime runtime;
    private bool disposed;

    private readonly nint errorBuffer;

    internal GpuBackend(IGpuRuntime runtime, Device device)
    {
        this.runtime = runtime;
        Device = device;
        Pool = new DevicePool(runtime);
        Kernels = new KernelCache(runtime);
        errorBuffer = runtime.Allocate(ErrorWords * sizeof(int));
        runtime.Upload(new byte[ErrorWords * sizeof(int)], errorBuffer, 0);
    }

    /// <summary>Ints in the device error report: code, op, value, bound (errors.h).</summary>
    private const int ErrorWords = 4;

    /// <summary>The device error report kernels write bad indices into.</summary>
    private nint ErrorBuffer => errorBuffer;

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public string Description => $"{Device}: {runtime.Info}";

    /// <summary>The device as its driver describes it.</summary>
    public GpuDeviceInfo Info => runtime.Info;

    /// <summary>Blocks allocated and not yet released (a test shows it returns to zero).</summary>
    public long LiveBuffers => Pool.LiveBlocks;

    /// <summary>Bytes allocated and not yet released.</summary>
    public long LiveBytes => Pool.LiveBytes;

    /// <summary>The most bytes live at once since <see cref="ResetPeakBytes"/> (device-memory high-water mark).</summary>
    public long PeakBytes => Pool.PeakBytes;

    /// <summary>Restarts <see cref="PeakBytes"/> from the bytes live now.</summary>
    public void ResetPeakBytes() => Pool.ResetPeak();

    internal DevicePool Pool { get; }

    internal KernelCache Kernels { get; }

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(DType dtype, long length)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "a buffer length must be non-negative");
        var bytes = checked(length * dtype.SizeOf());
        var handle = Pool.Rent(bytes, out var capacity);
        return new GpuBuffer(this, dtype, length, handle, capacity);
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<byte> source, IDeviceBuffer destination, long byteOffset)
    {
        var buffer = Own(destination);
        BackendChecks.ByteRange(buffer, byteOffset, source.Length);
        runtime.Upload(source, buffer.Handle, byteOffset);
    }

    /// <inheritdoc/>
    public void Download(IDeviceBuffer source, long byteOffset, Span<byte> destination)
    {
        var buffer = Own(source);
        BackendChecks.ByteRange(buffer, byteOffset, destination.Length);
        runtime.Download(buffer.Handle, byteOffset, destination);
        ThrowReportedErrors();
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        runtime.Synchronize();
        ThrowReportedErrors();
    }

    // Reads the device error report (the queue is idle here) and turns the first bad index into a typed error.
    private void ThrowReportedErrors()
    {
        Span<int> report = stackalloc int[ErrorWords];
        runtime.Download(errorBuffer, 0, System.Runtime.InteropServices.MemoryMarshal.AsBytes(report));
        if (report[0] == 0)
            return;
        runtime.Upload(new byte[ErrorWords * sizeof(int)], errorBuffer, 0);
        var op = report[1] switch
        {
            1 => "cross_entropy (target)",
            2 => "cross_entropy_backward (target)",
            3 => "gather / index_select",
            5 => "attention (bucket map entry outside the bias table)",
            _ => "scatter_add / index_add",
        };
        throw new TensorIndexException($"{op} on {Device}, reported at the next synchronisation", report[2], report[3], -1);
    }

    /// <inheritdoc/>
    public void Fill(in TensorView destination, double value)
    {
        if (destination.NumElements == 0)
            return;
        var y = Own(destination);
        var layout = KernelLayout.Of(destination);
        var args = new KernelArgs();
        args.Buffer(y);
        args.Long(destination.Offset);
        args.Struct(layout);
        args.Float((float)value);
        args.Long(destination.DType switch
        {
            DType.Float32 => 0,
            DType.Float64 => BitConverter.DoubleToInt64Bits(value),
            _ => checked((int)value),
        });
        string[] defines = destination.DType == DType.Float64 ? ["T=i64", "IS_FLOAT=0"] : TypeDefines(destination.DType, "fill");
        Launch1D(Kernels.Get("elementwise.h", "fill", defines), layout.N, args);
    }

    /// <inheritdoc/>
    public void Copy(in TensorView source, in TensorView destination)
    {
        SameShape("copy", source, destination);
        if (destination.NumElements == 0)
            return;
        var x = Own(source);
        var y = Own(destination);
        var layout = KernelLayout.Of(source, destination);
        if (source.DType == destination.DType && layout.Rank == 1 && layout.Strides[0] == 1
            && layout.Strides[KernelLayout.MaxRank] == 1)
        {
            var size = source.DType.SizeOf();
            runtime.CopyDeviceToDevice(x, source.Offset * size, y, destination.Offset * size, layout.N * size);
            return;
        }
        var args = new KernelArgs();
        args.Buffer(x);
        args.Long(source.Offset);
        args.Buffer(y);
        args.Long(destination.Offset);
        args.Struct(layout);
        Launch1D(Kernels.Get("convert.h", "copy_convert", ConvertDefines(source.DType, destination.DType)), layout.N, args);
    }

    /// <summary>Returns every cached device block to the driver; later allocations go to the driver again.</summary>
    public void TrimPool() => Pool.Trim();

    /// <summary>Frees the cached memory and the runtime (context, queue, programs).</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        Pool.Dispose();
        runtime.Free(errorBuffer);
        runtime.Dispose();
    }

    // ---- launch helpers ---------------------------------------------------------------------------------------

    /// <summary>A grid-stride 1-D launch over <paramref name="n"/> elements.</summary>
    private void Launch1D(GpuKernel kernel, long n, in KernelArgs args)
    {
        if (n == 0)
            return;
        var groups = (int)Math.Min(MaxGroups, (n + GroupSize - 1) / GroupSize);
        runtime.Launch(kernel, new Dim3(groups), new Dim3(GroupSize), args);
    }

    private static string[] TypeDefines(DType dtype, string op) => dtype switch
    {
        DType.Float32 => ["T=float", "IS_FLOAT=1"],
        DType.Int32 => ["T=int", "IS_FLOAT=0"],
        DType.Bool => ["T=uchar", "IS_FLOAT=0"],
        _ => throw Unsupported(op, dtype),
    };

    private static string[] ConvertDefines(DType from, DType to)
    {
        var s = CType(from, "copy");
        var d = CType(to, "copy");
        var convert = (from, to) switch
        {
            (_, DType.Bool) => "CONVERT(v)=((uchar)((v)!=0))",
            (DType.Float32 or DType.Float64, DType.Int32) => "CONVERT(v)=F2I_SAT(v)",
            (DType.Int32, DType.Float32) => "CONVERT(v)=I2F(v)",
            _ => $"CONVERT(v)=(({d})(v))",
        };
        return from == DType.Float64 || to == DType.Float64
            ? [$"S={s}", $"D={d}", convert, "NEEDS_FP64=1"]
            : [$"S={s}", $"D={d}", convert];
    }

    // Copies also convert float64 (host-made tables such as masks and budgets arrive as float64 and are narrowed on
    // the device); no other op accepts it.
    private static string CType(DType dtype, string op) => dtype switch
    {
        DType.Float32 => "float",
        DType.Float64 => "double",
        DType.Int32 => "int",
        DType.Bool => "uchar",
        _ => throw Unsupported(op, dtype),
    };

    private static DTypeMismatchException Unsupported(string op, DType dtype) =>
        new(op, $"the GPU backends compute in float32 with int32 indices and bool masks; {dtype.Name()} tensors " +
            "stay on the CPU (convert with .To(DType.Float32) first)");

    // ---- ownership and checks --------------------------------------------------------------------------------

    /// <summary>The buffer as this backend's device memory, or a typed error naming both devices.</summary>
    internal GpuBuffer Own(IDeviceBuffer buffer) => buffer is GpuBuffer gpu && ReferenceEquals(gpu.Backend, this)
        ? gpu
        : throw new DeviceMismatchException(Device.ToString(), Device, buffer.Backend.Device);

    /// <summary>Appends a view as the (buffer, element offset) argument pair every kernel takes.</summary>
    private void View(ref KernelArgs args, in TensorView view)
    {
        args.Buffer(Own(view));
        args.Long(view.Offset);
    }

    /// <summary>The native memory of a view's buffer, after checking every addressed element lies inside it.</summary>
    internal nint Own(in TensorView view)
    {
        var buffer = Own(view.Buffer);
        BackendChecks.Inside(view, "gpu");
        return buffer.Handle;
    }

    private static void SameShape(string op, in TensorView a, in TensorView b)
    {
        if (a.Shape != b.Shape)
            throw new ShapeMismatchException(op, a.Shape, b.Shape, "the views must have the same shape");
    }

    private static void RequireFloat32(string op, in TensorView v)
    {
        if (v.DType != DType.Float32)
            throw Unsupported(op, v.DType);
    }
}
