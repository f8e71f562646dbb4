// Elementwise families on the CPU: unary forward/backward, binary with broadcast strides, comparisons, where.
using System;
using System.Numerics;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, in TensorView x, in TensorView y, UnaryParams p)
    {
        RequireFloat("unary", x);
        SameShape("unary", x, y);
        if (x.DType == DType.Float32)
            UnaryOf<float>(op, x, y, p);
        else
            UnaryOf<double>(op, x, y, p);
    }

    private void UnaryOf<T>(UnaryOp op, TensorView x, TensorView y, UnaryParams p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* px = Ptr<T>(x, "unary"), py = Ptr<T>(y, "unary");
        var loop = StridedLoop.Create(y.Shape, [x.Strides, y.Strides], [x.Offset, y.Offset]);
        long sx = loop.InnerStride(0), sy = loop.InnerStride(1);
        RunDriver.ForEachRun(loop, 2, (o, n) =>
        {
            var xs = Scratch<T>.Read(px + o[0], sx, n, 0);
            var ys = sy == 1 ? new Span<T>(py + o[1], n) : Scratch<T>.Get(n, 3);
            UnaryKernels.Forward(op, xs, ys, p);
            Scratch<T>.WriteBack(ys, py + o[1], sy);
        });
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, in TensorView x, in TensorView y, in TensorView dy, in TensorView dx,
        UnaryParams p)
    {
        RequireFloat("unary_backward", dy);
        SameShape("unary_backward", x, dx);
        SameShape("unary_backward", y, dx);
        SameShape("unary_backward", dy, dx);
        if (dy.DType == DType.Float32)
            UnaryBackwardOf<float>(op, x, y, dy, dx, p);
        else
            UnaryBackwardOf<double>(op, x, y, dy, dx, p);
    }

    private void UnaryBackwardOf<T>(UnaryOp op, TensorView x, TensorView y, TensorView dy, TensorView dx,
        UnaryParams p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* px = Ptr<T>(x, "unary_backward"), py = Ptr<T>(y, "unary_backward");
        T* pdy = Ptr<T>(dy, "unary_backward"), pdx = Ptr<T>(dx, "unary_backward");
        var loop = StridedLoop.Create(dx.Shape, [x.Strides, y.Strides, dy.Strides, dx.Strides],
            [x.Offset, y.Offset, dy.Offset, dx.Offset]);
        long sx = loop.InnerStride(0), sy = loop.InnerStride(1), sdy = loop.InnerStride(2), sdx = loop.InnerStride(3);
        RunDriver.ForEachRun(loop, 4, (o, n) =>
        {
            var xs = Scratch<T>.Read(px + o[0], sx, n, 0);
            var ys = Scratch<T>.Read(py + o[1], sy, n, 1);
            var dys = Scratch<T>.Read(pdy + o[2], sdy, n, 2);
            var dxs = sdx == 1 ? new Span<T>(pdx + o[3], n) : Scratch<T>.Get(n, 3);
            UnaryKernels.Backward(op, xs, ys, dys, dxs, p);
            Scratch<T>.WriteBack(dxs, pdx + o[3], sdx);
        });
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("binary", a, y);
        SameShape("binary", b, y);
        switch (y.DType)
        {
            case DType.Float32: BinaryOf<float>(op, a, b, y); break;
            case DType.Float64: BinaryOf<double>(op, a, b, y); break;
            case DType.Int32 when op != BinaryOp.Div: BinaryOf<int>(op, a, b, y); break;
            default: throw new DTypeMismatchException("binary", $"{op} does not support {y}");
        }
    }

    private void BinaryOf<T>(BinaryOp op, TensorView a, TensorView b, TensorView y) where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case BinaryOp.Add: BinaryWith<T, AddOperator<T>>(a, b, y); break;
            case BinaryOp.Sub: BinaryWith<T, SubOperator<T>>(a, b, y); break;
            case BinaryOp.Mul: BinaryWith<T, MulOperator<T>>(a, b, y); break;
            case BinaryOp.Div: BinaryWith<T, DivOperator<T>>(a, b, y); break;
            case BinaryOp.Maximum: BinaryWith<T, MaxOperator<T>>(a, b, y); break;
            case BinaryOp.Minimum: BinaryWith<T, MinOperator<T>>(a, b, y); break;
            default: throw new NotSupportedException(op.ToString());
        }
    }

    private void BinaryWith<T, TOp>(TensorView a, TensorView b, TensorView y)
        where T : unmanaged where TOp : IBinaryOperator<T>
    {
        T* pa = Ptr<T>(a, "binary"), pb = Ptr<T>(b, "binary"), py = Ptr<T>(y, "binary");
        var loop = StridedLoop.Create(y.Shape, [a.Strides, b.Strides, y.Strides], [a.Offset, b.Offset, y.Offset]);
        long sa = loop.InnerStride(0), sb = loop.InnerStride(1), sy = loop.InnerStride(2);
        RunDriver.ForEachRun(loop, 3, (o, n) => BinaryRows.Run<T, TOp>(pa + o[0], sa, pb + o[1], sb, py + o[2], sy, n));
    }

    /// <inheritdoc/>
    public void Compare(CompareOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("compare", a, y);
        SameShape("compare", b, y);
        if (y.DType != DType.Bool)
            throw new DTypeMismatchException("compare", $"the output must be bool, got {y}");
        switch (a.DType)
        {
            case DType.Float32: CompareOf<float>(op, a, b, y); break;
            case DType.Float64: CompareOf<double>(op, a, b, y); break;
            case DType.Int32: CompareOf<int>(op, a, b, y); break;
            case DType.Bool: CompareOf<byte>(op, a, b, y); break;
            default: throw new DTypeMismatchException("compare", $"cannot compare {a}");
        }
    }

    private void CompareOf<T>(CompareOp op, TensorView a, TensorView b, TensorView y) where T : unmanaged, INumber<T>
    {
        var pa = (T*)Own(a);
        var pb = (T*)Own(b);
        var py = Ptr<byte>(y, "compare");
        var loop = StridedLoop.Create(y.Shape, [a.Strides, b.Strides, y.Strides], [a.Offset, b.Offset, y.Offset]);
        long sa = loop.InnerStride(0), sb = loop.InnerStride(1), sy = loop.InnerStride(2);
        RunDriver.ForEachRun(loop, 3, (o, n) =>
        {
            T* ra = pa + o[0], rb = pb + o[1];
            var ry = py + o[2];
            for (var i = 0; i < n; i++)
            {
                T u = ra[i * sa], v = rb[i * sb];
                var r = op switch
                {
                    CompareOp.Equal => u == v,
                    CompareOp.NotEqual => u != v,
                    CompareOp.Less => u < v,
                    CompareOp.LessEqual => u <= v,
                    CompareOp.Greater => u > v,
                    _ => u >= v,
                };
                ry[i * sy] = r ? (byte)1 : (byte)0;
            }
        });
    }

    /// <inheritdoc/>
    public void Where(in TensorView condition, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("where", condition, y);
        SameShape("where", a, y);
        SameShape("where", b, y);
        switch (y.DType)
        {
            case DType.Float32: WhereOf<float>(condition, a, b, y); break;
            case DType.Float64: WhereOf<double>(condition, a, b, y); break;
            case DType.Int32: WhereOf<int>(condition, a, b, y); break;
            case DType.Bool: WhereOf<byte>(condition, a, b, y); break;
            default: throw new DTypeMismatchException("where", $"unsupported {y}");
        }
    }

    private void WhereOf<T>(TensorView c, TensorView a, TensorView b, TensorView y) where T : unmanaged
    {
        var pc = Ptr<byte>(c, "where");
        T* pa = Ptr<T>(a, "where"), pb = Ptr<T>(b, "where"), py = Ptr<T>(y, "where");
        var loop = StridedLoop.Create(y.Shape, [c.Strides, a.Strides, b.Strides, y.Strides],
            [c.Offset, a.Offset, b.Offset, y.Offset]);
        long sc = loop.InnerStride(0), sa = loop.InnerStride(1), sb = loop.InnerStride(2), sy = loop.InnerStride(3);
        RunDriver.ForEachRun(loop, 4, (o, n) =>
        {
            var rc = pc + o[0];
            T* ra = pa + o[1], rb = pb + o[2], ry = py + o[3];
            for (var i = 0; i < n; i++)
                ry[i * sy] = rc[i * sc] != 0 ? ra[i * sa] : rb[i * sb];
        });
    }
}
