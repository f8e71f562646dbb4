// One greedy decoding step of CoLT5-Base over a long encoder output, with multi-query (1 kv head) and multi-head
// (12 kv heads) cross-attention: a memory-bandwidth case. Each step streams the decoder's weights and every layer's
// cached cross keys/values; GB/s counts those bytes. The check: logits of a prefix fed token by token through the
// caches equal the same prefix fed at once.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class DecodeCase
{
    public static List<CaseResult> Run(string[] args, int threads, bool quick)
    {
        CpuBackend.Threads = threads;
        var n = Program.Option(args, "--n") is { } option ? int.Parse(option, System.Globalization.CultureInfo.InvariantCulture)
            : quick ? 2048 : 16384;
        var results = new List<CaseResult>();
        var heads = Presets.Get("base").NumHeads;
        foreach (var kvHeads in new[] { 1, heads })
        {
            var config = Presets.Get("base").WithEncoder("colt5") with { NumCrossKvHeads = kvHeads };
            using var model = Seq2SeqModel.Create(config, 1);
            var check = CheckCache(model);
            var g = new Generator(2);
            using var encoded = Tensor.RandN(new Shape(1, n, config.DModel), g);
            var mask = new bool[n];
            Array.Fill(mask, true);
            using var state = model.StartDecoding(encoded, mask);
            using var token = Tensor.FromArray<int>([0], new Shape(1, 1));
            for (var i = 0; i < 4; i++)
            {
                using var warm = model.DecodeLogits(token, state);
            }
            var (timing, _) = Harness.Measure(() =>
            {
                using var logits = model.DecodeLogits(token, state);
            }, minRuns: 10, minSeconds: 2);
            var stats = ModelStatistics.Parameters(config);
            var weightBytes = 4.0 * (stats.DecoderMatrices + stats.LmHead);
            var cacheBytes = 4.0 * config.NumDecoderLayers * 2 * kvHeads * n * (double)config.DKv;
            var result = CaseResult.Timed($"decode step {(kvHeads == 1 ? "MQA" : "MHA")}",
                $"encoder {n}, {kvHeads} kv heads, cross K/V {cacheBytes / (1 << 20):F0} MiB", threads, timing, check);
            results.Add(result with { GBps = (weightBytes + cacheBytes) / (timing.MedianMs / 1e3) / 1e9 });
        }
        if (results.Count == 2)
            Console.WriteLine($"MHA / MQA step time: {results[1].MedianMs / results[0].MedianMs:F2}×");
        return results;
    }

    // The cached path (one token at a time) against the whole prefix at once, on a short encoder output.
    private static string CheckCache(Seq2SeqModel model)
    {
        const int n = 64;
        var g = new Generator(3);
        using var encoded = Tensor.RandN(new Shape(1, n, model.Config.DModel), g);
        var mask = new bool[n];
        Array.Fill(mask, true);
        int[] prefix = [0, 17, 42];
        using var whole = model.StartDecoding(encoded, mask);
        using var ids = Tensor.FromArray<int>(prefix, new Shape(1, prefix.Length));
        using var all = model.DecodeLogits(ids, whole);
        var want = all.ToArray<float>();
        using var stepwise = model.StartDecoding(encoded, mask);
        var vocab = model.Config.VocabSize;
        var worst = 0.0;
        var scale = 0.0;
        for (var t = 0; t < prefix.Length; t++)
        {
            using var one = Tensor.FromArray<int>([prefix[t]], new Shape(1, 1));
            using var logits = model.DecodeLogits(one, stepwise);
            var got = logits.ToArray<float>();
            for (var v = 0; v < vocab; v++)
            {
                worst = Math.Max(worst, Math.Abs(got[v] - want[t * vocab + v]));
                scale = Math.Max(scale, Math.Abs(want[t * vocab + v]));
            }
        }
        var rel = worst / Math.Max(scale, 1e-30);
        return rel <= 1e-4 ? $"ok rel={rel:E1}" : $"FAIL cached vs whole prefix rel={rel:E2}";
    }
}
