// A small SVG line chart for the perf reports: log-log axes with power-of-two x ticks and 1-2-5 y ticks, solid,
// dashed or dotted series with point markers, and a legend. No plotting package exists in our package source.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace CoLT5.Perf.Svg;

/// <summary>How a series is stroked.</summary>
public enum LineStyle
{
    Solid,
    Dashed,
    Dotted,
}

/// <summary>One line of a plot: (x, y) points with positive coordinates, drawn in x order.</summary>
public sealed record PlotSeries(string Label, string Color, IReadOnlyList<(double X, double Y)> Points,
    LineStyle Style = LineStyle.Solid);

/// <summary>Renders log-log line charts as standalone SVG documents.</summary>
public static class SvgLinePlot
{
    private const int Width = 760, Height = 460;
    private const int Left = 70, Right = 220, Top = 40, Bottom = 55;

    /// <summary>The SVG text of a chart; series without positive points are left out.</summary>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var drawn = series.Select(s => s with { Points = s.Points.Where(p => p.X > 0 && p.Y > 0).OrderBy(p => p.X).ToList() })
            .Where(s => s.Points.Count > 0).ToList();
        var all = drawn.SelectMany(s => s.Points).ToList();
        if (all.Count == 0)
            all = [(1, 1), (2, 10)];
        var (x0, x1) = PowerOfTwoRange(all.Min(p => p.X), all.Max(p => p.X));
        var (y0, y1) = DecadeRange(all.Min(p => p.Y), all.Max(p => p.Y));
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + (Math.Log(x) - Math.Log(x0)) / (Math.Log(x1) - Math.Log(x0)) * plotW;
        double Py(double y) => Top + plotH - (Math.Log(y) - Math.Log(y0)) / (Math.Log(y1) - Math.Log(y0)) * plotH;

        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" "))
            .Append(Inv($"viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"))
            .Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
            .Append(Inv($"<text x=\"{Left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        for (var x = x0; x <= x1 * 1.0001; x *= 2)
        {
            var px = Px(x);
            svg.Append(Inv($"<line x1=\"{px:F1}\" y1=\"{Top}\" x2=\"{px:F1}\" y2=\"{Top + plotH:F1}\" stroke=\"#e4e4e4\"/>\n"))
                .Append(Inv($"<text x=\"{px:F1}\" y=\"{Top + plotH + 18:F1}\" text-anchor=\"middle\">{TickLabel(x)}</text>\n"));
        }
        foreach (var y in YTicks(y0, y1))
        {
            var py = Py(y);
            svg.Append(Inv($"<line x1=\"{Left}\" y1=\"{py:F1}\" x2=\"{Left + plotW:F1}\" y2=\"{py:F1}\" stroke=\"#e4e4e4\"/>\n"))
                .Append(Inv($"<text x=\"{Left - 6}\" y=\"{py + 4:F1}\" text-anchor=\"end\">{TickLabel(y)}</text>\n"));
        }
        svg.Append(Inv($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW:F1}\" height=\"{plotH:F1}\" fill=\"none\" stroke=\"#444\"/>\n"))
            .Append(Inv($"<text x=\"{Left + plotW / 2:F1}\" y=\"{Height - 14}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n"))
            .Append(Inv($"<text transform=\"translate(18 {Top + plotH / 2:F1}) rotate(-90)\" text-anchor=\"middle\">"))
            .Append(Escape(yLabel)).Append("</text>\n");

        for (var i = 0; i < drawn.Count; i++)
        {
            var s = drawn[i];
            var dash = Dash(s.Style);
            var points = string.Join(' ', s.Points.Select(p => Inv($"{Px(p.X):F1},{Py(p.Y):F1}")));
            svg.Append(Inv($"<polyline points=\"{points}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{dash}/>\n"));
            if (s.Style != LineStyle.Dashed)
            {
                foreach (var p in s.Points)
                    svg.Append(Inv($"<circle cx=\"{Px(p.X):F1}\" cy=\"{Py(p.Y):F1}\" r=\"3\" fill=\"{s.Color}\"/>\n"));
            }
            double ly = Top + 10 + i * 20, lx = Left + plotW + 16;
            svg.Append(Inv($"<line x1=\"{lx:F1}\" y1=\"{ly:F1}\" x2=\"{lx + 28:F1}\" y2=\"{ly:F1}\" stroke=\"{s.Color}\" "))
                .Append(Inv($"stroke-width=\"2\"{dash}/>\n"))
                .Append(Inv($"<text x=\"{lx + 34:F1}\" y=\"{ly + 4:F1}\">{Escape(s.Label)}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Writes <paramref name="svg"/> to <paramref name="path"/> atomically (temp file, then rename).</summary>
    public static void Write(string path, string svg)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, svg);
        File.Move(temp, path, overwrite: true);
    }

    private static string Dash(LineStyle style) => style switch
    {
        LineStyle.Dashed => " stroke-dasharray=\"7 5\"",
        LineStyle.Dotted => " stroke-dasharray=\"2 4\"",
        _ => "",
    };

    private static (double Low, double High) PowerOfTwoRange(double min, double max)
    {
        var low = Math.Pow(2, Math.Floor(Math.Log2(min)));
        var high = Math.Pow(2, Math.Ceiling(Math.Log2(max)));
        return (low, high > low ? high : low * 2);
    }

    private static (double Low, double High) DecadeRange(double min, double max)
    {
        var low = Math.Pow(10, Math.Floor(Math.Log10(min)));
        var high = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
        return (low, high > low ? high : low * 10);
    }

    // 1, 2, 5 × each decade in [low, high].
    private static IEnumerable<double> YTicks(double low, double high)
    {
        for (var decade = low; decade <= high * 1.0001; decade *= 10)
        {
            foreach (var m in new[] { 1.0, 2.0, 5.0 })
            {
                if (decade * m <= high * 1.0001)
                    yield return decade * m;
            }
        }
    }

    private static string TickLabel(double v) =>
        v >= 1024 && Math.Abs(v / 1024 - Math.Round(v / 1024)) < 1e-9 ? Inv($"{v / 1024:G4}k") : Inv($"{v:G4}");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
