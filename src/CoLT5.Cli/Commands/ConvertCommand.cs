// `colt5 convert`: turns a checkpoint into another layout and saves it as a new checkpoint. Today: the decoder's
// cross-attention from its current key/value heads to G grouped heads (MHA → GQA, or MQA with G = 1) by
// mean-pooling each group (the GQA paper's conversion), to be followed by a short uptraining run.
using System.CommandLine;
using System.IO;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Conversion;
using CoLT5.Tensors;

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
        var command = new Command("convert", "Convert a checkpoint (MHA → GQA / MQA cross-attention) into a new one.")
        {
            checkpoint, output, kvHeads,
        };
        command.SetAction(result =>
        {
            var source = result.GetValue(checkpoint) ?? throw new CliException("--checkpoint DIR is required");
            var target = result.GetValue(output) ?? throw new CliException("--out DIR is required");
            var groups = result.GetValue(kvHeads) ?? throw new CliException("--cross-kv-heads G is required");
            if (Directory.Exists(target) || File.Exists(target))
                throw new CliException($"--out {target} already exists; choose a new directory");
            using var model = Checkpoint.Load(source, DType.Float32, Device.Cpu);
            var from = model.Config.NumCrossKvHeads;
            using var converted = KvHeadPooling.PoolCrossAttention(model, groups);
            Checkpoint.Save(converted, target);
            context.Out.WriteLine($"converted {source}: cross-attention key/value heads {from} → {groups} " +
                $"({model.Config.NumHeads} query heads); wrote {target}. Uptrain it briefly before use (the GQA " +
                "paper uses about 5% of the original pre-training steps).");
            return ExitCodes.Ok;
        });
        return command;
    }
}
