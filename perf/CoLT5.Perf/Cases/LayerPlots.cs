// The `layers --svg` charts: time vs n per encoder layer type, ours solid, the PyTorch peer dotted, and the spec
// §4.1 FLOP model as a dashed line (the layer's FLOPs at the measured FMA peak: the time no kernel can beat).
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Perf.Svg;

namespace CoLT5.Perf.Cases;

public static class LayerPlots
{
    private static readonly Dictionary<string, (string Label, string Color)> Styles = new()
    {
        ["t5"] = ("T5", "#d62728"),
        ["local"] = ("LongT5 local", "#1f77b4"),
        ["tglobal"] = ("LongT5 TGlobal", "#9467bd"),
        ["colt5"] = ("CoLT5", "#2ca02c"),
    };

    /// <summary>Writes the chart of one mode's results.</summary>
    public static void Write(string path, IReadOnlyList<LayerResult> results, string mode, int threads,
        double peakGflops)
    {
        var series = new List<PlotSeries>();
        foreach (var layer in results.Select(r => r.Name).Distinct())
        {
            var (label, color) = Styles[layer];
            var rows = results.Where(r => r.Name == layer).ToList();
            series.Add(new PlotSeries($"{label} (ours)", color,
                rows.Where(r => r.MedianMs is not null).Select(r => ((double)r.N, r.MedianMs!.Value)).ToList()));
            series.Add(new PlotSeries($"{label} (PyTorch)", color,
                rows.Where(r => r.TorchMedianMs is not null).Select(r => ((double)r.N, r.TorchMedianMs!.Value))
                    .ToList(), LineStyle.Dotted));
            series.Add(new PlotSeries($"{label} FLOP model", color,
                rows.Select(r => ((double)r.N, ModelMs(layer, r.N, mode, peakGflops))).ToList(), LineStyle.Dashed));
        }
        var what = mode == "fwd" ? "forward" : "forward + backward";
        SvgLinePlot.Write(path, SvgLinePlot.Render($"One encoder layer, {what}, {threads} threads",
            "sequence length n", "milliseconds (log)", series));
    }

    // FLOPs counted as the paper does (multiply-add = 1), so ×2 arithmetic operations; backward ≈ 2× forward.
    private static double ModelMs(string layer, int n, string mode, double peakGflops)
    {
        var flops = 2 * ModelStatistics.EncoderLayerFlops(LayerKinds.Config(layer, n), n).BreakdownFlops;
        if (mode == "fwdbwd")
            flops *= 3;
        return flops / (peakGflops * 1e9) * 1000;
    }
}
