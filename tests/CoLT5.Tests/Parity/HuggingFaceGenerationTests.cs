// Generation parity with Hugging Face generate(): greedy sequences and per-step logits, beam search sequences and
// scores (num_beams 3, length_penalty 1, early stopping), for every model folder under COLT5_HF_FIXTURES.
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Generation;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Parity;

public sealed class HuggingFaceGenerationTests
{
    public static TheoryData<string> Models() => HuggingFaceParityTests.Models();

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyAndBeamSearchMatch(string name)
    {
        var dir = Path.Combine(HuggingFaceParityTests.Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "generate.json")));
        using var io = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "io.json")));
        var inputs = io.RootElement.GetProperty("inputs");
        using var model = Checkpoint.Load(dir, DType.Float64);
        using var ids = HuggingFaceParityTests.Ints(inputs.GetProperty("input_ids"));
        var mask = HuggingFaceParityTests.Mask(inputs.GetProperty("attention_mask"));

        var greedy = doc.RootElement.GetProperty("greedy");
        var result = SequenceGenerator.Generate(model, ids, mask, Options(greedy.GetProperty("params")),
            TestContext.Current.CancellationToken);
        var want = greedy.GetProperty("sequences").Deserialize<int[][]>()!;
        AssertSequences($"{name} greedy", want, result.Sequences);
        var scores = greedy.GetProperty("scores");
        var (_, flat) = HuggingFaceParityTests.Read(scores);
        var got = result.StepLogits!.SelectMany(step => step.SelectMany(row => row)).ToArray();
        Closeness.Assert($"{name} greedy step logits", got, flat, 1e-10);

        foreach (var key in new[] { "beam", "beam_all3" })
        {
            var beam = doc.RootElement.GetProperty(key);
            var beamResult = SequenceGenerator.Generate(model, ids, mask, Options(beam.GetProperty("params")),
                TestContext.Current.CancellationToken);
            AssertSequences($"{name} {key}", beam.GetProperty("sequences").Deserialize<int[][]>()!, beamResult.Sequences);
            var wantScores = beam.GetProperty("sequences_scores").Deserialize<double[]>()!;
            for (var i = 0; i < wantScores.Length; i++)
                Assert.True(Math.Abs(beamResult.Scores![i] - wantScores[i]) <= 2e-6 * Math.Max(1, Math.Abs(wantScores[i])),
                    $"{name} {key} score {i}: {beamResult.Scores[i]:R} vs {wantScores[i]:R} (HF stores float32)");
        }
    }

    private static GenerationOptions Options(JsonElement p) => new()
    {
        MaxNewTokens = p.GetProperty("max_new_tokens").GetInt32(),
        NumBeams = p.GetProperty("num_beams").GetInt32(),
        LengthPenalty = p.TryGetProperty("length_penalty", out var lp) ? lp.GetDouble() : 1.0,
        EarlyStopping = !p.TryGetProperty("early_stopping", out var es) || es.GetBoolean(),
        NumReturnSequences = p.TryGetProperty("num_return_sequences", out var nr) ? nr.GetInt32() : 1,
    };

    private static void AssertSequences(string what, int[][] want, int[][] got)
    {
        Assert.True(want.Length == got.Length, $"{what}: {got.Length} sequences, expected {want.Length}");
        for (var i = 0; i < want.Length; i++)
            Assert.True(want[i].SequenceEqual(got[i]),
                $"{what} row {i}: got [{string.Join(", ", got[i])}], expected [{string.Join(", ", want[i])}]");
    }
}
