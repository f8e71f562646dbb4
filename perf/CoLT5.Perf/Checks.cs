// Shared correctness measures of the perf cases: each case compares its result against a reference before timing.
using System;

namespace CoLT5.Perf;

public static class Checks
{
    /// <summary>max |got − want| / max |want| (the error relative to the tensor's largest magnitude).</summary>
    public static double RelativeToMax(double[] got, double[] want)
    {
        ArgumentNullException.ThrowIfNull(got);
        ArgumentNullException.ThrowIfNull(want);
        if (got.Length != want.Length)
            throw new ArgumentException($"compared arrays differ in length ({got.Length} vs {want.Length})");
        double worst = 0, scale = 0;
        for (var i = 0; i < want.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(got[i] - want[i]));
            scale = Math.Max(scale, Math.Abs(want[i]));
        }
        return worst / Math.Max(scale, 1e-30);
    }
}
