// The routes page as markup: the whole page and every SVG chart parse as XML, hostile token text is escaped and
// survives as text, routed tokens carry their bands and weights and unrouted ones none, and the detail cap holds.
using System;
using System.IO;
using System.Linq;
using System.Xml;
using System.Xml.Linq;
using CoLT5.Cli.Output;
using CoLT5.Model.Analysis;
using CoLT5.Model.Layers;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class RoutesPageTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    // Hostile and awkward token texts, one token each, then EOS.
    private static readonly TokenSurface[] Hostile =
    [
        new("<script>alert(1)</script>", TokenKind.Punctuation),
        new("&amp;", TokenKind.WordStart),
        new("\"'", TokenKind.Punctuation),
        new("😀", TokenKind.Punctuation),
        new("", TokenKind.Punctuation, Continuation: true),
        new("▁x▁y", TokenKind.WordStart),
        new("\u0001", TokenKind.Other),
        new("\uD800", TokenKind.Other),
        new(" ", TokenKind.Whitespace),
        new("\n", TokenKind.Whitespace),
        new("]]>", TokenKind.Punctuation),
        new("</s>", TokenKind.Special),
    ];

    private static readonly string[] Displayed =
        ["<script>alert(1)</script>", "&amp;", "\"'", "😀", "", "▁x▁y", "␁", "\uFFFD", " ", "↵", "]]>", "</s>"];

    [Fact]
    public void ThePageAndItsChartsAreWellFormedXml()
    {
        var page = Render(Hostile, detail: 100);
        var document = Parse(page);
        Assert.Equal(Xhtml + "html", document.Root!.Name);
        var charts = document.Descendants(Svg + "svg").Where(s => (string?)s.Attribute("class") == "chart").ToList();
        Assert.Equal(2 + 1, charts.Count);                 // one rate chart per layer, the agreement chart
        foreach (var svg in document.Descendants(Svg + "svg"))
        {
            using var reader = XmlReader.Create(new StringReader(svg.ToString()),
                new XmlReaderSettings { ConformanceLevel = ConformanceLevel.Fragment });
            while (reader.Read())
            {
            }
        }
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/", "", StringComparison.Ordinal),
            StringComparison.Ordinal);                     // no external resources
    }

    [Fact]
    public void HostileTokenTextSurvivesAsText()
    {
        var document = Parse(Render(Hostile, detail: 100));
        foreach (var layer in new[] { 0, 1 })
        {
            var cells = Cells(document, layer);
            Assert.Equal(Displayed, cells.Select(c => c.Value));
        }
        Assert.Equal(["▁", "▁"], Cells(document, 0)[5].Elements(Xhtml + "i").Select(i => i.Value));
    }

    [Fact]
    public void RoutedTokensCarryBandsAndWeights()
    {
        var document = Parse(Render(Hostile, detail: 100));
        var cells = Cells(document, 0);
        // layer 0 (see Trace): FF {0, 2}, q {0, 5}, kv {0, 1, 5, 11}
        Assert.Equal("--f:1;--q:0.625;--k:0.85;", (string?)cells[0].Attribute("style"));
        Assert.Equal("#0 FF 1 q 0.5 kv 0.8", (string?)cells[0].Attribute("title"));
        Assert.Equal("--k:0.85;", (string?)cells[1].Attribute("style"));
        Assert.Null(cells[3].Attribute("style"));
        Assert.Null(cells[3].Attribute("title"));
        Assert.Equal(new[] { 0, 1, 2, 5, 11 },
            Enumerable.Range(0, cells.Count).Where(i => cells[i].Attribute("style") is not null));
        Assert.Equal("c", (string?)cells[4].Attribute("class"));          // the emoji's continuation byte
        Assert.Equal("x", (string?)cells[11].Attribute("class"));         // EOS drawn faint
    }

    [Fact]
    public void TheDetailedViewIsCappedAndSaysSo()
    {
        var page = Render(Hostile, detail: 3);
        var document = Parse(page);
        Assert.Equal(3, Cells(document, 0).Count);
        Assert.Equal(3, Cells(document, 1).Count);
        Assert.Contains("shows the first 3 of the 12 tokens", page, StringComparison.Ordinal);
        // the summary still covers every token
        var summary = document.Descendants(Xhtml + "table").ElementAt(1);
        Assert.Equal("12", summary.Descendants(Xhtml + "th").Reverse().Skip(4).First().Value);
    }

    [Theory]
    [InlineData("a<b>&\"'", "a&lt;b&gt;&amp;&quot;&#39;")]
    [InlineData("plain ▁ 😀", "plain ▁ 😀")]
    [InlineData("\u0000\u001f\t\n", "\uFFFD\uFFFD\t\n")]
    [InlineData("\uFFFE", "\uFFFD")]
    public void EscapeHandlesMarkupAndCharactersXmlForbids(string text, string expected) =>
        Assert.Equal(expected, Markup.Escape(text));

    [Fact]
    public void EscapeKeepsSurrogatePairsAndReplacesLoneHalves()
    {
        // (xunit's theory data cannot carry lone surrogates, hence a fact)
        Assert.Equal("\uFFFDx\uFFFD", Markup.Escape("\uDC00x\uD83D"));
        Assert.Equal("😀\uFFFD&lt;", Markup.Escape("😀\uD800<"));
    }

    // Two layers over the tokens; layer 0 routes FF {0, 2}, q {0, 5}, kv {0, 1, 5, last}; layer 1 FF {1},
    // q {3}, kv {3, 4}, with the weights below.
    internal static RoutingTrace Trace(int n)
    {
        var trace = new RoutingTrace();
        void Add(int layer, RouterKind kind, int[] positions, double[] weights) => trace.OnRoute(
            new RouterObservation(layer, kind, 1, n, positions.Length, positions,
                positions.Select(_ => true).ToArray(), weights, [.. Enumerable.Range(0, n).Select(i => i * 0.1)]));
        Add(0, RouterKind.Query, [0, 5], [0.5, 1]);
        Add(0, RouterKind.KeyValue, [0, 1, 5, n - 1], [0.8, 0.8, 0.2, 1]);
        Add(0, RouterKind.FeedForward, [0, 2], [1, 0.25]);
        Add(1, RouterKind.Query, [3], [1]);
        Add(1, RouterKind.KeyValue, [3, 4], [0.5, 0.5]);
        Add(1, RouterKind.FeedForward, [1], [0.9]);
        return trace;
    }

    private static string Render(TokenSurface[] surfaces, int detail) =>
        RoutesPage.Render(new RoutesPageInput("runs/<ck>&", "in\"put.txt", TrainingTestKit.MicroConfig(),
            "bytes", surfaces, Trace(surfaces.Length), null, 4096, detail));

    internal static XDocument Parse(string page)
    {
        using var reader = XmlReader.Create(new StringReader(page), new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
        });
        return XDocument.Load(reader);
    }

    // The token cells of one layer's detailed view.
    internal static System.Collections.Generic.List<XElement> Cells(XDocument document, int layer)
    {
        var heading = document.Descendants(Xhtml + "h3").Single(h => (string?)h.Attribute("id") == $"layer-{layer}");
        var view = heading.ElementsAfterSelf(Xhtml + "div").First();
        Assert.Equal("tokens", (string?)view.Attribute("class"));
        return view.Descendants(Xhtml + "b").ToList();
    }
}
