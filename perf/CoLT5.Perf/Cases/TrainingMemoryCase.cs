// Peak memory of training at long inputs: one full training step (forward, backward, AdamW update) of a preset's
// CoLT5 model on a 16k-token input and a 64-token target, in its own process, after one warm-up step, so the peak RSS
// is what a real training run at that length holds (weights, gradients, optimizer state, activations).
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class TrainingMemoryCase
{
    public static List<CaseResult> Run(string[] args, int threads)
    {
        CpuBackend.Threads = threads;
        var preset = Program.Option(args, "--preset") ?? "tiny";
        var n = Program.Option(args, "--n") is { } option
            ? int.Parse(option, System.Globalization.CultureInfo.InvariantCulture)
            : 16384;
        const int targetLength = 64;
        var config = Presets.Get(preset).WithEncoder("colt5");
        using var model = Seq2SeqModel.Create(config, 1);
        model.Train();
        using var optimizer = new AdamW(model.Parameters.Parameters, 1e-4);
        var g = new Generator(2);
        var ids = new int[n];
        for (var i = 0; i < n; i++)
            ids[i] = 3 + g.NextInt(config.VocabSize - 3);
        var target = new int[targetLength];
        for (var i = 0; i < targetLength; i++)
            target[i] = 3 + g.NextInt(config.VocabSize - 3);
        var decoderInput = new int[targetLength];
        Array.Copy(target, 0, decoderInput, 1, targetLength - 1);
        using var input = Tensor.FromArray<int>(ids, new Shape(1, n));
        using var labels = Tensor.FromArray<int>(target, new Shape(1, targetLength));
        using var decoderIds = Tensor.FromArray<int>(decoderInput, new Shape(1, targetLength));
        var mask = new bool[n];
        Array.Fill(mask, true);
        var losses = new List<double>();
        void Step()
        {
            using var scope = DisposeScope.Enter();
            var output = model.Forward(input, mask, decoderIds, labels);
            output.Loss!.Backward();
            losses.Add(output.Loss.Item());
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Step();                                            // warm-up: optimizer state, pooled buffers
        var (timing, _) = Harness.Measure(Step, minRuns: 3, minSeconds: 1);
        var check = losses.TrueForAll(double.IsFinite) ? $"ok loss {losses[0]:F3} → {losses[^1]:F3}" : "FAIL loss not finite";
        return [CaseResult.Timed($"train step {preset} colt5", $"input {n}, target {targetLength}, AdamW", threads,
            timing, check)];
    }
}
