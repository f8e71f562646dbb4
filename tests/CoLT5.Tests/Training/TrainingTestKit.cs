// Small, fast training setups for trainer and CLI tests: a micro model with the byte vocabulary, a miniature
// retrieval task, options that exercise dropout / accumulation / clipping, and a temporary directory.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using CoLT5.Model.Configuration;
using CoLT5.Model.Data;
using CoLT5.Model.Training;
using CoLT5.Tests.Model;
using Xunit;

namespace CoLT5.Tests.Training;

public static class TrainingTestKit
{
    /// <summary>The running test's cancellation token.</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The micro model of the model tests, with the byte tokenizer's vocabulary.</summary>
    public static ModelConfig MicroConfig(string encoder = "colt5") =>
        ModelTestKit.Micro(encoder) with { VocabSize = 384 };

    /// <summary>A miniature retrieval task: 4–8 records, the answer at least 20 tokens before the question.</summary>
    public static TrainingDataSpec MiniRetrieval(ulong seed = 7)
    {
        var task = new KeyValueRetrievalOptions { MinDocumentLength = 40, MaxDocumentLength = 80, MinDistance = 20 };
        return TrainingDataSpec.ForRetrieval(seed, task) with { InputMultiple = 8, TargetMultiple = 4 };
    }

    /// <summary>Options that touch every stateful part: dropout, accumulation, clipping, a warm-up schedule.</summary>
    public static TrainingOptions Options(OptimizerKind optimizer = OptimizerKind.Adafactor, long steps = 6) => new()
    {
        Optimizer = optimizer,
        LearningRate = 1e-2,
        Schedule = ScheduleKind.Cosine,
        WarmupSteps = 2,
        MaxSteps = steps,
        BatchSize = 2,
        GradientAccumulation = 2,
        ClipNorm = 0.5,
        Dropout = 0.1,
        ZLoss = 1e-4,
        EvalSize = 0,
        LogEvery = 1,
        Seed = 11,
    };

    /// <summary>Collects the loss of every step a run reports.</summary>
    public sealed class LossRecorder : IProgress<TrainingProgress>
    {
        public List<double> Losses { get; } = [];

        public List<TrainingProgress> Reports { get; } = [];

        public Action<TrainingProgress>? OnReport { get; init; }

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            if (value.Event == TrainingEvent.Step)
                Losses.Add(value.Loss);
            OnReport?.Invoke(value);
        }
    }

    /// <summary>Bit patterns of every parameter, by name.</summary>
    public static Dictionary<string, long[]> Snapshot(Trainer trainer) =>
        trainer.Model.Parameters.Parameters.ToDictionary(p => p.Name,
            p => p.Tensor.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits).ToArray());
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "colt5-train")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
