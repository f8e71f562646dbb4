// The `encoders` command: whole encoder stacks of a preset (embedding, every layer, final norm) in inference, one
// child process per (encoder type, n), and the paper's comparison: measured time ratio against the FLOP ratio of
// spec §4.1, CoLT5 against LongT5 (TGlobal) and T5.
// Usage: encoders [--preset tiny|small|base] [--encoder colt5,longt5-tglobal,…] [--n N[,N…]] [--json FILE]
//        [--threads N] [--max-gib G]
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoLT5.Backends.Cpu;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

/// <summary>One `encoders` record.</summary>
public sealed record EncoderResult
{
    [JsonPropertyName("preset")] public required string Preset { get; init; }
    [JsonPropertyName("encoder")] public required string Encoder { get; init; }
    [JsonPropertyName("n")] public int N { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("median_ms")] public double? MedianMs { get; init; }
    [JsonPropertyName("min_ms")] public double? MinMs { get; init; }
    [JsonPropertyName("max_ms")] public double? MaxMs { get; init; }
    [JsonPropertyName("runs")] public int Runs { get; init; }
    [JsonPropertyName("flops")] public double Flops { get; init; }
    [JsonPropertyName("peak_rss_mb")] public double? PeakRssMb { get; init; }
    [JsonPropertyName("check")] public required string Check { get; init; }
    [JsonPropertyName("note")] public string? Note { get; init; }
}

public static class EncoderSweep
{
    private const int CheckLength = 256;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly string[] AllEncoders = ["t5", "longt5-local", "longt5-tglobal", "colt5"];

    /// <summary>Encoder FLOPs at n: layers × spec §4.1 breakdown (multiply-add = 1, as the paper counts).</summary>
    public static double Flops(ModelConfig config, int n) =>
        config.NumLayers * ModelStatistics.EncoderLayerFlops(config, n).BreakdownFlops;

    /// <summary>Estimated peak memory of our inference forward in GiB: a few (n, d_ff) activations per type; with
    /// <c>COLT5_ATTENTION=composed</c> also full attention's (H, n, n) bias, scores and probabilities and TGlobal's
    /// (H, n, n/16) side logits (the fused attention keeps nothing of that size).</summary>
    public static double EstimateGiB(ModelConfig config, int n)
    {
        var weights = ModelStatistics.Parameters(config).Total * 4.0 / (1 << 30);      // the whole model: an upper bound
        var activations = 8.0 * n * Math.Max(config.DFf, config.DModel) * 4 / (1 << 30);
        var square = AttentionCore.PreferFused ? 0 : config.Encoder switch
        {
            EncoderType.T5 => 4.0 * config.NumHeads * n * (double)n * 4 / (1 << 30),
            EncoderType.LongT5TGlobal => 5.0 * config.NumHeads * n * (n / (double)config.GlobalBlockSize) * 4 / (1 << 30),
            _ => 0,
        };
        return 0.5 + weights + activations + square;
    }

