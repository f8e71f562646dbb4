// The routes page's per-layer view: the input's tokens as wrapped text, each token a cell with three bands under it
// (FF, query, key/value router) whose opacity shows the routing weight; unrouted tokens have no bands.
using System;
using System.Linq;
using System.Text;
using CoLT5.Model.Analysis;
using static CoLT5.Cli.Output.Markup;

namespace CoLT5.Cli.Output;

internal static partial class RoutesPage
{
    /// <summary>Tokens per word group at most (a group never wraps inside, so it must fit a line).</summary>
    private const int GroupLimit = 24;

    private static void AppendLayers(StringBuilder html, RoutesPageInput input, RoutingSummary summary)
    {
        var shown = Math.Min(input.DetailTokens, input.Surfaces.Count);
        html.Append("<h2 id=\"layers\">Tokens per layer</h2>\n<div class=\"legend\">");
        foreach (var r in Routers)
            html.Append("<span><span class=\"tokens\"><b style=\"--").Append(r.Var).Append(":1\">")
                .Append(Escape(r.Short)).Append("</b></span> ").Append(Escape(r.Name)).Append("</span>");
        html.Append("<span>weight <span class=\"tokens\">");
        foreach (var w in new[] { 0.0, 0.25, 0.5, 0.75, 1.0 })
        {
            var alpha = Inv($"{0.25 + 0.75 * w:0.###}");
            html.Append(Inv($"<b style=\"--f:{alpha};--q:{alpha};--k:{alpha}\"> {w:0.##} </b>"));
        }
        html.Append("</span></span></div>\n<p class=\"note\">Under each token, three bands: FF (top), query (middle), key/value " +
            "(bottom). A band is drawn when that router sent the token to the heavy branch, with opacity 0.25 + " +
            "0.75 × its routing weight (the soft top-k weight the heavy branch is multiplied by); unrouted tokens " +
            "have no band. Hover a routed token for its position and weights. ");
        if (input.Surfaces.Count > 0 && input.Surfaces[0].Text.Length > 0 && input.Surfaces.Any(s => s.Continuation))
            html.Append("A character of several UTF-8 bytes is shown on its first byte; its other bytes are the " +
                "narrow cells after it. ");
        html.Append("↵ is a line break, ⇥ a tab, ▁ SentencePiece's word-start mark.");
        if (shown < input.Surfaces.Count)
            html.Append(Inv($" Each layer shows the first {shown} of the {input.Surfaces.Count} tokens (the cap, ")
                ).Append("--detail-tokens); the summary above covers all of them.");
        html.Append("</p>\n");
        for (var layer = 0; layer < summary.Layers.Count; layer++)
        {
            var stats = summary.Layers[layer];
            html.Append(Inv($"<h3 id=\"layer-{layer}\">Layer {layer}</h3>\n<p class=\"note\">"))
                .Append(Escape(string.Join(", ", Routers.Select(r => $"{r.Short} {stats.Routed(r.Kind)}")) +
                    $" of {summary.Tokens} tokens routed; q/kv Jaccard {Fixed2(stats.QueryKeyValue.Jaccard)}, " +
                    $"φ {Fixed2(stats.QueryKeyValue.Phi)}; FF/q φ {Fixed2(stats.FeedForwardQuery.Phi)}, FF/kv φ " +
                    Fixed2(stats.FeedForwardKeyValue.Phi)))
                .Append("</p>\n<div class=\"tokens\">");
            AppendTokens(html, input, layer, shown);
            html.Append("</div>\n");
        }
    }

    // Tokens 0..shown−1 of one layer in word groups that never wrap inside: a group ends after white space (so a
    // line never starts with it), before a word-start piece, around a special token, or at the size limit.
    private static void AppendTokens(StringBuilder html, RoutesPageInput input, int layer, int shown)
    {
        var weights = Routers.Select(r => input.Trace[layer, r.Kind].WeightPerToken(0)).ToArray();
        var routed = Routers.Select(r => input.Trace[layer, r.Kind].RoutedPerToken(0)).ToArray();
        var groupSize = 0;
        for (var i = 0; i < shown; i++)
        {
            var surface = input.Surfaces[i];
            var special = surface.Kind == TokenKind.Special;
            var startsWord = surface.Text.Length > 0 && surface.Text[0] == TokenSurfaces.WordMark;
            if (groupSize > 0 && (special || startsWord || (groupSize >= GroupLimit && !surface.Continuation)))
            {
                html.Append("</span><wbr/>");
                groupSize = 0;
            }
            if (groupSize == 0)
                html.Append("<span class=\"w\">");
            AppendCell(html, i, surface, weights, routed);
            groupSize++;
            if (surface.Kind == TokenKind.Whitespace || special)
            {
                html.Append("</span>").Append(surface.Text.Contains('\n', StringComparison.Ordinal) ? "<br/>" : "<wbr/>");
                groupSize = 0;
            }
        }
        if (groupSize > 0)
            html.Append("</span>");
    }

    private static void AppendCell(StringBuilder html, int position, TokenSurface surface, double[][] weights,
        bool[][] routed)
    {
        var (text, faint) = Display(surface);
        var classes = surface.Continuation ? "c" : faint ? "x" : null;
        html.Append("<b");
        if (classes is not null)
            html.Append(" class=\"").Append(classes).Append('"');
        if (routed.Any(r => r[position]))
        {
            var style = new StringBuilder();
            var title = new StringBuilder(Inv($"#{position}"));
            for (var r = 0; r < Routers.Length; r++)
            {
                if (!routed[r][position])
                    continue;
                var w = Math.Clamp(weights[r][position], 0, 1);
                style.Append(Inv($"--{Routers[r].Var}:{0.25 + 0.75 * w:0.###};"));
                title.Append(Inv($" {Routers[r].Short} {weights[r][position]:0.###}"));
            }
            html.Append(" style=\"").Append(style).Append("\" title=\"").Append(Escape(title.ToString())).Append('"');
        }
        html.Append('>');
        AppendText(html, text);
        html.Append("</b>");
    }

    // Escaped cell text with SentencePiece's ▁ drawn faint.
    private static void AppendText(StringBuilder html, string text)
    {
        var from = 0;
        for (var at = text.IndexOf(TokenSurfaces.WordMark, StringComparison.Ordinal); at >= 0;
             at = text.IndexOf(TokenSurfaces.WordMark, from))
        {
            html.Append(Escape(text[from..at])).Append("<i>▁</i>");
            from = at + 1;
        }
        html.Append(Escape(text[from..]));
    }

    /// <summary>The visible text of a token and whether to draw it faint: line breaks, tabs and other control
    /// characters become visible symbols; special tokens keep their spelling.</summary>
    internal static (string Text, bool Faint) Display(TokenSurface surface)
    {
        if (surface.Continuation)
            return ("", false);
        if (surface.Kind == TokenKind.Special)
            return (surface.Text, true);
        var text = surface.Text;
        var visible = new StringBuilder(text.Length);
        var faint = false;
        foreach (var c in text)
        {
            var symbol = c switch
            {
                '\n' => "↵",
                '\r' => "␍",
                '\t' => "⇥",
                '\u007F' => "␡",
                < ' ' => ((char)(0x2400 + c)).ToString(),
                '\u0085' or '\u2028' or '\u2029' => "↵",
                _ => null,
            };
            faint |= symbol is not null;
            if (symbol is null)
                visible.Append(c);
            else
                visible.Append(symbol);
        }
        return (visible.ToString(), faint);
    }
}
