// `colt5 info`: parameter counts (in full, as the spec's table counts, and by kind) and FLOPs per encoder layer at a
// given length (the spec §4.1 formula and this configuration's breakdown), plus all six encoders side by side.
// Everything is computed from the configuration alone, so XL is instant.
using System.CommandLine;
using System.IO;
using System.Linq;
using CoLT5.Cli.Output;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;

namespace CoLT5.Cli.Commands;

/// <summary>Builds and runs <c>colt5 info</c>.</summary>
internal static class InfoCommand
{
    public static Command Create(CliContext context)
    {
        var preset = CliOptions.Text("--preset", "tiny (default), small, base, large or xl", "NAME");
        var encoder = CliOptions.Text("--encoder", "colt5 (default), t5, longt5-local, longt5-tglobal, fnet or " +
            "sparse-mixer", "NAME");
        var checkpoint = CliOptions.Text("--checkpoint", "Describe this checkpoint's config.json instead", "DIR");
        var length = CliOptions.Int("--length", "Input length n for the FLOP counts (default 16384)", 1);
        var command = new Command("info", "Parameter count and FLOPs per encoder layer of a preset or checkpoint.")
        {
            preset, encoder, checkpoint, length,
        };
        command.SetAction(result =>
        {
            var dir = result.GetValue(checkpoint);
            var name = result.GetValue(preset);
            if (dir is not null && name is not null)
                throw new CliException("give either --preset or --checkpoint, not both");
            ModelConfig config;
            if (dir is not null)
            {
                Checkpoint.Recover(dir);                 // finish a save interrupted after its commit point
                var path = Path.Combine(dir, Checkpoint.ConfigFileName);
                if (!File.Exists(path))
                    throw new CliException($"checkpoint {dir}: {Checkpoint.ConfigFileName} is missing");
                config = ConfigFile.Read(path);
            }
            else
            {
                config = Presets.Get(name ?? "tiny");
            }
            if (result.GetValue(encoder) is { } e)
                config = config.WithEncoder(e);
            Write(context.Out, config, dir ?? name ?? "tiny", result.GetValue(length) ?? 16384);
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static void Write(TextWriter w, ModelConfig config, string source, int n)
    {
        var p = ModelStatistics.Parameters(config);
        w.WriteLine($"model: {source}, {config.Encoder.CliName()} encoder (d_model {config.DModel}, " +
            $"d_kv {config.DKv}, {config.NumLayers}+{config.NumDecoderLayers} layers, {config.NumHeads} heads, " +
            $"d_ff {config.DFf}, vocab {config.VocabSize}, cross-attention kv heads {config.NumCrossKvHeads})");
        if (config.Encoder == EncoderType.CoLT5)
            w.WriteLine($"colt5: light heads {config.LightHeads}, heavy heads {config.HeavyHeads}, light FF " +
                $"{config.DFfLight}, heavy FF {config.DFfHeavy}, local radius {config.LocalRadius}; at n = {n}: " +
                $"m = {config.FfTokens(n)}, q = {config.QueryTokens(n)}, v = {config.KeyValueTokens(n)}");
        if (config.Encoder == EncoderType.FNet)
            w.WriteLine("fnet: parameter-free 2D Fourier mixing (real part, ortho scale 1/√(n·d)) in every encoder " +
                "layer, dense feed-forwards");
        if (config.Encoder == EncoderType.SparseMixer)
            w.WriteLine($"sparse mixer: {config.SparseAttentionLayers} attention layers (top), " +
                $"{config.SparseMoeLayers} MoE layers (middle) of {config.NumExperts} experts at capacity factor " +
                $"{config.ExpertCapacityFactor}, linear mixing length {config.MixingLength}, router z-loss " +
                $"{config.RouterZLoss}; layers: {LayerKinds(config)}");
        w.WriteLine($"parameters: {Format.Count(p.Total)} ({p.Total:N0}; every tensor, as the spec §3.3 table " +
            "counts)");
        w.WriteLine($"parameters in weight matrices only: {Format.Count(p.WeightMatrices)} ({p.WeightMatrices:N0})");
        Row(w, "embedding", p.Embedding);
        Row(w, "lm head", p.LmHead);
        Row(w, "encoder matrices", p.EncoderMatrices);
        Row(w, "decoder matrices", p.DecoderMatrices);
        Row(w, "norms", p.Norms);
        Row(w, "routers", p.Routers);
        Row(w, "bias tables", p.BiasTables);

        var flops = ModelStatistics.EncoderLayerFlops(config, n);
        w.WriteLine($"FLOPs per encoder layer at n = {n} (one multiply-add = 1 FLOP, as the paper counts):");
        w.WriteLine($"  formula (spec §4.1, d = {config.DModel}, w = {2 * config.LocalRadius + 1}): " +
            $"{flops.Formula} = {Format.Flops(flops.FormulaFlops)}");
        w.WriteLine("  this configuration:");
        foreach (var term in flops.Terms)
            w.WriteLine($"    {term.Name,-34} {term.Expression,-40} {Format.Flops(term.Flops),10}");
        w.WriteLine($"    {"total",-34} {"",-40} {Format.Flops(flops.BreakdownFlops),10}");
        if (config.Encoder == EncoderType.SparseMixer)
        {
            w.WriteLine("  per layer:");
            for (var i = 0; i < config.NumLayers; i++)
                w.WriteLine($"    layer {i,-3} {(config.HasAttention(i) ? "attention" : "mixing"),-9} + " +
                    $"{(config.HasMoe(i) ? "moe" : "dense"),-5} " +
                    $"{Format.Flops(ModelStatistics.EncoderLayerFlops(config, n, i).BreakdownFlops),10}");
        }

        w.WriteLine($"encoders compared at n = {n} (formula / this configuration, FLOPs per layer; parameters):");
        foreach (var name in new[] { "t5", "longt5-local", "longt5-tglobal", "colt5", "fnet", "sparse-mixer" })
        {
            var other = config.WithEncoder(name);
            var f = ModelStatistics.EncoderLayerFlops(other, n);
            w.WriteLine($"  {name,-15} {Format.Flops(f.FormulaFlops),10} / {Format.Flops(f.BreakdownFlops),-10} " +
                $"{Format.Count(ModelStatistics.Parameters(other).Total),8}");
        }
        if (n > config.MixingLength)
            w.WriteLine($"  (sparse-mixer: its linear mixing accepts at most mixing_length = {config.MixingLength} " +
                $"tokens; the n = {n} figures are what the layer would cost with a kernel that long)");
    }

    // "mixing+dense, …, attention+moe, …": each encoder layer's two sub-layers.
    private static string LayerKinds(ModelConfig config) => string.Join(", ",
        Enumerable.Range(0, config.NumLayers).Select(i =>
            (config.HasAttention(i) ? "attention" : "mixing") + "+" + (config.HasMoe(i) ? "moe" : "dense")));

    private static void Row(TextWriter w, string name, long count) =>
        w.WriteLine($"  {name,-18} {count,15:N0}");
}
