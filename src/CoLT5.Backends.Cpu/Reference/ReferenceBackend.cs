// The scalar reference backend: naive, single-threaded float64 loops that define the expected result of every op.
// This file holds memory (allocate, upload, download), fill, copy with dtype conversion and the counter-based RNG.
using System;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Backends.Cpu.Reference;

/// <summary>
/// The oracle backend. Every kernel is a plain loop over the logical index space of its views (any strides,
/// offsets and zero strides), reading each element as a double and writing it back converted to the destination
/// dtype, so float32, float64, int32, bool and bfloat16 all go through float64 arithmetic. Work runs synchronously
/// on the calling thread. The instance is shared and owned by the CPU backend provider.
/// </summary>
public sealed partial class ReferenceBackend : IBackend
{
    /// <summary>Creates the backend (it holds no state beyond the shared host memory pool).</summary>
    public ReferenceBackend()
    {
    }

    /// <inheritdoc/>
    public Device Device => Device.Reference;

    /// <inheritdoc/>
    public string Description => "reference: scalar float64 loops";

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(DType dtype, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _ = dtype.SizeOf();   // rejects unknown dtypes
        return new CpuBuffer(this, HostMemoryPool.Shared, dtype, length);
    }

    /// <inheritdoc/>
    public unsafe void Upload(ReadOnlySpan<byte> source, IDeviceBuffer destination, long byteOffset)
    {
        var buffer = HostBuffer(destination, "upload", Device);
        CheckByteRange(buffer, byteOffset, source.Length, nameof(byteOffset));
        source.CopyTo(new Span<byte>((byte*)buffer.Pointer + byteOffset, source.Length));
    }

    /// <inheritdoc/>
    public unsafe void Download(IDeviceBuffer source, long byteOffset, Span<byte> destination)
    {
        var buffer = HostBuffer(source, "download", Device);
        CheckByteRange(buffer, byteOffset, destination.Length, nameof(byteOffset));
        new ReadOnlySpan<byte>((byte*)buffer.Pointer + byteOffset, destination.Length).CopyTo(destination);
    }

    /// <summary>Nothing to wait for: every kernel has finished when its call returns.</summary>
    public void Synchronize()
    {
    }

    /// <summary>Does nothing: the provider owns the shared instance; buffers return to the pool themselves.</summary>
    public void Dispose()
    {
    }

    /// <inheritdoc/>
    public void Fill(in TensorView destination, double value)
    {
        var y = Host(destination, "fill", "destination");
        var walk = y.Walk();
        while (walk.MoveNext())
            y[walk.Offset] = value;
    }

    /// <summary>
    /// Copies element by element through a double: float32 ↔ float64 (round to nearest), to int32 by truncation
    /// toward zero (saturating, NaN → 0), to bool as value != 0 (NaN → true), to bfloat16 by rounding the float32
    /// value to nearest-even (NaN stays a quiet NaN).
    /// </summary>
    public void Copy(in TensorView source, in TensorView destination)
    {
        const string op = "copy";
        var x = Host(source, op, "source");
        var y = Host(destination, op, "destination");
        RequireShape(op, "destination", destination, source.Shape);
        var walkX = x.Walk();
        var walkY = y.Walk();
        while (walkY.MoveNext() && walkX.MoveNext())
            y[walkY.Offset] = x[walkX.Offset];
    }

    /// <summary>
    /// Element at row-major position p uses Philox element i = offset + p (wrapping modulo 2⁶⁴):
    /// uniform float32 = (float)a + ((float)b − (float)a)·UniformFloat(seed, i) in float32 arithmetic; uniform
    /// float64 (and bfloat16, converted) = a + (b − a)·UniformDouble(seed, i); normal = a + b·Normal(seed, i) in
    /// float64, then converted; Bernoulli = Bits32(seed, i) &lt; Threshold(a) ? 1 : 0 (any dtype). Uniform and
    /// normal need a floating-point destination; every destination must be contiguous.
    /// </summary>
    public void Random(RandomKind kind, ulong seed, ulong offset, in TensorView destination, double a, double b)
    {
        const string op = "random";
        var y = Host(destination, op, "destination");
        if (!destination.IsContiguous)
            throw new InvalidShapeException(op, destination.Shape,
                $"the destination must be contiguous, but its strides are [{string.Join(", ", destination.Strides)}]");
        if (kind != RandomKind.Bernoulli)
            RequireFloat(op, "destination", destination);

        var threshold = Philox.Threshold(a);
        float fa = (float)a, fb = (float)b;
        var walk = y.Walk();
        while (walk.MoveNext())
        {
            var i = unchecked(offset + (ulong)walk.Position);
            y[walk.Offset] = kind switch
            {
                RandomKind.Uniform when y.DType == DType.Float32 =>
                    UniformFloat32(fa, fb, Philox.UniformFloat(seed, i)),
                RandomKind.Uniform => a + (b - a) * Philox.UniformDouble(seed, i),
                RandomKind.Normal => a + b * Philox.Normal(seed, i),
                RandomKind.Bernoulli => Philox.Bits32(seed, i) < threshold ? 1.0 : 0.0,
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown random kind"),
            };
        }
    }

    /// <summary>a + (b − a)·u with every operation rounded to float32.</summary>
    private static float UniformFloat32(float a, float b, float u)
    {
        var range = b - a;
        var scaled = range * u;
        return a + scaled;
    }

    private static void CheckByteRange(CpuBuffer buffer, long byteOffset, int count, string parameter)
    {
        var bytes = buffer.Length * buffer.DType.SizeOf();
        if (byteOffset < 0 || byteOffset > bytes || count > bytes - byteOffset)
            throw new ArgumentOutOfRangeException(parameter, byteOffset,
                $"{count} bytes at byte offset {byteOffset} do not fit in a buffer of {buffer.Length} " +
                $"{buffer.DType.Name()} elements ({bytes} bytes)");
    }
}
