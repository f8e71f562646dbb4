// The SIMD, multithreaded CPU backend: memory, transfers, copies, fills and random fills. The op families live in
// the other CpuBackend.*.cs partial files; the kernels themselves in Kernels/ and Gemm/.
using System;
using System.Runtime.Intrinsics;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Backends.Cpu.Threading;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

/// <summary>
/// The CPU backend: Vector512 → Vector256 → scalar kernels, chunked multithreading, a packed GEMM, and pooled
/// 64-byte-aligned buffers. Work runs synchronously on the calling thread (plus workers).
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    private readonly HostMemoryPool pool = HostMemoryPool.Shared;

    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    /// <inheritdoc/>
    public string Description => DescribeMachine();

    /// <summary>Threads the kernels use (all cores unless <c>COLT5_CPU_THREADS</c> or this setter says less).</summary>
    public static int Threads
    {
        get => CpuParallel.MaxThreads;
        set => CpuParallel.MaxThreads = value;
    }

    /// <summary>"cpu: 2 threads, Vector512" — the cores and widest SIMD this process uses.</summary>
    public static string DescribeMachine() =>
        $"cpu: {Environment.ProcessorCount} cores, {CpuParallel.MaxThreads} threads, " +
        (Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar");

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(DType dtype, long length) => new CpuBuffer(this, pool, dtype, length);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<byte> source, IDeviceBuffer destination, long byteOffset)
    {
        var buffer = Own(destination);
        BackendChecks.ByteRange(buffer, byteOffset, source.Length);
        source.CopyTo(new Span<byte>((byte*)buffer.Pointer + byteOffset, source.Length));
    }

    /// <inheritdoc/>
    public void Download(IDeviceBuffer source, long byteOffset, Span<byte> destination)
    {
        var buffer = Own(source);
        BackendChecks.ByteRange(buffer, byteOffset, destination.Length);
        new ReadOnlySpan<byte>((byte*)buffer.Pointer + byteOffset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
    }

    /// <inheritdoc/>
    public void Fill(in TensorView destination, double value)
    {
        var dst = Own(destination);
        var dtype = destination.DType;
        var size = dtype.SizeOf();
        var loop = StridedLoop.Create(destination.Shape, [destination.Strides], [destination.Offset]);
        var s0 = loop.InnerStride(0);
        RunDriver.ForEachRun(loop, 1, (o, n) => ConvertKernels.FillRun(dtype, (byte*)dst + o[0] * size, s0, n, value));
    }

    /// <inheritdoc/>
    public void Copy(in TensorView source, in TensorView destination)
    {
        SameShape("copy", source, destination);
        var src = Own(source);
        var dst = Own(destination);
        DType from = source.DType, to = destination.DType;
        int fs = from.SizeOf(), ts = to.SizeOf();
        var loop = StridedLoop.Create(destination.Shape, [source.Strides, destination.Strides],
            [source.Offset, destination.Offset]);
        long s0 = loop.InnerStride(0), s1 = loop.InnerStride(1);
        RunDriver.ForEachRun(loop, 2, (o, n) =>
            ConvertKernels.CopyRun(from, (byte*)src + o[0] * fs, s0, to, (byte*)dst + o[1] * ts, s1, n));
    }

    /// <inheritdoc/>
    public void Random(RandomKind kind, ulong seed, ulong offset, in TensorView destination, double a, double b)
    {
        if (!destination.IsContiguous)
            throw new TensorException("random", $"the destination must be contiguous, got {destination}");
        if (kind != RandomKind.Bernoulli && !destination.DType.IsFloatingPoint())
            throw new DTypeMismatchException("random", $"{kind} samples need a floating-point destination, got {destination}");
        var dst = Own(destination);
        var dtype = destination.DType;
        var start = destination.Offset;
        var count = destination.NumElements;
        CpuParallel.For(count, 32, (lo, hi) =>
            RandomKernels.Fill(kind, seed, offset, dtype, dst, start, lo, hi, a, b));
    }

    /// <summary>Releases nothing: the provider shares one backend per process, and buffers return to the pool.</summary>
    public void Dispose()
    {
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>The buffer as CPU memory, or a typed error if it belongs to another backend.</summary>
    internal CpuBuffer Own(IDeviceBuffer buffer) => buffer is CpuBuffer cpu && ReferenceEquals(cpu.Backend, this)
        ? cpu
        : throw new DeviceMismatchException("cpu", Device, buffer.Backend.Device);

    /// <summary>Base pointer of a view's buffer (element 0 of the buffer, not of the view).</summary>
    internal void* Own(in TensorView view)
    {
        var buffer = Own(view.Buffer);
        BackendChecks.Inside(view, "cpu");
        return buffer.Pointer;
    }

    /// <summary>Typed base pointer of a view's buffer, checking the dtype.</summary>
    internal T* Ptr<T>(in TensorView view, string op) where T : unmanaged
    {
        if (view.DType != DTypes.Of<T>())
            throw new DTypeMismatchException(op, $"expected {DTypes.Of<T>().Name()}, got {view}");
        return (T*)Own(view);
    }

    internal static void SameShape(string op, in TensorView a, in TensorView b)
    {
        if (a.Shape != b.Shape)
            throw new ShapeMismatchException(op, a.Shape, b.Shape, "the views must have the same shape");
    }

    internal static void RequireFloat(string op, in TensorView v)
    {
        if (v.DType is not (DType.Float32 or DType.Float64))
            throw new DTypeMismatchException(op, $"the CPU backend computes in float32 or float64, got {v}");
    }
}
