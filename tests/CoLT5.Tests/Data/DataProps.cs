// Runs FsCheck properties for the data pipeline from xunit facts: 100 cases each, reproducibly seeded from the
// property's name (COLT5_PROPERTY_SEED overrides, as for the shared Props helper).
using System;
using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace CoLT5.Tests.Data;

public static class DataProps
{
    public const int Tests = 100;

    /// <summary>Checks <paramref name="property"/> on generated values; failures throw with the case.</summary>
    public static void Check<T>(Gen<T> gen, Func<T, bool> property, [CallerMemberName] string name = "")
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(Tests).WithQuietOnSuccess(true);
        if (Seed("Data." + name) is { } seed)
            config = config.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL),
                FSharpOption<int>.None)));
        Prop.ForAll(gen.ToArbitrary(), property).Check(config);
    }

    private static ulong? Seed(string property)
    {
        var setting = Environment.GetEnvironmentVariable("COLT5_PROPERTY_SEED");
        if (string.Equals(setting, "random", StringComparison.OrdinalIgnoreCase))
            return null;
        if (ulong.TryParse(setting, out var fixedSeed))
            return fixedSeed;
        var hash = 14695981039346656037UL;
        foreach (var ch in property)
            hash = (hash ^ ch) * 1099511628211UL;
        return hash;
    }
}
