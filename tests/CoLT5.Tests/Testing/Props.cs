// Runs FsCheck properties from xunit facts (FsCheck.Xunit does not exist here) with a shared configuration.
using System;
using FsCheck;
using FsCheck.Fluent;

namespace CoLT5.Tests.Testing;

public static class Props
{
    /// <summary>Tests per property: enough to cover ranks, odd sizes and broadcasts, small enough for CI.</summary>
    public const int Tests = 40;

    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(Tests).WithQuietOnSuccess(true);

    /// <summary>Checks that <paramref name="body"/> holds for generated values; failures throw with the case.</summary>
    public static void Check<T>(Gen<T> gen, Action<T> body) =>
        Prop.ForAll(gen.ToArbitrary(), (T value) =>
        {
            body(value);
            return true;
        }).Check(Config);

    /// <summary>Asserts a gradient check, failing with its explanation.</summary>
    public static void Grad(Func<CoLT5.Tensors.Tensor[], CoLT5.Tensors.Tensor> f, params CoLT5.Tensors.Tensor[] inputs)
    {
        if (!GradCheck.Holds(f, inputs, out var why))
            throw new InvalidOperationException("gradient mismatch: " + why);
    }
}
