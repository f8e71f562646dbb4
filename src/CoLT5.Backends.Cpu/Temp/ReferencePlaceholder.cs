// TEMPORARY until the reference backend lands.
using System;

namespace CoLT5.Backends.Cpu.Reference;

/// <summary>Placeholder.</summary>
public sealed class ReferenceBackend : CoLT5.Tensors.Backends.IBackend
{
    /// <summary>Placeholder.</summary>
    public ReferenceBackend() => throw new NotSupportedException("reference backend not integrated yet");
#pragma warning disable CS1591
    public CoLT5.Tensors.Device Device => throw new NotSupportedException();
    public string Description => throw new NotSupportedException();
    public CoLT5.Tensors.Backends.IDeviceBuffer Allocate(CoLT5.Tensors.DType dtype, long length) => throw new NotSupportedException();
    public void Upload(ReadOnlySpan<byte> source, CoLT5.Tensors.Backends.IDeviceBuffer destination, long byteOffset) => throw new NotSupportedException();
    public void Download(CoLT5.Tensors.Backends.IDeviceBuffer source, long byteOffset, Span<byte> destination) => throw new NotSupportedException();
    public void Synchronize() => throw new NotSupportedException();
    public void Fill(in CoLT5.Tensors.Backends.TensorView destination, double value) => throw new NotSupportedException();
    public void Copy(in CoLT5.Tensors.Backends.TensorView source, in CoLT5.Tensors.Backends.TensorView destination) => throw new NotSupportedException();
    public void Unary(CoLT5.Tensors.Backends.UnaryOp op, in CoLT5.Tensors.Backends.TensorView x, in CoLT5.Tensors.Backends.TensorView y, CoLT5.Tensors.Backends.UnaryParams p) => throw new NotSupportedException();
    public void UnaryBackward(CoLT5.Tensors.Backends.UnaryOp op, in CoLT5.Tensors.Backends.TensorView x, in CoLT5.Tensors.Backends.TensorView y, in CoLT5.Tensors.Backends.TensorView dy, in CoLT5.Tensors.Backends.TensorView dx, CoLT5.Tensors.Backends.UnaryParams p) => throw new NotSupportedException();
    public void Binary(CoLT5.Tensors.Backends.BinaryOp op, in CoLT5.Tensors.Backends.TensorView a, in CoLT5.Tensors.Backends.TensorView b, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void Compare(CoLT5.Tensors.Backends.CompareOp op, in CoLT5.Tensors.Backends.TensorView a, in CoLT5.Tensors.Backends.TensorView b, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void Where(in CoLT5.Tensors.Backends.TensorView condition, in CoLT5.Tensors.Backends.TensorView a, in CoLT5.Tensors.Backends.TensorView b, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void Reduce(CoLT5.Tensors.Backends.ReduceOp op, in CoLT5.Tensors.Backends.TensorView x, int axis, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void ReduceWithIndex(CoLT5.Tensors.Backends.ReduceOp op, in CoLT5.Tensors.Backends.TensorView x, int axis, in CoLT5.Tensors.Backends.TensorView values, in CoLT5.Tensors.Backends.TensorView indices) => throw new NotSupportedException();
    public void MatMul(in CoLT5.Tensors.Backends.TensorView a, in CoLT5.Tensors.Backends.TensorView b, in CoLT5.Tensors.Backends.TensorView c, double alpha, double beta) => throw new NotSupportedException();
    public void Softmax(in CoLT5.Tensors.Backends.TensorView x, in CoLT5.Tensors.Backends.TensorView y, bool log) => throw new NotSupportedException();
    public void SoftmaxBackward(in CoLT5.Tensors.Backends.TensorView y, in CoLT5.Tensors.Backends.TensorView dy, in CoLT5.Tensors.Backends.TensorView dx, bool log) => throw new NotSupportedException();
    public void RmsNorm(in CoLT5.Tensors.Backends.TensorView x, in CoLT5.Tensors.Backends.TensorView weight, in CoLT5.Tensors.Backends.TensorView y, in CoLT5.Tensors.Backends.TensorView rstd, double eps) => throw new NotSupportedException();
    public void RmsNormBackward(in CoLT5.Tensors.Backends.TensorView x, in CoLT5.Tensors.Backends.TensorView weight, in CoLT5.Tensors.Backends.TensorView rstd, in CoLT5.Tensors.Backends.TensorView dy, in CoLT5.Tensors.Backends.TensorView dx, in CoLT5.Tensors.Backends.TensorView dweight) => throw new NotSupportedException();
    public void CrossEntropy(in CoLT5.Tensors.Backends.TensorView logits, in CoLT5.Tensors.Backends.TensorView targets, in CoLT5.Tensors.Backends.TensorView nll, in CoLT5.Tensors.Backends.TensorView lse, int ignoreIndex) => throw new NotSupportedException();
    public void CrossEntropyBackward(in CoLT5.Tensors.Backends.TensorView logits, in CoLT5.Tensors.Backends.TensorView targets, in CoLT5.Tensors.Backends.TensorView lse, in CoLT5.Tensors.Backends.TensorView gradNll, in CoLT5.Tensors.Backends.TensorView gradLse, in CoLT5.Tensors.Backends.TensorView dlogits, int ignoreIndex) => throw new NotSupportedException();
    public void Gather(in CoLT5.Tensors.Backends.TensorView x, int axis, in CoLT5.Tensors.Backends.TensorView index, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void ScatterAdd(in CoLT5.Tensors.Backends.TensorView destination, int axis, in CoLT5.Tensors.Backends.TensorView index, in CoLT5.Tensors.Backends.TensorView source) => throw new NotSupportedException();
    public void IndexSelect(in CoLT5.Tensors.Backends.TensorView x, int axis, in CoLT5.Tensors.Backends.TensorView index, in CoLT5.Tensors.Backends.TensorView y) => throw new NotSupportedException();
    public void IndexAdd(in CoLT5.Tensors.Backends.TensorView destination, int axis, in CoLT5.Tensors.Backends.TensorView index, in CoLT5.Tensors.Backends.TensorView source) => throw new NotSupportedException();
    public void TopK(in CoLT5.Tensors.Backends.TensorView x, int k, bool largest, in CoLT5.Tensors.Backends.TensorView values, in CoLT5.Tensors.Backends.TensorView indices) => throw new NotSupportedException();
    public void Random(CoLT5.Tensors.Backends.RandomKind kind, ulong seed, ulong offset, in CoLT5.Tensors.Backends.TensorView destination, double a, double b) => throw new NotSupportedException();
    public void Dispose() { }
#pragma warning restore CS1591
}
