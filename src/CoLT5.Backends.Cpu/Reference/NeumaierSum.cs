// Compensated (Kahan–Babuška–Neumaier) summation: the reference backend's sums carry the rounding error of each
// addition along, so a float64 sum is accurate to about one rounding of the exact result, whatever the length.
using System;

namespace CoLT5.Backends.Cpu.Reference;

/// <summary>A running sum with a compensation term for the low-order bits lost by each addition.</summary>
internal struct NeumaierSum
{
    private double sum;
    private double compensation;

    /// <summary>Adds <paramref name="value"/>.</summary>
    public void Add(double value)
    {
        var t = sum + value;
        if (Math.Abs(sum) >= Math.Abs(value))
            compensation += (sum - t) + value;
        else
            compensation += (value - t) + sum;
        sum = t;
    }

    /// <summary>The sum. Once the running sum is ±∞ or NaN it stays so, and the compensation is ignored.</summary>
    public readonly double Value => double.IsFinite(sum) ? sum + compensation : sum;
}
