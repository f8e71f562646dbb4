// C# operators for the common elementwise ops (tensor–tensor with broadcasting, tensor–scalar).
namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(Backends.BinaryOp.Add, a, b, "add");

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(Backends.BinaryOp.Sub, a, b, "sub");

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(Backends.BinaryOp.Mul, a, b, "mul");

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(Backends.BinaryOp.Div, a, b, "div");

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double s) => a.Affine(1, s);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double s, Tensor a) => a.Affine(1, s);

    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double s) => a.Affine(1, -s);

    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(double s, Tensor a) => a.Affine(-1, s);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, double s) => a.Affine(s, 0);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(double s, Tensor a) => a.Affine(s, 0);

    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double s) => a.Affine(1 / s, 0);
}
