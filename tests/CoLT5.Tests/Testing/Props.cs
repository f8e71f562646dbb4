// Runs FsCheck properties from xunit facts (FsCheck.Xunit does not exist here) with a shared configuration.
// Runs are reproducible: each property's random stream is seeded from its name unless COLT5_PROPERTY_SEED says
// otherwise ("random" for a fresh stream each run, or a number).
using System;
using System.IO;
using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace CoLT5.Tests.Testing;

public static class Props
{
    /// <summary>Tests per property: enough to cover ranks, odd sizes and broadcasts, small enough for CI.</summary>
    public const int Tests = 40;

    /// <summary>Checks that <paramref name="body"/> holds for generated values; failures throw with the case and
    /// the replay seed.</summary>
    public static void Check<T>(Gen<T> gen, Action<T> body, [CallerMemberName] string name = "",
        [CallerFilePath] string file = "")
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(Tests).WithQuietOnSuccess(true);
        if (Seed(Path.GetFileNameWithoutExtension(file) + "." + name) is { } seed)
            config = config.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL),
                FSharpOption<int>.None)));
        Prop.ForAll(gen.ToArbitrary(), (T value) =>
        {
            body(value);
            return true;
        }).Check(config);
    }

    /// <summary>Asserts a gradient check, failing with its explanation.</summary>
    public static void Grad(Func<CoLT5.Tensors.Tensor[], CoLT5.Tensors.Tensor> f, params CoLT5.Tensors.Tensor[] inputs)
    {
        if (!GradCheck.Holds(f, inputs, out var why))
            throw new InvalidOperationException("gradient mismatch: " + why);
    }

    private static ulong? Seed(string property)
    {
        var setting = Environment.GetEnvironmentVariable("COLT5_PROPERTY_SEED");
        if (string.Equals(setting, "random", StringComparison.OrdinalIgnoreCase))
            return null;
        if (ulong.TryParse(setting, out var fixedSeed))
            return fixedSeed;
        var hash = 14695981039346656037UL;                 // FNV-1a of the property's name
        foreach (var ch in property)
            hash = (hash ^ ch) * 1099511628211UL;
        return hash;
    }
}
