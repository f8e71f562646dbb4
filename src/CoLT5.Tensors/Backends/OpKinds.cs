// The op vocabulary of the backend contract: elementwise, comparison, reduction and random-fill kinds.
namespace CoLT5.Tensors.Backends;

/// <summary>Elementwise unary ops. Scalar parameters travel in <see cref="UnaryParams"/>.</summary>
public enum UnaryOp
{
    /// <summary>-x</summary>
    Neg,
    /// <summary>e^x</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>1/√x</summary>
    Rsqrt,
    /// <summary>x^p (p = <see cref="UnaryParams.A"/>)</summary>
    Pow,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>1/(1+e^-x)</summary>
    Sigmoid,
    /// <summary>max(x, 0); gradient 0 at 0</summary>
    Relu,
    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</summary>
    GeluTanh,
    /// <summary>|x|; gradient sign(x), 0 at 0</summary>
    Abs,
    /// <summary>min(max(x, A), B); NaN bounds are absent; gradient passes for A ≤ x ≤ B</summary>
    Clamp,
    /// <summary>A·x + B</summary>
    Affine,
    /// <summary>x²</summary>
    Square,
}

/// <summary>Scalar parameters of a unary op (meaning depends on the op).</summary>
/// <param name="A">First parameter (exponent, lower bound, scale).</param>
/// <param name="B">Second parameter (upper bound, shift).</param>
public readonly record struct UnaryParams(double A = 0, double B = 0);

/// <summary>Elementwise binary ops with numpy broadcasting (resolved into strides before the kernel).</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a - b</summary>
    Sub,
    /// <summary>a · b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>max(a, b)</summary>
    Maximum,
    /// <summary>min(a, b)</summary>
    Minimum,
}

/// <summary>Elementwise comparisons producing <see cref="DType.Bool"/>.</summary>
public enum CompareOp
{
    /// <summary>a == b</summary>
    Equal,
    /// <summary>a != b</summary>
    NotEqual,
    /// <summary>a &lt; b</summary>
    Less,
    /// <summary>a &lt;= b</summary>
    LessEqual,
    /// <summary>a &gt; b</summary>
    Greater,
    /// <summary>a &gt;= b</summary>
    GreaterEqual,
}

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp
{
    /// <summary>Σ x</summary>
    Sum,
    /// <summary>Σ x / n</summary>
    Mean,
    /// <summary>max x</summary>
    Max,
    /// <summary>min x</summary>
    Min,
    /// <summary>log Σ e^x, stable (max-shifted); -inf for an all -inf row</summary>
    LogSumExp,
}

/// <summary>Distributions for <see cref="IBackend.Random"/>.</summary>
public enum RandomKind
{
    /// <summary>Uniform on [A, B).</summary>
    Uniform,
    /// <summary>Normal with mean A and standard deviation B.</summary>
    Normal,
    /// <summary>1 with probability A, else 0.</summary>
    Bernoulli,
}
