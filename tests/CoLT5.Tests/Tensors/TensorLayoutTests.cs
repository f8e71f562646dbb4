// Shapes, strides and views: which layout ops share storage, which copy, and how broadcasting resolves.
using System;
using CoLT5.Tensors;
using Xunit;

namespace CoLT5.Tests.Tensors;

public sealed class TensorLayoutTests
{
    private static Tensor Range(params int[] shape)
    {
        var n = 1;
        foreach (var d in shape)
            n *= d;
        var data = new double[n];
        for (var i = 0; i < n; i++)
            data[i] = i;
        return Tensor.FromArray<double>(data, new Shape(shape));
    }

    [Fact]
    public void ViewsShareStorageWithoutCopying()
    {
        using var x = Range(2, 3, 4);
        using var t = x.Transpose(0, 2);
        Assert.False(t.IsContiguous);
        Assert.Equal(new long[] { 1, 4, 12 }, t.Strides.ToArray());
        using var n = x.Narrow(1, 1, 2);
        Assert.Equal(4, n.Offset);
        using var e = Range(3).Unsqueeze(0).Expand(4, 3);
        Assert.Equal(new long[] { 0, 1 }, e.Strides.ToArray());
        using (Tensor.NoGrad())
            x.AffineInPlace(1, 100);             // visible through every view
        // t[1, 0, 1] (flat 1·6 + 0·2 + 1) is x[1, 0, 1] = 1·12 + 0·4 + 1, plus the 100 added in place
        Assert.Equal(100.0 + 13, t.ToArray<double>()[7]);
    }

    [Fact]
    public void ReshapeIsAViewWhenTheLayoutAllowsAndACopyOtherwise()
    {
        using var x = Range(4, 6);
        using var split = x.Reshape(2, 2, 6);          // contiguous → view
        Assert.Equal(x.Offset, split.Offset);
        using var t = x.Transpose(0, 1);               // (6, 4) strides (1, 6)
        using var merged = t.Reshape(24);               // not expressible as a view → copy
        Assert.True(merged.IsContiguous);
        Assert.Equal(t.ToArray<double>(), merged.ToArray<double>());
        using var inner = t.Reshape(3, 2, 4);           // splitting a dimension of a transposed view stays a view
        Assert.False(inner.IsContiguous);
        Assert.Equal(t.ToArray<double>(), inner.ToArray<double>());
        Assert.Throws<InvalidShapeException>(() => x.Reshape(5, 5));
        Assert.Throws<InvalidShapeException>(() => x.Reshape(-1, -1));
    }

    [Fact]
    public void BroadcastingFollowsNumpyRulesAndNamesBothShapes()
    {
        using var a = Range(2, 1, 3);
        using var b = Range(4, 1);
        using var y = a + b;
        Assert.Equal(new Shape(2, 4, 3), y.Shape);
        using var c = Range(2, 5);
        var error = Assert.Throws<ShapeMismatchException>(() => a + c);
        Assert.Contains("(2, 1, 3)", error.Message, StringComparison.Ordinal);
        Assert.Contains("(2, 5)", error.Message, StringComparison.Ordinal);
        Assert.Contains("add", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadArgumentsGetTypedErrorsNamingTheOp()
    {
        using var x = Range(2, 3);
        Assert.Contains("sum", Assert.Throws<AxisException>(() => x.Sum(2)).Message, StringComparison.Ordinal);
        using var f = Tensor.FromArray(new float[] { 1, 2, 3 });
        using var d = Tensor.FromArray(new double[] { 1, 2, 3 });
        Assert.Contains("float32", Assert.Throws<DTypeMismatchException>(() => f + d).Message, StringComparison.Ordinal);
        using var r = Tensor.FromArray(new double[] { 1, 2, 3 }).To(Device.Reference);
        Assert.Throws<DeviceMismatchException>(() => d + r);
        using var m = Range(3, 4);
        var mm = Assert.Throws<ShapeMismatchException>(() => x.MatMul(m.Transpose(0, 1)));
        Assert.Contains("matmul", mm.Message, StringComparison.Ordinal);
        using var ids = Tensor.FromArray(new[] { 0, 5 });
        Assert.Throws<TensorIndexException>(() => x.IndexSelect(1, ids));
        using var disposed = Range(2);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.Sum());
    }

    [Fact]
    public void CatSplitStackRoundTrip()
    {
        using var x = Range(3, 5);
        var parts = x.Split([1, 4], 1);
        using var back = Tensor.Cat(parts, 1);
        Assert.Equal(x.ToArray<double>(), back.ToArray<double>());
        using var stacked = Tensor.Stack(parts[..1], 0);
        Assert.Equal(new Shape(1, 3, 1), stacked.Shape);
        foreach (var p in parts)
            p.Dispose();
    }

    [Fact]
    public void DTypeConversionsRoundTrip()
    {
        using var x = Tensor.FromArray(new double[] { 1.5, -2.25, 3e10 });
        using var f = x.To(DType.Float32);
        using var i = x.To(DType.Int32);
        using var b = x.To(DType.BFloat16);
        Assert.Equal(new float[] { 1.5f, -2.25f, 3e10f }, f.ToArray<float>());
        Assert.Equal(new[] { 1, -2, int.MaxValue }, i.ToArray<int>());
        // bf16 keeps 8 significant bits: 3e10 (float 0x50DF8476) rounds up to 0x50E0 = 30064771072
        Assert.Equal(new[] { 1.5, -2.25, 30064771072 }, b.ToDoubleArray());
    }
}
