// Logarithm and cosine written with IEEE +, -, *, / only, so random normals are bit-identical on every machine
// (libm implementations of log/cos may differ in the last bit between platforms).
using System;

namespace CoLT5.Tensors.Random;

/// <summary>Bit-reproducible elementary functions for the random number generator.</summary>
public static class DeterministicMath
{
    private const double Ln2Hi = 6.93147180369123816490e-01; // upper bits of ln 2 (exact product with small ints)
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>Natural logarithm of a positive, finite, normal double (|error| below 2 ulp).</summary>
    public static double Log(double x)
    {
        if (!(x > 0) || double.IsInfinity(x))
            return x == 0 ? double.NegativeInfinity : double.NaN;
        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        var m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L); // [1, 2)
        if (m > Sqrt2)
        {
            m *= 0.5;
            exponent++;
        }
        // ln m = 2·atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716: odd series to s^23.
        var s = (m - 1.0) / (m + 1.0);
        var s2 = s * s;
        var series = 1.0 / 23;
        for (var k = 21; k >= 1; k -= 2)
            series = 1.0 / k + s2 * series;
        var lnm = 2.0 * s * series;
        return exponent * Ln2Hi + (lnm + exponent * Ln2Lo);
    }

    /// <summary>cos(2π·t) for t in [0, 1), reduced exactly by octant before a Taylor polynomial.</summary>
    public static double CosTwoPi(double t)
    {
        t -= Math.Floor(t);
        var scaled = t * 8.0;                 // exact for the dyadic inputs the generator produces
        var octant = (int)scaled;
        var f = scaled - octant;              // in [0, 1)
        // angle within the octant, in [0, π/4)
        var odd = (octant & 1) == 1;
        var a = (odd ? 1.0 - f : f) * (Math.PI / 4);
        var useSin = octant is 1 or 2 or 5 or 6;
        var value = useSin ? SinSmall(a) : CosSmall(a);
        var negative = octant is 2 or 3 or 4 or 5;
        return negative ? -value : value;
    }

    private static double SinSmall(double a)
    {
        var a2 = a * a;
        var r = 1.0;
        for (var k = 21; k >= 3; k -= 2)
            r = 1.0 - a2 / (k * (k - 1)) * r;
        return a * r;
    }

    private static double CosSmall(double a)
    {
        var a2 = a * a;
        var r = 1.0;
        for (var k = 22; k >= 2; k -= 2)
            r = 1.0 - a2 / (k * (k - 1)) * r;
        return r;
    }
}
