// Elementwise kernels of the reference backend: unary ops and their derivatives (PyTorch subgradient conventions),
// binary ops on broadcast views, comparisons and where.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>√(2/π), the GELU tanh-approximation scale.</summary>
    private static readonly double GeluBeta = Math.Sqrt(2.0 / Math.PI);

    /// <summary>The cubic coefficient of the GELU tanh approximation.</summary>
    private const double GeluKappa = 0.044715;

    /// <inheritdoc/>
    public void Unary(UnaryOp op, in TensorView x, in TensorView y, UnaryParams p)
    {
        const string name = "unary";
        var hx = Host(x, name, "x");
        var hy = Host(y, name, "y");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "y", y, x);
        RequireShape(name, "y", y, x.Shape);
        var walkX = hx.Walk();
        var walkY = hy.Walk();
        while (walkY.MoveNext() && walkX.MoveNext())
            hy[walkY.Offset] = UnaryValue(op, hx[walkX.Offset], p);
    }

    /// <summary>
    /// dx = dy·op'(·). Reads x (the op's input) for Log, Pow, Relu, GeluTanh, Abs, Clamp and Square, y (the op's
    /// output) for Exp, Sqrt, Rsqrt, Tanh and Sigmoid, and neither for Neg and Affine.
    /// </summary>
    public void UnaryBackward(UnaryOp op, in TensorView x, in TensorView y, in TensorView dy, in TensorView dx,
        UnaryParams p)
    {
        const string name = "unary_backward";
        var hx = Host(x, name, "x");
        var hy = Host(y, name, "y");
        var hdy = Host(dy, name, "dy");
        var hdx = Host(dx, name, "dx");
        RequireFloat(name, "dy", dy);
        RequireFloat(name, "x", x);
        RequireFloat(name, "y", y);
        RequireSameDType(name, "dx", dx, dy);
        RequireShape(name, "x", x, dy.Shape);
        RequireShape(name, "y", y, dy.Shape);
        RequireShape(name, "dx", dx, dy.Shape);
        var walkX = hx.Walk();
        var walkY = hy.Walk();
        var walkDy = hdy.Walk();
        var walkDx = hdx.Walk();
        while (walkDx.MoveNext() && walkDy.MoveNext() && walkX.MoveNext() && walkY.MoveNext())
            hdx[walkDx.Offset] = UnaryGradient(op, hx[walkX.Offset], hy[walkY.Offset], hdy[walkDy.Offset], p);
    }

    /// <summary>y = a op b; a, b, y share a shape (broadcasting is already in a's and b's strides) and a dtype.
    /// Integer tensors compute in float64 and convert back like a C cast.</summary>
    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        const string name = "binary";
        var ha = Host(a, name, "a");
        var hb = Host(b, name, "b");
        var hy = Host(y, name, "y");
        RequireSameDType(name, "b", b, a);
        RequireSameDType(name, "y", y, a);
        RequireShape(name, "a", a, y.Shape);
        RequireShape(name, "b", b, y.Shape);
        var walkA = ha.Walk();
        var walkB = hb.Walk();
        var walkY = hy.Walk();
        while (walkY.MoveNext() && walkA.MoveNext() && walkB.MoveNext())
            hy[walkY.Offset] = BinaryValue(op, ha[walkA.Offset], hb[walkB.Offset]);
    }

    /// <summary>y = (a op b) as bool, IEEE semantics: every comparison with NaN is false except NotEqual.</summary>
    public void Compare(CompareOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        const string name = "compare";
        var ha = Host(a, name, "a");
        var hb = Host(b, name, "b");
        var hy = Host(y, name, "y");
        RequireSameDType(name, "b", b, a);
        RequireDType(name, "y", y, DType.Bool);
        RequireShape(name, "a", a, y.Shape);
        RequireShape(name, "b", b, y.Shape);
        var walkA = ha.Walk();
        var walkB = hb.Walk();
        var walkY = hy.Walk();
        while (walkY.MoveNext() && walkA.MoveNext() && walkB.MoveNext())
        {
            double va = ha[walkA.Offset], vb = hb[walkB.Offset];
            var result = op switch
            {
                CompareOp.Equal => va == vb,
                CompareOp.NotEqual => va != vb,
                CompareOp.Less => va < vb,
                CompareOp.LessEqual => va <= vb,
                CompareOp.Greater => va > vb,
                CompareOp.GreaterEqual => va >= vb,
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown comparison"),
            };
            hy[walkY.Offset] = result ? 1 : 0;
        }
    }

    /// <inheritdoc/>
    public void Where(in TensorView condition, in TensorView a, in TensorView b, in TensorView y)
    {
        const string name = "where";
        var hc = Host(condition, name, "condition");
        var ha = Host(a, name, "a");
        var hb = Host(b, name, "b");
        var hy = Host(y, name, "y");
        RequireDType(name, "condition", condition, DType.Bool);
        RequireSameDType(name, "b", b, a);
        RequireSameDType(name, "y", y, a);
        RequireShape(name, "condition", condition, y.Shape);
        RequireShape(name, "a", a, y.Shape);
        RequireShape(name, "b", b, y.Shape);
        var walkC = hc.Walk();
        var walkA = ha.Walk();
        var walkB = hb.Walk();
        var walkY = hy.Walk();
        while (walkY.MoveNext() && walkC.MoveNext() && walkA.MoveNext() && walkB.MoveNext())
            hy[walkY.Offset] = hc[walkC.Offset] != 0 ? ha[walkA.Offset] : hb[walkB.Offset];
    }

    /// <summary>op(x) in float64. NaN propagates through every op (relu and clamp included).</summary>
    internal static double UnaryValue(UnaryOp op, double x, UnaryParams p) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Rsqrt => 1.0 / Math.Sqrt(x),
        UnaryOp.Pow => Math.Pow(x, p.A),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
        UnaryOp.Relu => Math.Max(x, 0.0),
        UnaryOp.GeluTanh => x * GeluGate(x).S,
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Clamp => Clamp(x, p.A, p.B),
        UnaryOp.Affine => p.A * x + p.B,
        UnaryOp.Square => x * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op"),
    };

    /// <summary>
    /// dy·op'(x), following PyTorch: relu passes dy where x &gt; 0 is not false (x ≤ 0 gives 0, NaN passes),
    /// abs multiplies by sign(x) with sign(0) = 0, clamp passes dy where lo ≤ x ≤ hi (absent bounds ignored) and
    /// gives 0 elsewhere, pow with exponent 0 gives 0.
    /// </summary>
    internal static double UnaryGradient(UnaryOp op, double x, double y, double dy, UnaryParams p) => op switch
    {
        UnaryOp.Neg => -dy,
        UnaryOp.Exp => dy * y,
        UnaryOp.Log => dy / x,
        UnaryOp.Sqrt => dy / (2.0 * y),
        UnaryOp.Rsqrt => -0.5 * dy * y * y * y,
        UnaryOp.Pow => p.A == 0 ? 0.0 : dy * (p.A * Math.Pow(x, p.A - 1.0)),
        UnaryOp.Tanh => dy * (1.0 - y * y),
        UnaryOp.Sigmoid => dy * y * (1.0 - y),
        UnaryOp.Relu => x <= 0 ? 0.0 : dy,
        UnaryOp.GeluTanh => dy * GeluTanhDerivative(x),
        UnaryOp.Abs => dy * Sign(x),
        UnaryOp.Clamp => (double.IsNaN(p.A) || x >= p.A) && (double.IsNaN(p.B) || x <= p.B) ? dy : 0.0,
        UnaryOp.Affine => dy * p.A,
        UnaryOp.Square => dy * 2.0 * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op"),
    };

    /// <summary>a op b in float64; maximum and minimum propagate NaN.</summary>
    internal static double BinaryValue(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Maximum => Math.Max(a, b),
        BinaryOp.Minimum => Math.Min(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown binary op"),
    };

    /// <summary>min(max(x, lo), hi) where a NaN bound is absent; NaN x stays NaN.</summary>
    private static double Clamp(double x, double lo, double hi)
    {
        var y = x;
        if (!double.IsNaN(lo))
            y = Math.Max(y, lo);
        if (!double.IsNaN(hi))
            y = Math.Min(y, hi);
        return y;
    }

    /// <summary>sign(x): -1, 0 or 1, and NaN for NaN (Math.Sign throws on NaN).</summary>
    private static double Sign(double x) => x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : double.NaN;

    /// <summary>
    /// d/dx of 0.5·x·(1 + tanh(u)) with u = β(x + κx³): 0.5(1 + tanh u) + 0.5·x·(1 − tanh² u)·β(1 + 3κx²).
    /// </summary>
    // 0.5·(1 + tanh u) = σ(2u) and 1 − tanh² u = 4·σ(2u)·(1 − σ(2u)), u = β(x + κx³). Both σ and 1 − σ are formed
    // from e^(−2|u|) without subtracting from 1, so the tails keep full relative precision (0.5·x·(1 + tanh u)
    // loses every digit once tanh u is within an ulp of −1).
    private static (double S, double OneMinusS) GeluGate(double x)
    {
        var u = GeluBeta * (x + GeluKappa * x * x * x);
        var q = Math.Exp(-2.0 * Math.Abs(u));
        return u >= 0 ? (1.0 / (1.0 + q), q / (1.0 + q)) : (q / (1.0 + q), 1.0 / (1.0 + q));
    }

    private static double GeluTanhDerivative(double x)
    {
        var (s, oneMinusS) = GeluGate(x);
        return s + 2.0 * x * s * oneMinusS * GeluBeta * (1.0 + 3.0 * GeluKappa * x * x);
    }
}
