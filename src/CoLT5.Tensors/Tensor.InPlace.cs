// In-place updates for optimizers and gradient accumulation. They bump the storage version, so autograd
// refuses to run a backward that would read a saved tensor changed after it was saved.
using System.Linq;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>this += alpha · other (other broadcasts to this shape).</summary>
    public void AddInPlace(Tensor other, double alpha = 1)
    {
        const string name = "add_";
        CheckInPlace(name);
        SameBackend(name, this, other);
        SameDType(name, this, other);
        var b = other.BroadcastView(Shape, name);
        if (alpha != 1)
        {
            using var scaled = Empty(Backend, Shape, DType);
            Backend.Unary(UnaryOp.Affine, b, scaled.View, new UnaryParams(alpha, 0));
            Backend.Binary(BinaryOp.Add, View, scaled.View, View);
        }
        else
        {
            Backend.Binary(BinaryOp.Add, View, b, View);
        }
        BumpVersion();
    }

    /// <summary>this *= other elementwise (other broadcasts to this shape).</summary>
    public void MulInPlace(Tensor other)
    {
        const string name = "mul_";
        CheckInPlace(name);
        SameBackend(name, this, other);
        SameDType(name, this, other);
        Backend.Binary(BinaryOp.Mul, View, other.BroadcastView(Shape, name), View);
        BumpVersion();
    }

    /// <summary>this = scale · this + shift.</summary>
    public void AffineInPlace(double scale, double shift = 0)
    {
        CheckInPlace("affine_");
        Backend.Unary(UnaryOp.Affine, View, View, new UnaryParams(scale, shift));
        BumpVersion();
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void FillInPlace(double value)
    {
        CheckInPlace("fill_");
        Backend.Fill(View, value);
        BumpVersion();
    }

    private void CheckInPlace(string op)
    {
        ThrowIfDisposed();
        if (GradMode.IsEnabled && RequiresGrad)
            throw new AutogradException(op, $"in-place change of a tensor that requires grad ({Shape}); " +
                "do it inside Tensor.NoGrad()");
        if (!IsContiguous && strides.Any(s => s == 0))
            throw new TensorException(op, $"cannot write in place into a broadcast (expanded) view of shape {Shape}");
    }
}
