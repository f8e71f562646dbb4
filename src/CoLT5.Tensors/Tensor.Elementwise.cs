// Elementwise ops (unary, binary with numpy broadcasting, scalar, comparison, where) and their backward nodes.
using System;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    // ---- unary ---------------------------------------------------------------------------------------------

    /// <summary>-x.</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg, "neg");

    /// <summary>e^x.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp, "exp");

    /// <summary>ln x.</summary>
    public Tensor Log() => Unary(UnaryOp.Log, "log");

    /// <summary>√x.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt, "sqrt");

    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt, "rsqrt");

    /// <summary>x^<paramref name="exponent"/> for a scalar exponent.</summary>
    public Tensor Pow(double exponent) => Unary(UnaryOp.Pow, "pow", new UnaryParams(exponent));

    /// <summary>x².</summary>
    public Tensor Square() => Unary(UnaryOp.Square, "square");

    /// <summary>tanh x.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh, "tanh");

    /// <summary>1 / (1 + e^-x).</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid, "sigmoid");

    /// <summary>max(x, 0) (gradient 0 at 0).</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu, "relu");

    /// <summary>GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public Tensor GeluTanh() => Unary(UnaryOp.GeluTanh, "gelu_tanh");

    /// <summary>|x| (gradient sign(x), 0 at 0).</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs, "abs");

    /// <summary>Clamps into [min, max]; a null bound is absent. The gradient passes where min ≤ x ≤ max.</summary>
    public Tensor Clamp(double? min = null, double? max = null) =>
        Unary(UnaryOp.Clamp, "clamp", new UnaryParams(min ?? double.NaN, max ?? double.NaN));

    /// <summary>scale·x + shift.</summary>
    public Tensor Affine(double scale, double shift) => Unary(UnaryOp.Affine, "affine", new UnaryParams(scale, shift));

    private Tensor Unary(UnaryOp op, string name, UnaryParams p = default)
    {
        RequireFloat(name);
        var y = Empty(Backend, Shape, DType);
        Backend.Unary(op, View, y.View, p);
        return Recording(this) ? y.Attach(new UnaryBackward(op, name, this, y, p)) : y;
    }

    private sealed class UnaryBackward : GradFn
    {
        private readonly UnaryOp op;
        private readonly UnaryParams p;
        private readonly Tensor? x, y;

        public UnaryBackward(UnaryOp op, string name, Tensor x, Tensor y, UnaryParams p) : base(x)
        {
            this.op = op;
            this.p = p;
            Name = name + "_backward";
            // Keep only what the derivative reads: the output for exp/sqrt/rsqrt/tanh/sigmoid, else the input.
            if (op is UnaryOp.Exp or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Tanh or UnaryOp.Sigmoid)
                this.y = Save(y);
            else if (op is not (UnaryOp.Neg or UnaryOp.Affine))
                this.x = Save(x);
        }

        public override string Name { get; }

        public override Tensor?[] Backward(Tensor grad)
        {
            var dx = Empty(grad.Backend, grad.Shape, grad.DType);
            var xv = (x ?? y ?? grad).View;
            var yv = (y ?? x ?? grad).View;
            grad.Backend.UnaryBackward(op, xv, yv, grad.View, dx.View, p);
            return [dx];
        }
    }

    // ---- binary --------------------------------------------------------------------------------------------

    /// <summary>this + other (broadcasting).</summary>
    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, this, other, "add");

    /// <summary>this - other (broadcasting).</summary>
    public Tensor Sub(Tensor other) => Binary(BinaryOp.Sub, this, other, "sub");

    /// <summary>this · other (broadcasting).</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, this, other, "mul");

    /// <summary>this / other (broadcasting).</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, this, other, "div");

    /// <summary>Elementwise max (broadcasting); at ties each input gets half the gradient.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, this, other, "maximum");

    /// <summary>Elementwise min (broadcasting); at ties each input gets half the gradient.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, this, other, "minimum");

    /// <summary>this + s.</summary>
    public Tensor Add(double s) => Affine(1, s);

    /// <summary>this · s.</summary>
    public Tensor Mul(double s) => Affine(s, 0);

    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b, string name)
    {
        var backend = SameBackend(name, a, b);
        SameDType(name, a, b);
        var shape = Shape.Broadcast(a.Shape, b.Shape, name);
        var y = Empty(backend, shape, a.DType);
        backend.Binary(op, a.BroadcastView(shape, name), b.BroadcastView(shape, name), y.View);
        return Recording(a, b) ? y.Attach(new BinaryBackward(op, name, a, b)) : y;
    }

    private sealed class BinaryBackward : GradFn
    {
        private readonly BinaryOp op;
        private readonly Shape aShape, bShape;
        private readonly Tensor? a, b;

        public BinaryBackward(BinaryOp op, string name, Tensor a, Tensor b) : base(a, b)
        {
            this.op = op;
            Name = name + "_backward";
            aShape = a.Shape;
            bShape = b.Shape;
            if (op is not (BinaryOp.Add or BinaryOp.Sub))
            {
                this.a = Save(a);
                this.b = Save(b);
            }
        }

        public override string Name { get; }

        public override Tensor?[] Backward(Tensor grad)
        {
            Tensor? ga = null, gb = null;
            switch (op)
            {
                case BinaryOp.Add:
                    ga = NeedsGrad(0) ? grad.SumTo(aShape) : null;
                    gb = NeedsGrad(1) ? grad.SumTo(bShape) : null;
                    break;
                case BinaryOp.Sub:
                    ga = NeedsGrad(0) ? grad.SumTo(aShape) : null;
                    gb = NeedsGrad(1) ? grad.Neg().SumTo(bShape) : null;
                    break;
                case BinaryOp.Mul:
                    ga = NeedsGrad(0) ? (grad * b!).SumTo(aShape) : null;
                    gb = NeedsGrad(1) ? (grad * a!).SumTo(bShape) : null;
                    break;
                case BinaryOp.Div:
                    ga = NeedsGrad(0) ? (grad / b!).SumTo(aShape) : null;
                    // d(a/b)/db = -a/b²
                    gb = NeedsGrad(1) ? (grad * a! / b!.Square()).Neg().SumTo(bShape) : null;
                    break;
                case BinaryOp.Maximum:
                case BinaryOp.Minimum:
                    // weight 1 where this input wins, 1/2 at ties, 0 where it loses (PyTorch convention)
                    var wins = op == BinaryOp.Maximum ? CompareOp.Greater : CompareOp.Less;
                    using (var aWins = Compare(wins, a!, b!, "maximum_backward").To(grad.DType))
                    using (var ties = Compare(CompareOp.Equal, a!, b!, "maximum_backward").To(grad.DType))
                    using (var weightA = aWins + ties * 0.5)
                    {
                        ga = NeedsGrad(0) ? (grad * weightA).SumTo(aShape) : null;
                        gb = NeedsGrad(1) ? (grad * (1.0 - weightA)).SumTo(bShape) : null;
                    }
                    break;
            }
            return [ga, gb];
        }
    }

    // ---- comparisons and selection --------------------------------------------------------------------------

    /// <summary>this == other, elementwise, as bool (broadcasting).</summary>
    public Tensor Eq(Tensor other) => Compare(CompareOp.Equal, this, other, "eq");

    /// <summary>this != other, elementwise, as bool (broadcasting).</summary>
    public Tensor Ne(Tensor other) => Compare(CompareOp.NotEqual, this, other, "ne");

    /// <summary>this &lt; other, elementwise, as bool (broadcasting).</summary>
    public Tensor Lt(Tensor other) => Compare(CompareOp.Less, this, other, "lt");

    /// <summary>this &lt;= other, elementwise, as bool (broadcasting).</summary>
    public Tensor Le(Tensor other) => Compare(CompareOp.LessEqual, this, other, "le");

    /// <summary>this &gt; other, elementwise, as bool (broadcasting).</summary>
    public Tensor Gt(Tensor other) => Compare(CompareOp.Greater, this, other, "gt");

    /// <summary>this &gt;= other, elementwise, as bool (broadcasting).</summary>
    public Tensor Ge(Tensor other) => Compare(CompareOp.GreaterEqual, this, other, "ge");

    /// <summary>this == s, as bool.</summary>
    public Tensor Eq(double s) => CompareScalar(CompareOp.Equal, s, "eq");

    /// <summary>this != s, as bool.</summary>
    public Tensor Ne(double s) => CompareScalar(CompareOp.NotEqual, s, "ne");

    /// <summary>this &lt; s, as bool.</summary>
    public Tensor Lt(double s) => CompareScalar(CompareOp.Less, s, "lt");

    /// <summary>this &gt; s, as bool.</summary>
    public Tensor Gt(double s) => CompareScalar(CompareOp.Greater, s, "gt");

    /// <summary>this &gt;= s, as bool.</summary>
    public Tensor Ge(double s) => CompareScalar(CompareOp.GreaterEqual, s, "ge");

    /// <summary>this &lt;= s, as bool.</summary>
    public Tensor Le(double s) => CompareScalar(CompareOp.LessEqual, s, "le");

    private Tensor CompareScalar(CompareOp op, double s, string name)
    {
        using var scalar = Empty(Backend, Shape.Scalar, DType);
        Backend.Fill(scalar.View, s);
        return Compare(op, this, scalar, name);
    }

    private static Tensor Compare(CompareOp op, Tensor a, Tensor b, string name)
    {
        var backend = SameBackend(name, a, b);
        SameDType(name, a, b);
        var shape = Shape.Broadcast(a.Shape, b.Shape, name);
        var y = Empty(backend, shape, DType.Bool);
        backend.Compare(op, a.BroadcastView(shape, name), b.BroadcastView(shape, name), y.View);
        return y;
    }

    /// <summary>Elementwise <paramref name="condition"/> ? <paramref name="a"/> : <paramref name="b"/>
    /// (all three broadcast together).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        const string name = "where";
        ArgumentNullException.ThrowIfNull(condition);
        if (condition.DType != DType.Bool)
            throw new DTypeMismatchException(name, $"the condition must be bool, not {condition.DType.Name()}");
        var backend = SameBackend(name, a, b);
        SameBackend(name, condition, a);
        SameDType(name, a, b);
        var shape = Shape.Broadcast(Shape.Broadcast(condition.Shape, a.Shape, name), b.Shape, name);
        var y = Empty(backend, shape, a.DType);
        backend.Where(condition.BroadcastView(shape, name), a.BroadcastView(shape, name),
            b.BroadcastView(shape, name), y.View);
        return Recording(a, b) ? y.Attach(new WhereBackward(condition, a, b)) : y;
    }

    /// <summary>Replaces elements where <paramref name="mask"/> is true by <paramref name="value"/>
    /// (mask broadcasts to this shape).</summary>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        using var fill = Empty(Backend, Shape.Scalar, DType);
        Backend.Fill(fill.View, value);
        var y = Where(mask, fill, this);
        if (y.Shape != Shape)
        {
            var shape = y.Shape;
            y.Dispose();
            throw new ShapeMismatchException("masked_fill", Shape, mask.Shape,
                $"the mask must broadcast to the tensor's shape, not widen it to {shape}");
        }
        return y;
    }

    private sealed class WhereBackward : GradFn
    {
        private readonly Tensor condition;
        private readonly Shape aShape, bShape;

        public WhereBackward(Tensor condition, Tensor a, Tensor b) : base(a, b)
        {
            this.condition = Save(condition);
            aShape = a.Shape;
            bShape = b.Shape;
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            using var zero = Empty(grad.Backend, Shape.Scalar, grad.DType);
            grad.Backend.Fill(zero.View, 0);
            var ga = NeedsGrad(0) ? Where(condition, grad, zero).SumTo(aShape) : null;
            var gb = NeedsGrad(1) ? Where(condition, zero, grad).SumTo(bShape) : null;
            return [ga, gb];
        }
    }

    // ---- dtype conversion ----------------------------------------------------------------------------------

    /// <summary>A copy converted to another dtype (the same tensor object is never returned).</summary>
    public Tensor To(DType dtype)
    {
        var y = Empty(Backend, Shape, dtype);
        Backend.Copy(View, y.View);
        return Recording(this) && dtype.IsFloatingPoint() ? y.Attach(new CastBackward(this)) : y;
    }

    private sealed class CastBackward(Tensor x) : GradFn(x)
    {
        private readonly DType dtype = x.DType;

        public override Tensor?[] Backward(Tensor grad) => [grad.To(dtype)];
    }

    // ---- argument checks -----------------------------------------------------------------------------------

    private void RequireFloat(string op)
    {
        if (!DType.IsFloatingPoint())
            throw new DTypeMismatchException(op, $"needs a floating-point tensor, got {DType.Name()} {Shape}");
    }

    private static IBackend SameBackend(string op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!ReferenceEquals(a.Backend, b.Backend))
            throw new DeviceMismatchException(op, a.Device, b.Device);
        return a.Backend;
    }

    private static void SameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new DTypeMismatchException(op, $"dtypes differ: {a.DType.Name()} {a.Shape} and " +
                $"{b.DType.Name()} {b.Shape}; convert one with To(DType)");
    }
}
