// Gradient checking in float64: analytic gradients from Backward() against central finite differences of
// L = Σ f(x)·r for a fixed random r. Small inputs are checked element by element, large ones along random
// directions (the directional derivative ⟨∇L, v⟩), which still exposes any wrong gradient component.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Tests.Testing;

public static class GradCheck
{
    /// <summary>Largest input checked element by element; bigger ones use random directions.</summary>
    public const int ElementwiseLimit = 48;

    /// <summary>
    /// True when every float64 input's analytic gradient of L = Σ f(inputs)·r matches central differences with
    /// normalised mean squared error below <paramref name="nmse"/>. Inputs must be float64 leaves; those with
    /// RequiresGrad are checked. <paramref name="failure"/> explains a mismatch.
    /// </summary>
    public static bool Holds(Func<Tensor[], Tensor> f, Tensor[] inputs, out string failure, double step = 1e-6,
        double nmse = 1e-6, ulong seed = 17)
    {
        using var scope = DisposeScope.Enter();
        failure = "";
        foreach (var x in inputs)
        {
            if (x.DType != DType.Float64 && x.DType.IsFloatingPoint())
                throw new ArgumentException("GradCheck needs float64 inputs", nameof(inputs));
            x.Grad = null;
        }
        Tensor weights;
        {
            var y = f(inputs);
            weights = Tensor.RandN(y.Shape, new Generator(seed), dtype: DType.Float64);
            var loss = (y * weights).Sum();
            loss.Backward();
        }
        double L()
        {
            using var inner = DisposeScope.Enter();
            using var noGrad = Tensor.NoGrad();
            return (f(inputs) * weights).Sum().Item();
        }

        // Central differences resolve a derivative only to about ε·|L|/h ≈ 1e-10·|L|: a directional derivative is
        // compared on the scale of the analytic gradient, but never on one below 1e-6·max(1, |L|), where a gradient
        // that is exactly 0 (a key no query can tell apart) and rounding noise of 1e-15 would otherwise disagree.
        var floor = 1e-6 * Math.Max(1, Math.Abs(L()));
        var rng = new Generator(seed + 1);
        for (var i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            if (!x.RequiresGrad)
                continue;
            var analytic = x.Grad?.ToArray<double>() ?? new double[x.NumElements];
            if (x.NumElements <= ElementwiseLimit)
            {
                var numeric = new double[x.NumElements];
                for (var j = 0; j < numeric.Length; j++)
                {
                    using var basis = OneHot(x, j);
                    numeric[j] = Directional(L, x, basis, step);
                }
                var e = Nmse(analytic, numeric);
                if (!(e < nmse))
                {
                    failure = $"input {i} {x.Shape}: nmse {e:E2}; analytic [{Preview(analytic)}] vs numeric [{Preview(numeric)}]";
                    return false;
                }
            }
            else
            {
                for (var d = 0; d < 3; d++)
                {
                    using var v = Tensor.RandN(x.Shape, rng, dtype: DType.Float64);
                    var numeric = Directional(L, x, v, step);
                    var exact = analytic.Zip(v.ToArray<double>(), (a, b) => a * b).Sum();
                    var scale = Math.Max(Math.Sqrt(analytic.Sum(a => a * a) * x.NumElements), floor);
                    var e = Math.Pow((exact - numeric) / scale, 2);
                    if (!(e < nmse))
                    {
                        failure = $"input {i} {x.Shape}: direction {d}: analytic {exact:R} vs numeric {numeric:R}";
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static double Directional(Func<double> loss, Tensor x, Tensor direction, double h)
    {
        using var noGrad = Tensor.NoGrad();
        x.AddInPlace(direction, h);
        var plus = loss();
        x.AddInPlace(direction, -2 * h);
        var minus = loss();
        x.AddInPlace(direction, h);
        return (plus - minus) / (2 * h);
    }

    private static Tensor OneHot(Tensor like, int index)
    {
        var data = new double[like.NumElements];
        data[index] = 1;
        return Tensor.FromArray<double>(data, like.Shape);
    }

    /// <summary>‖a − n‖² / ‖n‖² (absolute when the numeric gradient is all but zero).</summary>
    public static double Nmse(double[] analytic, double[] numeric)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < numeric.Length; i++)
        {
            diff += Math.Pow(analytic[i] - numeric[i], 2);
            norm += numeric[i] * numeric[i];
        }
        return norm < 1e-12 ? diff : diff / norm;
    }

    private static string Preview(double[] v) => string.Join(", ", v.Take(6).Select(x => x.ToString("G6")));
}
