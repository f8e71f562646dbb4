// One golden case from the torch-ops fixtures: op name, parameters, inputs, outputs, upstream and gradients.
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoLT5.Tensors;

namespace CoLT5.Tests.Testing;

/// <summary>A fixture tensor: dtype name ("float64", "int64", "bool"), shape and data as doubles.</summary>
public sealed record FixtureTensor(string DType, int[] Shape, double[] Data)
{
    public bool IsFloat => DType == "float64";

    /// <summary>The tensor on a device: floats as <paramref name="floatType"/>, int64 as int32, bool as bool.</summary>
    public Tensor ToTensor(DType floatType, Device? device = null)
    {
        var shape = new Shape(Shape);
        switch (DType)
        {
            case "float64":
                using (var t = Tensor.FromArray<double>(Data, shape, device))
                    return t.To(floatType);
            case "int64":
                return Tensor.FromArray<int>(Data.Select(v => checked((int)v)).ToArray(), shape, device);
            case "bool":
                return Tensor.FromArray<bool>(Data.Select(v => v != 0).ToArray(), shape, device);
            default:
                throw new InvalidDataException($"unknown fixture dtype {DType}");
        }
    }
}

/// <summary>A parsed torch-ops case.</summary>
public sealed class TorchCase
{
    private static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private TorchCase(string name, JsonElement root)
    {
        Name = name;
        Op = root.GetProperty("op").GetString()!;
        Params = root.GetProperty("params").Clone();
        Tolerance = root.GetProperty("tolerance").GetProperty("rel_to_tensor_max").GetDouble();
        Inputs = ReadGroup(root, "inputs");
        Outputs = ReadGroup(root, "outputs");
        Upstream = ReadGroup(root, "upstream");
        Grads = ReadGroup(root, "grads");
    }

    public string Name { get; }
    public string Op { get; }
    public JsonElement Params { get; }
    public double Tolerance { get; }
    public IReadOnlyDictionary<string, FixtureTensor> Inputs { get; }
    public IReadOnlyDictionary<string, FixtureTensor> Outputs { get; }
    public IReadOnlyDictionary<string, FixtureTensor> Upstream { get; }
    public IReadOnlyDictionary<string, FixtureTensor> Grads { get; }

    public static TorchCase Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return new TorchCase(Path.GetFileNameWithoutExtension(path), doc.RootElement);
    }

    public double Number(string name) => Params.GetProperty(name).ValueKind == JsonValueKind.String
        ? double.Parse(Params.GetProperty(name).GetString()!, System.Globalization.NumberFormatInfo.InvariantInfo)
        : Params.GetProperty(name).GetDouble();

    public double? NullableNumber(string name) =>
        Params.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? Number(name) : null;

    public int Int(string name) => Params.GetProperty(name).GetInt32();

    public bool Bool(string name) => Params.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.True;

    private static Dictionary<string, FixtureTensor> ReadGroup(JsonElement root, string group)
    {
        var result = new Dictionary<string, FixtureTensor>();
        if (!root.TryGetProperty(group, out var element))
            return result;
        foreach (var p in element.EnumerateObject())
        {
            var dtype = p.Value.GetProperty("dtype").GetString()!;
            var shape = p.Value.GetProperty("shape").Deserialize<int[]>()!;
            var data = dtype == "bool"
                ? p.Value.GetProperty("data").Deserialize<bool[]>()!.Select(b => b ? 1.0 : 0.0).ToArray()
                : p.Value.GetProperty("data").Deserialize<double[]>(Options)!;
            result[p.Name] = new FixtureTensor(dtype, shape, data);
        }
        return result;
    }
}