    public static int Run(string[] args, int threads)
    {
        var preset = Program.Option(args, "--preset") ?? "base";
        var encoders = (Program.Option(args, "--encoder") ?? "colt5,longt5-tglobal,t5").Split(',');
        var lengths = (Program.Option(args, "--n") ?? "1024,2048,4096,8192,16384").Split(',')
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var json = Program.Option(args, "--json");
        var maxGiB = Program.Option(args, "--max-gib") is { } g ? double.Parse(g, CultureInfo.InvariantCulture) : 16;
        if (encoders.FirstOrDefault(e => !AllEncoders.Contains(e)) is { } unknown)
        {
            Console.Error.WriteLine($"unknown encoder '{unknown}' (expected {string.Join(", ", AllEncoders)})");
            return 2;
        }
        if (Program.Option(args, "--_case") is { } single)
        {
            var parts = single.Split(':');
            ChildCase.Emit(Measure(parts[0], parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), threads));
            return 0;
        }
        var results = new List<EncoderResult>();
        foreach (var n in lengths)
        {
            foreach (var encoder in encoders)
            {
                var config = Presets.Get(preset).WithEncoder(encoder);
                var estimate = EstimateGiB(config, n);
                var result = estimate > maxGiB
                    ? new EncoderResult
                    {
                        Preset = preset,
                        Encoder = encoder,
                        N = n,
                        Threads = threads,
                        Flops = Flops(config, n),
                        Check = "skipped",
                        Note = $"estimated {estimate:F1} GiB > --max-gib {maxGiB:G}",
                    }
                    : ChildCase.Run<EncoderResult>(["encoders", "--_case", $"{preset}:{encoder}:{n}", "--threads",
                        threads.ToString(CultureInfo.InvariantCulture)], out var failure) ?? new EncoderResult
                        {
                            Preset = preset,
                            Encoder = encoder,
                            N = n,
                            Threads = threads,
                            Flops = Flops(config, n),
                            Check = "FAIL",
                            Note = failure,
                        };
                results.Add(result);
                Console.WriteLine(Row(result));
                if (json is not null)
                    WriteJson(results, json);
            }
        }
        if (json is not null)
            Console.WriteLine($"wrote {json}");
        Console.WriteLine();
        WriteRatios(results);
        return results.Any(r => r.Check.StartsWith("FAIL", StringComparison.Ordinal)) ? 1 : 0;
    }

    // The child: check float32 against float64 on a short input, release that, then time the forward.
    private static EncoderResult Measure(string preset, string encoderName, int n, int threads)
    {
        CpuBackend.Threads = threads;
        var config = Presets.Get(preset).WithEncoder(encoderName) with { DropoutRate = 0 };
        var check = Check(config);
        Harness.ResetPeakRss();                        // the check's float64 copy is not part of the case
        using var store = new ParameterStore(DType.Float32, Device.Cpu, new Generator(1));
        var encoder = Build(store, config);
        using var ids = RandomIds(n, config.VocabSize);
        var mask = Enumerable.Repeat(true, n).ToArray();
        encoder.Eval();
        var (timing, _) = Harness.Measure(() =>
        {
            using var noGrad = Tensor.NoGrad();
            using var hidden = encoder.Forward(ids, mask);
        }, minRuns: 5, minSeconds: 0, warmup: 1, maxRuns: 5);
        return new EncoderResult
        {
            Preset = preset,
            Encoder = encoderName,
            N = n,
            Threads = threads,
            MedianMs = timing.MedianMs,
            MinMs = timing.MinMs,
            MaxMs = timing.MaxMs,
            Runs = timing.Runs,
            Flops = Flops(config, n),
            PeakRssMb = Harness.PeakRssMb(),
            Check = check,
        };
    }

    private static Encoder Build(ParameterStore store, ModelConfig config)
    {
        var embedding = store.Root("shared").Get("weight", new Shape(config.VocabSize, config.DModel), Init.Normal(1));
        return new Encoder(store.Root("encoder"), config, embedding, new Dropout(0, new Generator(0)));
    }

    private static Tensor RandomIds(int n, int vocab)
    {
        var rng = new Generator(5);
        var ids = new int[n];
        for (var i = 0; i < n; i++)
            ids[i] = 3 + rng.NextInt(Math.Min(vocab, 259) - 3);
        return Tensor.FromArray<int>(ids, new Shape(1, n));
    }

    // The same stack in float32 and float64 (identical weights) on 256 tokens: hidden states within 1e-4 of the
    // largest magnitude.
    private static string Check(ModelConfig config)
    {
        using var store32 = new ParameterStore(DType.Float32, Device.Cpu, new Generator(1));
        var encoder32 = Build(store32, config);
        using var store64 = Checks.Float64Copy(store32);
        var encoder64 = Build(store64, config);
        using var ids = RandomIds(CheckLength, config.VocabSize);
        var mask = Enumerable.Repeat(true, CheckLength).ToArray();
        using var noGrad = Tensor.NoGrad();
        encoder32.Eval();
        encoder64.Eval();
        using var got = encoder32.Forward(ids, mask);
        using var want = encoder64.Forward(ids, mask);
        var rel = Checks.RelativeToMax(got.ToDoubleArray(), want.ToDoubleArray());
        return rel <= 1e-4 ? $"ok rel={rel:E1}" : $"FAIL rel={rel:E1}";
    }

    private static string Row(EncoderResult r) =>
        $"{r.Preset,-5} {r.Encoder,-15} {r.N,6} " +
        (r.MedianMs is { } ms
            ? $"{ms,10:F1} ms  min {r.MinMs,10:F1}  {2 * r.Flops / ms / 1e6,6:F0} GFLOP/s  RSS {r.PeakRssMb,6:F0} MiB  {r.Check}"
            : $"{"-",10}     {r.Check} ({r.Note})");

    // For each n: the time and FLOP ratios of every other encoder to colt5 (the paper's "x faster").
    private static void WriteRatios(List<EncoderResult> results)
    {
        Console.WriteLine($"{"n",6} {"vs colt5",-15} {"time ratio",11} {"FLOP ratio",11}");
        foreach (var group in results.GroupBy(r => r.N))
        {
            var colt5 = group.FirstOrDefault(r => r.Encoder == "colt5");
            if (colt5?.MedianMs is not { } baseMs)
                continue;
            foreach (var other in group.Where(r => r.Encoder != "colt5"))
            {
                var time = other.MedianMs is { } ms ? $"{ms / baseMs,10:F2}x" : $"{"-",11}";
                Console.WriteLine($"{group.Key,6} {other.Encoder,-15} {time} {other.Flops / colt5.Flops,10:F2}x");
            }
        }
    }

    private static void WriteJson(List<EncoderResult> results, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(results, Indented));
        File.Move(temp, path, overwrite: true);
    }
}
