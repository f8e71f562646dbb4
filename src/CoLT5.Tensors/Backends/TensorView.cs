// What a kernel receives: a buffer plus a strided layout (shape, element strides, element offset).
namespace CoLT5.Tensors.Backends;

/// <summary>
/// A strided window onto a device buffer. Element (i0, i1, ...) lives at
/// <c>Offset + Σ ik·Strides[k]</c>. A stride of 0 repeats data (broadcast). Views never own memory.
/// </summary>
public readonly struct TensorView
{
    /// <summary>Creates a view; the caller guarantees every addressed element lies inside the buffer.</summary>
    public TensorView(IDeviceBuffer buffer, Shape shape, long[] strides, long offset)
    {
        Buffer = buffer;
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    /// <summary>A contiguous row-major view of a whole buffer (or its prefix) with the given shape.</summary>
    public static TensorView Contiguous(IDeviceBuffer buffer, Shape shape, long offset = 0) =>
        new(buffer, shape, ContiguousStrides(shape), offset);

    /// <summary>The underlying buffer.</summary>
    public IDeviceBuffer Buffer { get; }

    /// <summary>Element type of the buffer.</summary>
    public DType DType => Buffer.DType;

    /// <summary>Logical shape.</summary>
    public Shape Shape { get; }

    /// <summary>Element strides, one per dimension (0 means broadcast).</summary>
    public long[] Strides { get; }

    /// <summary>Element offset of element (0, ..., 0).</summary>
    public long Offset { get; }

    /// <summary>Rank of the view.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of logical elements.</summary>
    public long NumElements => Shape.NumElements;

    /// <summary>True when the elements are dense and row-major (strides of size-1 dims are ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (var i = Rank - 1; i >= 0; i--)
            {
                var d = Shape.Dims[i];
                if (d != 1 && Strides[i] != expected)
                    return false;
                expected *= d;
            }
            return true;
        }
    }

    /// <summary>Row-major strides for a shape.</summary>
    public static long[] ContiguousStrides(Shape shape)
    {
        var strides = new long[shape.Rank];
        long s = 1;
        for (var i = shape.Rank - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape.Dims[i];
        }
        return strides;
    }

    /// <summary>"float32 (2, 3) strides [3, 1] +0" for messages.</summary>
    public override string ToString() =>
        $"{DType.Name()} {Shape} strides [{string.Join(", ", Strides)}] +{Offset}";
}
