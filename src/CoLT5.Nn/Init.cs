// Parameter initialisers: how a fresh parameter is filled (T5 uses normals with per-matrix standard deviations).
namespace CoLT5.Nn;

/// <summary>How a new parameter is filled.</summary>
public abstract record Init
{
    /// <summary>N(0, std²).</summary>
    public static Init Normal(double std) => new NormalInit(std);

    /// <summary>All zeros.</summary>
    public static Init Zeros { get; } = new ConstantInit(0);

    /// <summary>All ones (norm scales).</summary>
    public static Init Ones { get; } = new ConstantInit(1);

    /// <summary>Uniform on [low, high).</summary>
    public static Init Uniform(double low, double high) => new UniformInit(low, high);
}

/// <summary>N(0, std²).</summary>
public sealed record NormalInit(double Std) : Init;

/// <summary>A constant.</summary>
public sealed record ConstantInit(double Value) : Init;

/// <summary>Uniform on [Low, High).</summary>
public sealed record UniformInit(double Low, double High) : Init;
