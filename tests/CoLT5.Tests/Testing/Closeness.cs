// Comparison of computed values with golden ones: max |got − want| ≤ tol · max |want| over finite entries, and
// exact agreement of non-finite entries. Failures print the worst element.
using System;
using System.Collections.Generic;
using System.Linq;

namespace CoLT5.Tests.Testing;

public static class Closeness
{
    /// <summary>The relative error max|got − want| / max|want| over finite entries (0 when both are all zero).</summary>
    public static double RelativeError(IReadOnlyList<double> got, IReadOnlyList<double> want, out int worst)
    {
        worst = -1;
        double scale = 0, err = 0;
        for (var i = 0; i < want.Count; i++)
        {
            if (double.IsFinite(want[i]))
                scale = Math.Max(scale, Math.Abs(want[i]));
        }
        for (var i = 0; i < want.Count; i++)
        {
            if (!double.IsFinite(want[i]))
            {
                if (!want[i].Equals(got[i]))
                {
                    worst = i;
                    return double.PositiveInfinity;
                }
                continue;
            }
            var e = Math.Abs(got[i] - want[i]);
            if (!(e <= err))
            {
                err = double.IsNaN(e) ? double.PositiveInfinity : e;
                worst = i;
            }
        }
        return scale == 0 ? err : err / scale;
    }

    /// <summary>Asserts closeness within <paramref name="tolerance"/> (relative to the tensor's max), plus an
    /// optional absolute slack for results that are tiny because large terms cancel.</summary>
    public static void Assert(string what, IReadOnlyList<double> got, IReadOnlyList<double> want, double tolerance,
        double absolute = 0)
    {
        Xunit.Assert.True(got.Count == want.Count, $"{what}: {got.Count} values, expected {want.Count}");
        var rel = RelativeError(got, want, out var worst);
        Record($"{what}: relative error {rel:E2} (tolerance {tolerance:E0})");
        var scale = want.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (!(rel <= tolerance) && !(scale > 0 && rel * scale <= absolute))
            Xunit.Assert.Fail($"{what}: relative error {rel:E3} > {tolerance:E1}; worst element {worst}: " +
                $"got {got[worst]:R}, want {want[worst]:R}");
    }

    private static readonly object ReportGate = new();

    // With COLT5_ERROR_REPORT=FILE every comparison appends its measured error there (docs/testing.md quotes it).
    private static void Record(string line)
    {
        var path = Environment.GetEnvironmentVariable("COLT5_ERROR_REPORT");
        if (string.IsNullOrEmpty(path))
            return;
        lock (ReportGate)
            System.IO.File.AppendAllText(path, line + Environment.NewLine);
    }

    /// <summary>Asserts exact equality of integer-valued data.</summary>
    public static void AssertExact(string what, IReadOnlyList<double> got, IReadOnlyList<double> want)
    {
        Xunit.Assert.True(got.Count == want.Count, $"{what}: {got.Count} values, expected {want.Count}");
        var bad = Enumerable.Range(0, want.Count).FirstOrDefault(i => got[i] != want[i], -1);
        Xunit.Assert.True(bad < 0, bad < 0 ? "" : $"{what}: element {bad} is {got[bad]}, expected {want[bad]}");
    }
}
