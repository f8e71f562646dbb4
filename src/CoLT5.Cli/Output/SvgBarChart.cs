// A small grouped bar chart as inline SVG (no plotting package in our package source): groups along x, one bar per
// series in each group, a linear y axis with given ticks and a zero line, a hover title on every bar.
using System;
using System.Collections.Generic;
using System.Text;
using static CoLT5.Cli.Output.Markup;

namespace CoLT5.Cli.Output;

/// <summary>One series of bars: its name and fill colour.</summary>
internal sealed record BarSeries(string Label, string Color);

/// <summary>
/// A grouped bar chart. <see cref="Values"/>[g][s] is series s in group g; NaN draws a "–" instead of a bar.
/// Bars start at 0 and are clipped to [<see cref="YMin"/>, <see cref="YMax"/>].
/// </summary>
internal sealed record BarChart(string Title, IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series,
    IReadOnlyList<double[]> Values, double YMin, double YMax, IReadOnlyList<double> Ticks, Func<double, string> Label)
{
    /// <summary>Hover text of one bar.</summary>
    public Func<int, int, string>? Tooltip { get; init; }

    /// <summary>Draw a legend of the series under the title.</summary>
    public bool Legend { get; init; }
}

/// <summary>Renders <see cref="BarChart"/>s as inline <c>&lt;svg&gt;</c> elements.</summary>
internal static class SvgBarChart
{
    private const int Left = 44, Right = 8, Bottom = 22;

    /// <summary>The chart as an <c>&lt;svg&gt;</c> element, <paramref name="groupWidth"/> pixels per group.</summary>
    public static string Render(BarChart chart, int groupWidth, int plotHeight)
    {
        ArgumentNullException.ThrowIfNull(chart);
        if (chart.Values.Count != chart.Groups.Count)
            throw new ArgumentException($"{chart.Values.Count} value rows for {chart.Groups.Count} groups", nameof(chart));
        var top = chart.Legend ? 40 : 24;
        var plotWidth = groupWidth * chart.Groups.Count;
        int width = Left + plotWidth + Right, height = top + plotHeight + Bottom;
        double Py(double y) => top + plotHeight * (chart.YMax - Math.Clamp(y, chart.YMin, chart.YMax)) /
            (chart.YMax - chart.YMin);

        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" "))
            .Append(Inv($"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{Escape(chart.Title)}\">"))
            .Append(Inv($"<text x=\"{Left}\" y=\"14\" class=\"ct\">{Escape(chart.Title)}</text>"));
        if (chart.Legend)
            AppendLegend(svg, chart.Series, Left, 30);
        foreach (var tick in chart.Ticks)
        {
            var y = Py(tick);
            svg.Append(Inv($"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + plotWidth}\" y2=\"{y:F1}\" class=\"grid\"/>"))
                .Append(Inv($"<text x=\"{Left - 4}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Escape(chart.Label(tick))}</text>"));
        }
        var zero = Py(0);
        var barWidth = Math.Max(2.0, (groupWidth - 8.0) / Math.Max(1, chart.Series.Count));
        for (var g = 0; g < chart.Groups.Count; g++)
        {
            var x0 = Left + g * groupWidth + (groupWidth - barWidth * chart.Series.Count) / 2;
            for (var s = 0; s < chart.Series.Count; s++)
            {
                var value = chart.Values[g][s];
                var x = x0 + s * barWidth;
                if (double.IsNaN(value))
                {
                    svg.Append(Inv($"<text x=\"{x + barWidth / 2:F1}\" y=\"{zero - 3:F1}\" text-anchor=\"middle\" "))
                        .Append("class=\"na\">–</text>");
                    continue;
                }
                var y = Py(value);
                var tip = chart.Tooltip?.Invoke(g, s) ?? $"{chart.Series[s].Label}: {chart.Label(value)}";
                svg.Append(Inv($"<rect x=\"{x:F1}\" y=\"{Math.Min(y, zero):F1}\" width=\"{barWidth - 1:F1}\" "))
                    .Append(Inv($"height=\"{Math.Max(Math.Abs(zero - y), 0.5):F1}\" fill=\"{chart.Series[s].Color}\">"))
                    .Append("<title>").Append(Escape(tip)).Append("</title></rect>");
            }
            svg.Append(Inv($"<text x=\"{Left + g * groupWidth + groupWidth / 2.0:F1}\" y=\"{top + plotHeight + 15}\" "))
                .Append("text-anchor=\"middle\">").Append(Escape(chart.Groups[g])).Append("</text>");
        }
        svg.Append(Inv($"<line x1=\"{Left}\" y1=\"{zero:F1}\" x2=\"{Left + plotWidth}\" y2=\"{zero:F1}\" class=\"axis\"/>"))
            .Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Coloured squares with labels in one row from (x, y).</summary>
    private static void AppendLegend(StringBuilder svg, IReadOnlyList<BarSeries> series, double x, double y)
    {
        foreach (var s in series)
        {
            svg.Append(Inv($"<rect x=\"{x:F1}\" y=\"{y - 9:F1}\" width=\"10\" height=\"10\" fill=\"{s.Color}\"/>"))
                .Append(Inv($"<text x=\"{x + 14:F1}\" y=\"{y:F1}\">{Escape(s.Label)}</text>"));
            x += 24 + 7 * s.Label.Length;
        }
    }

    /// <summary>Ticks from <paramref name="low"/> to <paramref name="high"/> every <paramref name="step"/>.</summary>
    public static double[] Ticks(double low, double high, double step)
    {
        var ticks = new List<double>();
        for (var i = 0; low + i * step <= high + step * 1e-9; i++)
            ticks.Add(Math.Round(low + i * step, 10));
        return [.. ticks];
    }

    /// <summary>A round upper bound for rates up to <paramref name="max"/>: 5%, 10%, 20%, 25%, 50% or 100%.</summary>
    public static double RateCeiling(double max)
    {
        foreach (var c in new[] { 0.05, 0.1, 0.2, 0.25, 0.5 })
        {
            if (max <= c)
                return c;
        }
        return 1.0;
    }
}
