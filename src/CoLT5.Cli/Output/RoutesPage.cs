// The page `colt5 routes` writes: one self-contained HTML file (inline CSS and SVG, no scripts, no external
// resources, well-formed XML throughout) with the header, the routing summary by token kind and the router
// agreement per layer, then each layer's tokens with their FF / query / key-value routing (RoutesPage.Tokens.cs).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CoLT5.Model.Analysis;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using static CoLT5.Cli.Output.Markup;

namespace CoLT5.Cli.Output;

/// <summary>Everything the routes page shows.</summary>
/// <param name="Checkpoint">The checkpoint directory as given.</param>
/// <param name="InputName">The input file as given.</param>
/// <param name="Config">The model configuration.</param>
/// <param name="Tokenizer">How the text was tokenized, in words.</param>
/// <param name="Surfaces">Each analysed token (EOS included).</param>
/// <param name="Trace">The encoder forward's routing decisions (batch of one row).</param>
/// <param name="TokensBeforeTruncation">The input's length in tokens with EOS when it was cut to the limit, else
/// null.</param>
/// <param name="Limit">The input limit in tokens with EOS.</param>
/// <param name="DetailTokens">How many tokens each layer's detailed view shows at most.</param>
internal sealed record RoutesPageInput(string Checkpoint, string InputName, ModelConfig Config, string Tokenizer,
    IReadOnlyList<TokenSurface> Surfaces, RoutingTrace Trace, int? TokensBeforeTruncation, int Limit,
    int DetailTokens);

/// <summary>Renders the routes page.</summary>
internal static partial class RoutesPage
{
    /// <summary>The routers in page order, with their colours (Okabe–Ito: orange, blue, green).</summary>
    internal static readonly (RouterKind Kind, string Name, string Short, string Color, string Var)[] Routers =
    [
        (RouterKind.FeedForward, "feed-forward", "FF", "#E69F00", "f"),
        (RouterKind.Query, "attention queries", "q", "#0072B2", "q"),
        (RouterKind.KeyValue, "attention keys/values", "kv", "#009E73", "k"),
    ];

    /// <summary>Token kinds in page order, with their labels (full and for chart axes) and definitions.</summary>
    internal static readonly (TokenKind Kind, string Label, string Short, string Definition)[] Kinds =
    [
        (TokenKind.WordStart, "word start", "word start", "begins a word: a piece starting with ▁; a letter after white space, " +
            "punctuation or the start"),
        (TokenKind.Other, "other", "other", "the rest of a word; byte-fallback pieces, invalid UTF-8, control characters"),
        (TokenKind.Digits, "digits", "digits", "decimal digits only"),
        (TokenKind.Punctuation, "punctuation", "punct.", "punctuation and symbols only (emoji included)"),
        (TokenKind.Whitespace, "white space", "space", "spaces, tabs, line breaks; the lone piece ▁"),
        (TokenKind.Special, "special", "special", "EOS, padding, UNK, sentinels, control pieces"),
    ];

