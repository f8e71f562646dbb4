// Shared helpers for the optimizer tests: the PyTorch golden file (located without depending on the build folder),
// parameter construction and flat read-back.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;

namespace CoLT5.Tests.Optim;

internal static class OptimTestSupport
{
    private const string GoldenRelative = "tests/CoLT5.Tests/Optim/golden/adamw_torch.json";

    private static readonly Lazy<JsonDocument> Golden = new(() => JsonDocument.Parse(File.ReadAllText(GoldenPath())));

    /// <summary>The parsed golden file written by tests/tools/make_optimizer_goldens.py.</summary>
    public static JsonElement Goldens => Golden.Value.RootElement;

    /// <summary>
    /// COLT5_REPO_ROOT when set; else the repository this source file sits in (scratch builds outside the tree);
    /// else <see cref="FixturePaths.RepositoryRoot"/> (path-mapped CI builds).
    /// </summary>
    public static string GoldenPath([CallerFilePath] string thisFile = "")
    {
        var root = Environment.GetEnvironmentVariable("COLT5_REPO_ROOT");
        if (!string.IsNullOrEmpty(root))
            return Path.Combine(root, GoldenRelative);
        var besideSource = Path.Combine(Path.GetDirectoryName(thisFile) ?? ".", "golden", "adamw_torch.json");
        if (File.Exists(besideSource))
            return besideSource;
        return Path.Combine(FixturePaths.RepositoryRoot, GoldenRelative);
    }

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>A trainable leaf holding <paramref name="values"/>.</summary>
    public static Tensor Param(double[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>A trainable float32 leaf holding <paramref name="values"/>.</summary>
    public static Tensor Param(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Sets <paramref name="parameter"/>'s gradient to a copy of <paramref name="values"/>.</summary>
    public static void SetGrad(Tensor parameter, double[] values)
    {
        var g = Tensor.FromArray(values, parameter.Shape);
        parameter.Grad = parameter.DType == DType.Float64 ? g : ToDType(g, parameter.DType);
    }

    public static List<(string Name, Tensor Tensor)> Named(params Tensor[] tensors) =>
        tensors.Select((t, i) => ($"p{i}", t)).ToList();

    /// <summary>Deterministic pseudo-random values (xorshift, approximately uniform in [-1, 1)).</summary>
    public static double[] Noise(int count, ulong seed)
    {
        var state = seed * 0x9E3779B97F4A7C15UL + 1;
        var result = new double[count];
        for (var i = 0; i < count; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            result[i] = (state >> 11) * (2.0 / (1UL << 53)) - 1;
        }
        return result;
    }

    private static Tensor ToDType(Tensor t, DType dtype)
    {
        using (t)
            return t.To(dtype);
    }
}
