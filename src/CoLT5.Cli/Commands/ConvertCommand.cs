// `colt5 convert`: reads a checkpoint (ours or a Hugging Face T5 / LongT5 folder), optionally changes the model, and
// writes it as a new checkpoint folder in Hugging Face's layout: the float format and shard size are options, and
// the folder's spiece.model travels along. Changes: the decoder's cross-attention from its key/value heads to G
// grouped heads (MHA → GQA, or MQA with G = 1) by mean-pooling each group (the GQA paper's conversion), to be
// followed by a short uptraining run.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Conversion;
using CoLT5.Tensors;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Cli.Commands;

/// <summary>Builds and runs <c>colt5 convert</c>.</summary>
internal static class ConvertCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = CliOptions.Text("--checkpoint", "The checkpoint to convert (required)", "DIR");
        var output = CliOptions.Text("--out", "Where to write the converted checkpoint (required, must not exist)",
            "DIR");
        var kvHeads = CliOptions.Int("--cross-kv-heads",
            "Key/value heads of the decoder's cross-attention after conversion: 1 = MQA, G = GQA (must divide the " +
            "current count); each group becomes the mean of its heads", 1);
        var store = CliOptions.Text("--store", "Float format of the written weights: f32 (default), bf16, f16 or f64",
            "FORMAT");
        var shardSize = CliOptions.Text("--max-shard-size",
            "Split the weights into shards of at most this size plus model.safetensors.index.json, e.g. 2GB, " +
            "500MB or a byte count (default 5GB, Hugging Face's)", "SIZE");
        var to = CliOptions.Text("--to", "colt5: initialise a CoLT5 model from this T5 / LongT5 one (light and " +
            "heavy branches split its heads and FF units, fresh routers)", "TYPE");
        var lightHeads = CliOptions.Int("--light-heads", "With --to colt5: light attention heads (default H/3)", 1);
        var dffLight = CliOptions.Int("--d-ff-light", "With --to colt5: light FF width (default d_ff/2)", 1);
        var dffHeavy = CliOptions.Int("--d-ff-heavy", "With --to colt5: heavy FF width (default 4·d_ff)", 1);
        var radius = CliOptions.Int("--local-radius", "With --to colt5: light attention radius (default: the " +
            "source's, or 127 for T5)", 1);
        var seed = CliOptions.Seed();
        var command = new Command("convert", "Re-save a checkpoint or Hugging Face T5 / LongT5 folder in Hugging " +
            "Face's layout (float format, shards, tokenizer), optionally pooling cross-attention heads (MHA → GQA / " +
            "MQA) or initialising a CoLT5 model from a T5 / LongT5 one.")
        {
            checkpoint, output, kvHeads, store, shardSize, to, lightHeads, dffLight, dffHeavy, radius, seed,
        };
        command.SetAction(result =>
        {
            var source = result.GetValue(checkpoint) ?? throw new CliException("--checkpoint DIR is required");
            var target = result.GetValue(output) ?? throw new CliException("--out DIR is required");
            if (Directory.Exists(target) || File.Exists(target))
                throw new CliException($"--out {target} already exists; choose a new directory");
            var format = ParseFormat(result.GetValue(store));
            var options = new CheckpointSaveOptions
            {
                StoreFloatsAs = format,
                MaxShardBytes = ParseSize(result.GetValue(shardSize)),
                SentencePieceModel = CheckpointTokenizer.HasSentencePiece(source)
                    ? Path.Combine(source, Checkpoint.SentencePieceFile)
                    : null,
            };
            using var model = Checkpoint.Load(source, format == SafetensorsDType.F64 ? DType.Float64 : DType.Float32,
                Device.Cpu);
            var changes = new List<string>();
            var colt5 = result.GetValue(to) switch
            {
                null => false,
                "colt5" => true,
                var other => throw new CliException($"--to {other}: the only target is colt5"),
            };
            if (!colt5 && (result.GetValue(lightHeads) ?? result.GetValue(dffLight) ?? result.GetValue(dffHeavy) ??
                    result.GetValue(radius)) is not null)
                throw new CliException("--light-heads, --d-ff-light, --d-ff-heavy and --local-radius need --to colt5");
            var stages = new List<Seq2SeqModel>();
            try
            {
                var converted = model;
                if (colt5)
                {
                    var conversion = new CoLT5ConversionOptions
                    {
                        LightHeads = result.GetValue(lightHeads),
                        DFfLight = result.GetValue(dffLight),
                        DFfHeavy = result.GetValue(dffHeavy),
                        LocalRadius = result.GetValue(radius),
                        Seed = result.GetValue(seed) ?? 1,
                    };
                    try
                    {
                        converted = CoLT5Initialization.FromDense(converted, conversion);
                    }
                    catch (ArgumentException e)
                    {
                        throw new CliException($"--to colt5: {e.Message}");
                    }
                    stages.Add(converted);
                    var c = converted.Config;
                    changes.Add($"{model.Config.Encoder.CliName()} → colt5 ({c.LightHeads} light + {c.HeavyHeads} " +
                        $"heavy heads, light FF {c.DFfLight}, heavy FF {c.DFfHeavy}, fresh routers)");
                }
                if (result.GetValue(kvHeads) is { } groups)
                {
                    changes.Add($"cross-attention key/value heads {converted.Config.NumCrossKvHeads} → {groups} " +
                        $"({converted.Config.NumHeads} query heads)");
                    converted = KvHeadPooling.PoolCrossAttention(converted, groups);
                    stages.Add(converted);
                }
                Checkpoint.Save(converted, target, options);
            }
            finally
            {
                foreach (var stage in stages)
                    stage.Dispose();
            }
            context.Out.WriteLine($"converted {source}: {(changes.Count == 0 ? "re-saved" : string.Join("; ", changes))}; " +
                $"wrote {target} ({format.FileName()} weights{(options.SentencePieceModel is null ? "" : ", spiece.model")}).");
            if (changes.Count > 0)
                context.Out.WriteLine($"Uptrain it before use: colt5 train --uptrain {target} --steps N (trains 5% of " +
                    "N steps by default, as the GQA and CoLT5 papers uptrain).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static SafetensorsDType ParseFormat(string? text) => text?.ToLowerInvariant() switch
    {
        null or "f32" or "float32" => SafetensorsDType.F32,
        "bf16" or "bfloat16" => SafetensorsDType.BF16,
        "f16" or "float16" => SafetensorsDType.F16,
        "f64" or "float64" => SafetensorsDType.F64,
        _ => throw new CliException($"--store {text}: expected f32, bf16, f16 or f64"),
    };

    /// <summary>A shard size: bytes, or a number with KB / MB / GB (decimal, as Hugging Face reads them) or KiB /
    /// MiB / GiB.</summary>
    internal static long ParseSize(string? text)
    {
        if (text is null)
            return CheckpointSaveOptions.DefaultMaxShardBytes;
        var t = text.Trim();
        (string Suffix, long Scale)[] units =
            [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000),
             ("GB", 1_000_000_000), ("B", 1)];
        foreach (var (suffix, scale) in units)
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) &&
                value > 0 && value * scale < long.MaxValue)
            {
                return Math.Max(1, (long)(value * scale));
            }
        }
        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0)
            return bytes;
        throw new CliException($"--max-shard-size {text}: expected a size such as 2GB, 500MB or a byte count");
    }
}