    private const string Style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:20px auto;max-width:1320px;padding:0 18px}
        h1{font-size:21px;margin:0 0 10px}h2{font-size:17px;margin:30px 0 8px;padding-bottom:3px;border-bottom:1px solid #ddd}
        h3{font-size:15px;margin:18px 0 6px}
        table{border-collapse:collapse;margin:6px 0 10px}th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:right;vertical-align:top}
        th{font-weight:600;background:#fafafa}th:first-child,td:first-child,th.l{text-align:left}
        table.meta td{text-align:left}table.meta td:first-child{color:#666;white-space:nowrap}
        td.def{text-align:left;color:#555;max-width:430px}
        code{font:13px ui-monospace,"DejaVu Sans Mono",monospace}
        .note{color:#555;margin:4px 0}nav a{margin-right:10px}
        .charts{display:flex;flex-wrap:wrap;gap:6px 22px;align-items:flex-start}
        svg.chart{font:11px system-ui,sans-serif;fill:#333}svg .ct{font-weight:600;font-size:12px}
        svg .grid{stroke:#ececec}svg .axis{stroke:#888}svg .na{fill:#aaa}
        .legend{display:flex;flex-wrap:wrap;gap:6px 20px;align-items:center;margin:8px 0}
        .tokens{font:13px/1 ui-monospace,"DejaVu Sans Mono",monospace;margin:6px 0 4px}
        .tokens .w{display:inline-block;white-space:nowrap}
        .tokens b{font-weight:400;display:inline-block;white-space:pre;min-width:4px;padding:2px 0 12px;margin:0 0 4px;
          background:linear-gradient(rgb(230 159 0/var(--f,0)) 0 0) 0 calc(100% - 8px)/100% 3px no-repeat,
          linear-gradient(rgb(0 114 178/var(--q,0)) 0 0) 0 calc(100% - 4px)/100% 3px no-repeat,
          linear-gradient(rgb(0 158 115/var(--k,0)) 0 0) 0 100%/100% 3px no-repeat}
        .tokens b.x{color:#999}.tokens b.c{min-width:3px}.tokens i{font-style:normal;color:#bbb}
        .legend .tokens{margin:0}
        """;

    /// <summary>The page.</summary>
    public static string Render(RoutesPageInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var summary = RoutingStatistics.Summarize(input.Trace, input.Surfaces.Select(s => s.Kind).ToArray());
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head>")
            .Append("<meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width\"/>")
            .Append("<title>").Append(Escape($"colt5 routes: {input.InputName}")).Append("</title>")
            .Append("<style>").Append(Style).Append("</style></head>\n<body>\n");
        AppendHeader(html, input, summary);
        AppendSummary(html, summary);
        AppendLayers(html, input, summary);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendHeader(StringBuilder html, RoutesPageInput input, RoutingSummary summary)
    {
        var c = input.Config;
        var n = summary.Tokens;
        html.Append("<h1>Routing of <code>").Append(Escape(input.InputName)).Append("</code></h1>\n<table class=\"meta\">");
        Row(html, "checkpoint", $"<code>{Escape(input.Checkpoint)}</code>");
        Row(html, "model", Escape($"{c.Encoder.CliName()} encoder, {Format.Count(ModelStatistics.Parameters(c).Total)} " +
            $"parameters; d_model {c.DModel}, {c.NumLayers} encoder layers, light/heavy heads {c.LightHeads}/" +
            $"{c.HeavyHeads}, light/heavy FF {c.DFfLight}/{c.DFfHeavy}, local radius {c.LocalRadius}, vocabulary " +
            $"{c.VocabSize}"));
        Row(html, "routers", Escape(Inv($"soft top-k ε {c.RouterEps:G4}, {c.RouterIters} iterations, evaluation ") +
            "mode (budget k, no 9/8 widening)" + (c.RouterStraightThrough ? ", straight-through (weights 1)" : "")));
        Row(html, "tokenizer", Escape(input.Tokenizer));
        var truncated = input.TokensBeforeTruncation is { } total
            ? $"; the input is {total} tokens with EOS, cut to the first {n - 1} and EOS (limit {input.Limit})"
            : "";
        Row(html, "input", Escape($"{n} tokens (EOS included){truncated}"));
        var first = input.Trace[0, RouterKind.FeedForward];
        var counts = string.Join(", ", Routers.Select(r =>
            $"{r.Short} {input.Trace[0, r.Kind].Routed(0).Count}"));
        var all = Routers.All(r => input.Trace[0, r.Kind].Routed(0).Count >= n)
            ? " (every token: the input is no longer than k, so all are routed with weight 1)"
            : "";
        Row(html, "routed per layer", Escape($"{counts} of {first.Length} tokens{all}"));
        html.Append("</table>\n<nav><a href=\"#summary\">summary</a>");
        for (var layer = 0; layer < summary.Layers.Count; layer++)
            html.Append(Inv($"<a href=\"#layer-{layer}\">layer {layer}</a>"));
        html.Append("</nav>\n");
    }

    private static void Row(StringBuilder html, string label, string valueMarkup) =>
        html.Append("<tr><td>").Append(Escape(label)).Append("</td><td>").Append(valueMarkup).Append("</td></tr>");

    private static void AppendSummary(StringBuilder html, RoutingSummary summary)
    {
        html.Append("<h2 id=\"summary\">Summary</h2>\n<h3>How often each token kind is routed</h3>\n")
            .Append("<p class=\"note\">The share of the input's tokens of each kind that each router sent to the heavy " +
                "branch, averaged over all layers. A kind routed more often than its router's overall rate is " +
                "preferred by that router.</p>\n<table><tr><th>kind</th><th class=\"l\">definition</th><th>tokens</th>" +
                "<th>share</th>");
        foreach (var r in Routers)
            html.Append("<th>").Append(Escape(r.Short)).Append(" routed</th>");
        html.Append("</tr>");
        var largest = Kinds.SelectMany(k => Routers.Select(r => summary.Rate(r.Kind, k.Kind)))
            .Where(r => !double.IsNaN(r)).DefaultIfEmpty(0).Max();
        foreach (var (kind, label, _, definition) in Kinds)
        {
            var tokens = summary.TokensByKind[(int)kind];
            html.Append("<tr><td>").Append(Escape(label)).Append("</td><td class=\"def\">").Append(Escape(definition))
                .Append(Inv($"</td><td>{tokens}</td><td>{Percent((double)tokens / summary.Tokens)}</td>"));
            foreach (var r in Routers)
                RateCell(html, summary.Rate(r.Kind, kind), largest, r.Color);
            html.Append("</tr>");
        }
        html.Append(Inv($"<tr><th>all</th><th></th><th>{summary.Tokens}</th><th>100%</th>"));
        foreach (var r in Routers)
            html.Append("<th>").Append(Percent(summary.Rate(r.Kind))).Append("</th>");
        html.Append("</tr></table>\n");
        AppendAgreementTable(html, summary);
        AppendCharts(html, summary);
    }

    // A rate, its cell tinted in the router's colour in proportion to the rate (the table's largest rate darkest).
    private static void RateCell(StringBuilder html, double rate, double largest, string color)
    {
        if (double.IsNaN(rate))
        {
            html.Append("<td>–</td>");
            return;
        }
        var alpha = largest > 0 ? Math.Clamp(rate / largest, 0, 1) * 0.6 : 0;
        html.Append(Inv($"<td style=\"background:{color}{(int)Math.Round(alpha * 255):X2}\">{Percent(rate)}</td>"));
    }

    private static void AppendAgreementTable(StringBuilder html, RoutingSummary summary)
    {
        html.Append("<h3>Query vs key/value routing per layer</h3>\n<p class=\"note\">As in the paper's routing " +
            "analysis (App. F): do the tokens that query in the heavy attention coincide with the tokens attended " +
            "to? Jaccard = |q∩kv| / |q∪kv| (in brackets: two random selections of the same sizes); φ = Pearson " +
            "correlation of the two 0/1 routing indicators over the tokens; r(scores) = Pearson correlation of " +
            "the two routers' raw scores. The last two columns compare the FF router with each attention router. " +
            "– = undefined (a router chose every token).</p>\n<table><tr><th>layer</th><th>FF</th><th>q</th>" +
            "<th>kv</th><th>q∩kv</th><th>Jaccard q/kv</th><th>φ q/kv</th><th>r(scores) q/kv</th>" +
            "<th>φ FF/q</th><th>φ FF/kv</th></tr>");
        foreach (var layer in summary.Layers)
        {
            var qkv = layer.QueryKeyValue;
            html.Append(Inv($"<tr><td><a href=\"#layer-{layer.Layer}\">{layer.Layer}</a></td>"))
                .Append(Inv($"<td>{layer.Routed(RouterKind.FeedForward)}</td><td>{layer.Routed(RouterKind.Query)}</td>"))
                .Append(Inv($"<td>{layer.Routed(RouterKind.KeyValue)}</td><td>{qkv.Both}</td>"))
                .Append(Inv($"<td>{Fixed2(qkv.Jaccard)} ({Fixed2(qkv.ChanceJaccard)})</td><td>{Fixed2(qkv.Phi)}</td>"))
                .Append(Inv($"<td>{Fixed2(layer.QueryKeyValueScores)}</td><td>{Fixed2(layer.FeedForwardQuery.Phi)}</td>"))
                .Append(Inv($"<td>{Fixed2(layer.FeedForwardKeyValue.Phi)}</td></tr>"));
        }
        html.Append("</table>\n");
    }

    private static void AppendCharts(StringBuilder html, RoutingSummary summary)
    {
        var layers = summary.Layers;
        var agreement = new BarChart("router agreement φ per layer",
            layers.Select(l => Inv($"{l.Layer}")).ToArray(),
            [new BarSeries("q/kv", "#6A3D9A"), new BarSeries("FF/q", "#56B4E9"), new BarSeries("FF/kv", "#CC79A7")],
            layers.Select(l => new[] { l.QueryKeyValue.Phi, l.FeedForwardQuery.Phi, l.FeedForwardKeyValue.Phi })
                .ToArray(),
            -1, 1, SvgBarChart.Ticks(-1, 1, 0.5), Fixed2)
        {
            Legend = true,
            Tooltip = (g, s) => $"layer {layers[g].Layer}, φ {(s == 0 ? "q/kv" : s == 1 ? "FF/q" : "FF/kv")} = " +
                Fixed2(s == 0 ? layers[g].QueryKeyValue.Phi : s == 1 ? layers[g].FeedForwardQuery.Phi
                    : layers[g].FeedForwardKeyValue.Phi),
        };
        html.Append("<div class=\"charts\">").Append(SvgBarChart.Render(agreement, Math.Clamp(420 / layers.Count, 36, 110), 150))
            .Append("</div>\n<h3>Routing rate by token kind, per layer</h3>\n<div class=\"legend\">");
        foreach (var r in Routers)
            html.Append(Inv($"<span><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"12\" height=\"12\">"))
                .Append(Inv($"<rect width=\"12\" height=\"12\" fill=\"{r.Color}\"/></svg> {Escape(r.Name)} ({r.Short})"))
                .Append("</span>");
        html.Append("</div>\n<div class=\"charts\">");
        var present = Kinds.Where(k => summary.TokensByKind[(int)k.Kind] > 0).ToArray();
        var ceiling = SvgBarChart.RateCeiling(layers.SelectMany(l => Routers.SelectMany(r =>
            present.Select(k => summary.Rate(r.Kind, k.Kind, l.Layer)))).DefaultIfEmpty(0).Max());
        foreach (var layer in layers)
        {
            var chart = new BarChart($"layer {layer.Layer}", present.Select(k => k.Short).ToArray(),
                Routers.Select(r => new BarSeries(r.Short, r.Color)).ToArray(),
                present.Select(k => Routers.Select(r => summary.Rate(r.Kind, k.Kind, layer.Layer)).ToArray()).ToArray(),
                0, ceiling, SvgBarChart.Ticks(0, ceiling, ceiling / 4), Percent)
            {
                Tooltip = (g, s) => $"layer {layer.Layer}: {Routers[s].Short} routed " +
                    $"{layer.RoutedByKind[Routers[s].Kind][(int)present[g].Kind]} of " +
                    $"{summary.TokensByKind[(int)present[g].Kind]} {present[g].Label} tokens",
            };
            html.Append(SvgBarChart.Render(chart, 66, 110));
        }
        html.Append("</div>\n");
    }
}
