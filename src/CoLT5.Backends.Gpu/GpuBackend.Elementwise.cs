// Elementwise op family on the GPU: unary ops and their derivatives, binary ops, comparisons and where, each one
// strided kernel launch from Kernels/elementwise.h.
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, in TensorView x, in TensorView y, UnaryParams p)
    {
        SameShape("unary", x, y);
        RequireFloat32("unary", x);
        RequireFloat32("unary", y);
        if (y.NumElements == 0)
            return;
        var layout = KernelLayout.Of(x, y);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, x);
        View(ref args, y);
        args.Struct(layout);
        AddParams(ref args, p);
        Launch1D(Kernels.Get("elementwise.h", "unary", TypeDefines(DType.Float32, "unary")), layout.N, args);
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, in TensorView x, in TensorView y, in TensorView dy, in TensorView dx,
        UnaryParams p)
    {
        SameShape("unary backward", dy, dx);
        RequireFloat32("unary backward", dy);
        RequireFloat32("unary backward", dx);
        if (dx.NumElements == 0)
            return;
        // x or y may be absent (a null buffer) when the derivative does not read it: stand dy in for it.
        var xv = x.Buffer is null ? dy : x;
        var yv = y.Buffer is null ? dy : y;
        var layout = KernelLayout.Of(xv, yv, dy, dx);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, xv);
        View(ref args, yv);
        View(ref args, dy);
        View(ref args, dx);
        args.Struct(layout);
        AddParams(ref args, p);
        Launch1D(Kernels.Get("elementwise.h", "unary_backward", TypeDefines(DType.Float32, "unary backward")), layout.N, args);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("binary", a, y);
        SameShape("binary", b, y);
        SameDType("binary", a, b);
        SameDType("binary", a, y);
        if (y.NumElements == 0)
            return;
        var layout = KernelLayout.Of(a, b, y);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, a);
        View(ref args, b);
        View(ref args, y);
        args.Struct(layout);
        Launch1D(Kernels.Get("elementwise.h", "binary", TypeDefines(y.DType, "binary")), layout.N, args);
    }

    /// <inheritdoc/>
    public void Compare(CompareOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("compare", a, y);
        SameShape("compare", b, y);
        SameDType("compare", a, b);
        if (y.DType != DType.Bool)
            throw new DTypeMismatchException("compare", $"the result must be bool, got {y}");
        if (y.NumElements == 0)
            return;
        var layout = KernelLayout.Of(a, b, y);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, a);
        View(ref args, b);
        View(ref args, y);
        args.Struct(layout);
        Launch1D(Kernels.Get("elementwise.h", "compare", TypeDefines(a.DType, "compare")), layout.N, args);
    }

    /// <inheritdoc/>
    public void Where(in TensorView condition, in TensorView a, in TensorView b, in TensorView y)
    {
        SameShape("where", condition, y);
        SameShape("where", a, y);
        SameShape("where", b, y);
        SameDType("where", a, b);
        SameDType("where", a, y);
        if (condition.DType != DType.Bool)
            throw new DTypeMismatchException("where", $"the condition must be bool, got {condition}");
        if (y.NumElements == 0)
            return;
        var layout = KernelLayout.Of(condition, a, b, y);
        var args = new KernelArgs();
        View(ref args, condition);
        View(ref args, a);
        View(ref args, b);
        View(ref args, y);
        args.Struct(layout);
        Launch1D(Kernels.Get("elementwise.h", "where_select", TypeDefines(y.DType, "where")), layout.N, args);
    }

    // Unary parameters: a and b as floats, plus whether each is present (Clamp's NaN means "no bound").
    private static void AddParams(ref KernelArgs args, UnaryParams p)
    {
        args.Float(double.IsNaN(p.A) ? 0f : (float)p.A);
        args.Float(double.IsNaN(p.B) ? 0f : (float)p.B);
        args.Int(double.IsNaN(p.A) ? 0 : 1);
        args.Int(double.IsNaN(p.B) ? 0 : 1);
    }

    private static void SameDType(string op, in TensorView a, in TensorView b)
    {
        if (a.DType != b.DType)
            throw new DTypeMismatchException(op, $"the views must share a dtype, got {a} and {b}");
    }
}
