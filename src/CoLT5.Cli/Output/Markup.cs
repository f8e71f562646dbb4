// Escaping and number formatting for the HTML/SVG the CLI writes. Everything it emits is also well-formed XML
// (polyglot markup), so text goes through one escaper that handles both and drops characters XML cannot hold.
using System;
using System.Globalization;
using System.Text;

namespace CoLT5.Cli.Output;

/// <summary>Markup helpers for HTML pages and inline SVG.</summary>
internal static class Markup
{
    /// <summary>
    /// Escapes text for element content and quoted attribute values: &amp;, &lt;, &gt;, " and ' become entities;
    /// characters XML 1.0 forbids (C0 controls other than tab, line feed and carriage return, lone surrogates,
    /// U+FFFE, U+FFFF) become U+FFFD.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            string? replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            };
            if (replacement is null && char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    sb?.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }
                replacement = "\uFFFD";
            }
            else if (replacement is null && !IsXmlChar(c))
            {
                replacement = "\uFFFD";
            }
            if (replacement is null)
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    // XML 1.0 Char, for one UTF-16 unit that is not a surrogate.
    private static bool IsXmlChar(char c) => c is '\t' or '\n' or '\r' || (c >= ' ' && c != '\uFFFE' && c != '\uFFFF');

    /// <summary>Invariant-culture formatting.</summary>
    public static string Inv(FormattableString s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A fraction as a percentage with one decimal ("6.3%"); "–" for NaN.</summary>
    public static string Percent(double fraction) => double.IsNaN(fraction) ? "–" : Inv($"{fraction * 100:F1}%");

    /// <summary>A correlation or ratio with two decimals ("0.41", "−0.07"); "–" for NaN.</summary>
    public static string Fixed2(double value) => double.IsNaN(value) ? "–"
        : Inv($"{value:F2}").Replace('-', '\u2212');
}
