// Creating tensors: zeros/ones/full, from host arrays, ranges, random draws; and reading data back to the host.
using System;
using System.Runtime.InteropServices;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    private static IBackend BackendFor(Device? device) => BackendRegistry.Get(device ?? BackendRegistry.DefaultDevice);

    /// <summary>An uninitialised tensor (contents are whatever the pooled memory held).</summary>
    public static Tensor Empty(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        Empty(BackendFor(device), shape, dtype);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        var t = Empty(BackendFor(device), shape, dtype);
        t.Backend.Fill(t.View, value);
        return t;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        Full(shape, 0, dtype, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        Full(shape, 1, dtype, device);

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => FullLike(like, 0);

    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => FullLike(like, 1);

    /// <summary>A constant with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor FullLike(Tensor like, double value)
    {
        var t = Empty(like.Backend, like.Shape, like.DType);
        t.Backend.Fill(t.View, value);
        return t;
    }

    /// <summary>A 0-d tensor holding one value.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null) =>
        Full(Shape.Scalar, value, dtype, device);

    /// <summary>Copies host data into a new tensor of the given shape.</summary>
    /// <exception cref="InvalidShapeException">The element count does not match the shape.</exception>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, Shape shape, Device? device = null) where T : unmanaged
    {
        if (data.Length != shape.NumElements)
            throw new InvalidShapeException("from_array", shape, $"it needs {shape.NumElements} elements " +
                $"but {data.Length} were given");
        var dtype = DTypes.Of<T>();
        var t = Empty(BackendFor(device), shape, dtype);
        if (dtype == DType.Bool)
        {
            // bool is one byte of 0/1 in .NET and in our buffers; normalise anyway.
            var bytes = new byte[data.Length];
            var src = MemoryMarshal.Cast<T, byte>(data);
            for (var i = 0; i < bytes.Length; i++)
                bytes[i] = src[i] != 0 ? (byte)1 : (byte)0;
            t.Backend.Upload(bytes, t.View.Buffer, 0);
        }
        else
        {
            t.Backend.Upload(MemoryMarshal.AsBytes(data), t.View.Buffer, 0);
        }
        return t;
    }

    /// <summary>Copies a host array into a new tensor; the shape defaults to 1-D.</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged =>
        FromArray<T>(data, shape.Length == 0 ? new Shape(data.Length) : new Shape(shape));

    /// <summary>0, 1, ..., n-1 as a 1-D tensor.</summary>
    public static Tensor Arange(int n, DType dtype = DType.Int32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var values = new double[n];
        for (var i = 0; i < n; i++)
            values[i] = i;
        using var host = FromArray<double>(values, new Shape(n), Device.Cpu);
        var t = Empty(BackendFor(device), new Shape(n), dtype);
        t.CopyFrom(host);
        return t;
    }

    /// <summary>Uniform samples in [low, high) from a reproducible stream.</summary>
    public static Tensor Rand(Shape shape, Generator generator, double low = 0, double high = 1,
        DType dtype = DType.Float32, Device? device = null) =>
        Random(RandomKind.Uniform, shape, generator, low, high, dtype, device);

    /// <summary>Normal samples with the given mean and standard deviation from a reproducible stream.</summary>
    public static Tensor RandN(Shape shape, Generator generator, double mean = 0, double std = 1,
        DType dtype = DType.Float32, Device? device = null) =>
        Random(RandomKind.Normal, shape, generator, mean, std, dtype, device);

    /// <summary>0/1 samples that are 1 with probability <paramref name="p"/>.</summary>
    public static Tensor Bernoulli(Shape shape, Generator generator, double p, DType dtype = DType.Float32,
        Device? device = null) =>
        Random(RandomKind.Bernoulli, shape, generator, p, 0, dtype, device);

    private static Tensor Random(RandomKind kind, Shape shape, Generator generator, double a, double b, DType dtype,
        Device? device)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var t = Empty(BackendFor(device), shape, dtype);
        var offset = generator.Reserve(shape.NumElements);
        t.Backend.Random(kind, generator.Seed, offset, t.View, a, b);
        return t;
    }

    // ---- reading back ----------------------------------------------------------------------------------

    /// <summary>Copies the elements (row-major) to a new host array; <typeparamref name="T"/> must be the dtype's
    /// element type.</summary>
    /// <exception cref="DTypeMismatchException">T does not match the dtype.</exception>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (DTypes.Of<T>() != DType)
            throw new DTypeMismatchException("to_array", $"cannot read a {DType.Name()} tensor as " +
                $"{typeof(T).Name}; convert it first with To(DType)");
        using var dense = IsContiguous ? Alias() : Contiguous();
        var result = new T[checked((int)NumElements)];
        Backend.Download(dense.View.Buffer, dense.offset * DType.SizeOf(), MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The elements converted to double (any dtype, on any device: the conversion runs on the host).</summary>
    public double[] ToDoubleArray()
    {
        if (DType == DType.Float64)
            return ToArray<double>();
        if (Device.Kind is not (DeviceKind.Cpu or DeviceKind.Reference))
        {
            using var host = To(Device.Cpu);
            return host.ToDoubleArray();
        }
        using var converted = To(DType.Float64);
        return converted.ToArray<double>();
    }

    /// <summary>The single value of a one-element tensor, as a double.</summary>
    /// <exception cref="InvalidShapeException">The tensor has more than one element.</exception>
    public double Item()
    {
        if (NumElements != 1)
            throw new InvalidShapeException("item", Shape, "only one-element tensors have an item");
        return ToDoubleArray()[0];
    }

    /// <summary>Copies <paramref name="source"/> (same shape, any dtype) into this tensor in place.</summary>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Shape != Shape)
            throw new ShapeMismatchException("copy_", Shape, source.Shape, "copy needs equal shapes");
        CheckInPlace("copy_");
        if (ReferenceEquals(source.Backend, Backend))
        {
            Backend.Copy(source.View, View);
        }
        else
        {
            using var moved = source.To(Device);
            Backend.Copy(moved.View, View);
        }
        BumpVersion();
    }
}
