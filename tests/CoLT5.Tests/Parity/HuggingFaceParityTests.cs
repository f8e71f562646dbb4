// Parity with Hugging Face transformers: every model folder under COLT5_HF_FIXTURES (default
// ../shared/fixtures/hf-t5) loads through our checkpoint reader and reproduces HF's float64 loss, logits, encoder
// output and gradients.
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using CoLT5.Model.Checkpoints;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Parity;

public sealed class HuggingFaceParityTests
{
    public static string Root => FixturePaths.Resolve("COLT5_HF_FIXTURES", "hf-t5");

    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        if (!Directory.Exists(Root))
            throw new DirectoryNotFoundException($"Hugging Face fixtures not found at {Root} (set COLT5_HF_FIXTURES)");
        foreach (var dir in Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(dir, "io.json")))
                data.Add(Path.GetFileName(dir));
        }
        return data;
    }

    internal static (int[] Shape, double[] Data) Read(JsonElement e) =>
        (e.GetProperty("shape").Deserialize<int[]>()!, e.GetProperty("data").Deserialize<double[]>()!);

    internal static Tensor Ints(JsonElement e)
    {
        var (shape, data) = Read(e);
        return Tensor.FromArray<int>(data.Select(v => (int)v).ToArray(), new Shape(shape));
    }

    internal static bool[] Mask(JsonElement e) => Read(e).Data.Select(v => v != 0).ToArray();

    [Theory]
    [MemberData(nameof(Models))]
    public void LossLogitsEncoderOutputAndGradientsMatch(string name)
    {
        var dir = Path.Combine(Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "io.json")));
        var io = doc.RootElement;
        using var scope = DisposeScope.Enter();
        using var model = Checkpoint.Load(dir, DType.Float64);
        model.Eval();
        var inputs = io.GetProperty("inputs");
        var ids = Ints(inputs.GetProperty("input_ids"));
        var mask = Mask(inputs.GetProperty("attention_mask"));
        var decoderIds = Ints(inputs.GetProperty("decoder_input_ids"));
        var labels = Ints(inputs.GetProperty("labels"));

        var encoded = model.Encode(ids, mask);
        var (encShape, encWant) = Read(io.GetProperty("outputs").GetProperty("encoder_last_hidden_state"));
        Assert.Equal(new Shape(encShape), encoded.Shape);
        // Padded rows of LongT5-local are ill-conditioned in HF itself (every key masked by −1e10): real rows only.
        var encGot = encoded.ToArray<double>();
        var d = encShape[2];
        var realRows = Enumerable.Range(0, encWant.Length).Where(i => mask[i / d]).ToArray();
        Closeness.Assert($"{name} encoder output (real rows)", realRows.Select(i => encGot[i]).ToArray(),
            realRows.Select(i => encWant[i]).ToArray(), 1e-10);

        using var output = model.Forward(ids, mask, decoderIds, labels);
        var (_, logitsWant) = Read(io.GetProperty("outputs").GetProperty("logits"));
        Closeness.Assert($"{name} logits", output.Logits.ToArray<double>(), logitsWant, 1e-10);
        var lossWant = io.GetProperty("outputs").GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(output.Loss!.Item() - lossWant) <= 1e-10 * Math.Max(1, Math.Abs(lossWant)),
            $"{name} loss {output.Loss.Item():R} vs {lossWant:R}");

        output.Loss.Backward();
        foreach (var grad in io.GetProperty("grads").EnumerateObject())
        {
            var parameter = model.Parameters.Find(grad.Name) ?? throw new InvalidDataException($"no parameter {grad.Name}");
            var (_, want) = Read(grad.Value);
            Assert.NotNull(parameter.Grad);
            Closeness.Assert($"{name} grad {grad.Name}", parameter.Grad!.ToArray<double>(), want, 1e-9);
        }
    }
}
