// Number and text formatting shared by the commands: counts (1.53M), FLOPs (1.31e11), durations (3m05s),
// and one-line descriptions of a run's data.
using System;
using CoLT5.Model.Training;

namespace CoLT5.Cli.Output;

/// <summary>Human-readable formatting.</summary>
internal static class Format
{
    /// <summary>12345 → "12.3K", 432810240 → "432.8M", 5297281024 → "5297.3M" (the paper's unit).</summary>
    public static string Count(long n) => n switch
    {
        >= 1_000_000 => $"{n / 1e6:F1}M",
        >= 10_000 => $"{n / 1e3:F1}K",
        _ => n.ToString(),
    };

    /// <summary>A FLOP count in scientific notation, "1.31e11".</summary>
    public static string Flops(double flops) => flops.ToString("0.00e0");

    /// <summary>"45s", "3m05s", "1h02m".</summary>
    public static string Duration(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s"
        : $"{t.TotalSeconds:F0}s";

    /// <summary>What a run trains on, in one line.</summary>
    public static string Data(TrainingDataSpec? spec)
    {
        if (spec is null)
            return "caller-supplied";
        if (spec.Kind == TrainingDataKind.Retrieval)
        {
            var task = spec.Retrieval ?? new Model.Data.KeyValueRetrievalOptions();
            return $"built-in key/value retrieval (documents {task.MinDocumentLength}–{task.MaxDocumentLength} " +
                $"tokens, the answer ≥ {task.MinDistance} tokens before the question; seed {spec.Seed})";
        }
        return $"{spec.Path} (byte tokens; held out: " +
            (spec.EvalPath is { } eval ? eval : $"last {spec.HeldOut} records") +
            $"; max lengths {spec.MaxInputLength}/{spec.MaxTargetLength}" + (spec.Truncate ? ", truncated" : "") + ")";
    }
}
