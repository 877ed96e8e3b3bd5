using System.Globalization;
using System.Text;

namespace WeightPrint.Reports.Html;

/// <summary>
/// Builds HTML text. Every string goes through <see cref="Text"/> (escaped); every number through
/// <see cref="Num"/>, which takes the typed value and the path where the report's embedded JSON document holds it,
/// and records the path and the value's JSON text in <c>data-json</c> / <c>data-value</c> attributes, so tests can
/// check that the page shows the JSON's numbers.
/// </summary>
internal sealed class HtmlWriter
{
    private readonly StringBuilder _sb = new();

    /// <summary>Appends trusted markup (literals written in this assembly only).</summary>
    public HtmlWriter Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    /// <summary>Appends text, HTML-escaped.</summary>
    public HtmlWriter Text(string? text)
    {
        _sb.Append(Escape(text));
        return this;
    }

    /// <summary>Appends an element with escaped text content: <c>&lt;tag class="…"&gt;text&lt;/tag&gt;</c>.</summary>
    public HtmlWriter Element(string tag, string? text, string? cssClass = null)
    {
        _sb.Append('<').Append(tag);
        if (cssClass != null) _sb.Append(" class=\"").Append(Escape(cssClass)).Append('"');
        _sb.Append('>').Append(Escape(text)).Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>
    /// Appends a typed <paramref name="value"/> that the document holds at <paramref name="path"/>, formatted with
    /// <paramref name="format"/> (a named format below or a .NET format string, invariant culture); its JSON text is
    /// written by the document's serializer (a NaN, ±Infinity or null as <c>null</c>, shown as <paramref name="missing"/>).
    /// </summary>
    public HtmlWriter Num(string path, double? value, string format, string missing = "—")
    {
        var node = value is { } v ? WeightPrint.Comparison.MethodDetailsJson.Num(v) : null;
        string json = node == null ? "null" : WeightPrint.Comparison.JsonText.Serialize(node, indented: false);
        string shown = node == null ? missing : Format(value!.Value, format);
        return NumberSpan(path, json, format, shown);
    }

    private HtmlWriter NumberSpan(string path, string json, string format, string shown)
    {
        _sb.Append("<span class=\"num\" data-json=\"").Append(Escape(path)).Append("\" data-value=\"").Append(Escape(json))
            .Append("\" data-format=\"").Append(Escape(format)).Append("\">").Append(Escape(shown)).Append("</span>");
        return this;
    }

    /// <summary>Format name for p-values: <see cref="WeightPrint.Statistics.NumberText.P"/> ("&lt; 1e-300", "2.3e-95", "0.0288").</summary>
    public const string PValueFormat = "p";

    /// <summary>Format name for percentiles with their ordinal: "25.2nd".</summary>
    public const string OrdinalFormat = "ordinal";

    /// <summary>A number as shown: the named formats above, else a .NET format string (invariant culture).</summary>
    public static string Format(double d, string format) => format switch
    {
        PValueFormat => WeightPrint.Statistics.NumberText.P(d),
        OrdinalFormat => WeightPrint.Statistics.NumberText.Ordinal(d),
        _ => d.ToString(format, CultureInfo.InvariantCulture),
    };

    public override string ToString() => _sb.ToString();

    /// <summary>Escapes the five HTML-significant characters; safe in element content and quoted attributes.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    // Control characters other than tab/newline have no place in a report: show them as U+FFFD.
                    sb.Append(char.IsControl(c) && c != '\t' && c != '\n' ? '\uFFFD' : c);
                    break;
            }
        }

        return sb.ToString();
    }
}
