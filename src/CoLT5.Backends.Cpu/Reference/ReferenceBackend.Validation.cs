// Argument checks shared by every reference kernel: views must address host memory inside their buffers, and
// dtypes, shapes and axes must fit the op. Failures are the typed errors of CoLT5.Tensors, naming the op.
using System;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// Checks that <paramref name="view"/> lives in host memory (a <see cref="CpuBuffer"/>), has one stride per
    /// dimension, and that its smallest and largest addressed element offsets lie inside the buffer; returns the
    /// typed accessor. A view with no elements addresses nothing and always passes the bounds check.
    /// </summary>
    internal HostView Host(in TensorView view, string op, string role)
    {
        if (view.Buffer is not CpuBuffer buffer)
        {
            var other = view.Buffer?.Backend?.Device ?? default;
            throw new DeviceMismatchException(op, other, Device);
        }
        if (view.Strides is null || view.Strides.Length != view.Rank)
            throw new InvalidShapeException(op, view.Shape,
                $"{role} has {view.Strides?.Length ?? 0} strides for rank {view.Rank}");
        if (view.NumElements == 0)
            return new HostView(view, buffer);

        long lowest, highest;
        try
        {
            lowest = highest = view.Offset;
            for (var k = 0; k < view.Rank; k++)
            {
                var reach = checked((view.Shape.Dims[k] - 1) * view.Strides[k]);
                if (reach < 0)
                    lowest = checked(lowest + reach);
                else
                    highest = checked(highest + reach);
            }
        }
        catch (OverflowException)
        {
            throw new TensorException(op, $"{role} view {view} addresses offsets beyond the 64-bit range");
        }
        if (lowest < 0 || highest >= buffer.Length)
            throw new TensorException(op, $"{role} view {view} addresses elements {lowest}..{highest}, " +
                $"outside its buffer of {buffer.Length} elements");
        return new HostView(view, buffer);
    }

    /// <summary>Checks that a buffer is host memory and returns it.</summary>
    private static CpuBuffer HostBuffer(IDeviceBuffer buffer, string op, Device device)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return buffer as CpuBuffer ?? throw new DeviceMismatchException(op, buffer.Backend.Device, device);
    }

    /// <summary>Float32, Float64 or BFloat16 (the dtypes float kernels accept; all compute in float64).</summary>
    private static void RequireFloat(string op, string role, in TensorView view)
    {
        if (!view.DType.IsFloatingPoint())
            throw new DTypeMismatchException(op, $"{role} must be a floating-point tensor, not {view.DType.Name()}");
    }

    private static void RequireDType(string op, string role, in TensorView view, DType dtype)
    {
        if (view.DType != dtype)
            throw new DTypeMismatchException(op, $"{role} must be {dtype.Name()}, not {view.DType.Name()}");
    }

    private static void RequireSameDType(string op, string role, in TensorView view, in TensorView like)
    {
        if (view.DType != like.DType)
            throw new DTypeMismatchException(op,
                $"{role} is {view.DType.Name()} but must match {like.DType.Name()}");
    }

    private static void RequireShape(string op, string role, in TensorView view, Shape expected)
    {
        if (view.Shape != expected)
            throw new ShapeMismatchException(op, view.Shape, expected, $"{role} must have shape {expected}");
    }

    private static void RequireRank(string op, string role, in TensorView view, int rank)
    {
        if (view.Rank != rank)
            throw new InvalidShapeException(op, view.Shape, $"{role} must have rank {rank}");
    }

    /// <summary>Throws the typed index error unless 0 ≤ index &lt; size.</summary>
    private static void RequireIndex(string op, long index, long size, int axis)
    {
        if (index < 0 || index >= size)
            throw new TensorIndexException(op, index, size, axis);
    }
}
