using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WeightPrint.Tests.Reports;

/// <summary>Reads a WeightPrint HTML report back: its embedded JSON, its sections, its numbers, its URLs.</summary>
public static partial class ReportHtml
{
    public static JsonNode EmbeddedJson(string html)
    {
        var m = DataBlock().Match(html);
        Assert.True(m.Success, "the report has no <script type=\"application/json\" id=\"weightprint-data\"> block");
        return JsonNode.Parse(m.Groups[1].Value)!;
    }

    public static List<string> SectionIds(string html) => SectionTag().Matches(html).Select(m => m.Groups[1].Value).ToList();

    /// <summary>Asserts every number shown with a data-json path equals the embedded JSON's value and is that value
    /// formatted with its data-format. Returns how many numbers were checked.</summary>
    public static int AssertNumbersMatchJson(string html)
    {
        var doc = EmbeddedJson(html);
        int n = 0;
        foreach (Match m in NumberSpan().Matches(html))
        {
            string path = WebUtility.HtmlDecode(m.Groups["path"].Value);
            string value = WebUtility.HtmlDecode(m.Groups["value"].Value);
            string format = WebUtility.HtmlDecode(m.Groups["format"].Value);
            string shown = WebUtility.HtmlDecode(m.Groups["text"].Value);
            var node = Resolve(doc, path);
            if (value == "null")
            {
                Assert.True(node == null, $"{path}: the page shows no number but the JSON holds {node?.ToJsonString()}");
                continue;
            }

            Assert.True(node is JsonValue, $"{path}: not a JSON value in the embedded document");
            double expected = double.Parse(node!.ToJsonString(), CultureInfo.InvariantCulture);
            Assert.Equal(expected, double.Parse(value, CultureInfo.InvariantCulture));
            Assert.Equal(WeightPrint.Reports.Html.HtmlWriter.Format(expected, format), shown);
            n++;
        }

        return n;
    }

    /// <summary>Asserts the page fetches nothing: every src/href is a data: URI, no URL scheme or protocol-relative
    /// reference appears, no CSS url()/@import, and the only script element is the JSON data block.</summary>
    public static void AssertSelfContained(string html)
    {
        foreach (Match m in Attribute().Matches(html))
            Assert.StartsWith("data:", m.Groups[2].Value, StringComparison.Ordinal);
        Assert.DoesNotContain("http:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(ProtocolRelative(), html);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.Single(ScriptOpen().Matches(html));
        // Every image is an embedded PNG.
        foreach (Match m in ImgTag().Matches(html)) Assert.StartsWith("<img src=\"data:image/png;base64,", m.Value, StringComparison.Ordinal);
        Assert.Matches(DataBlock(), html);
    }

    /// <summary>Path resolver written independently of the report's own (a.b[0][1].c).</summary>
    public static JsonNode? Resolve(JsonNode? root, string path)
    {
        var node = root;
        foreach (Match part in PathPart().Matches(path))
        {
            if (node == null) return null;
            if (part.Groups["name"].Success) node = node is JsonObject o && o.TryGetPropertyValue(part.Groups["name"].Value, out var c) ? c : null;
            else
            {
                int i = int.Parse(part.Groups["index"].Value, CultureInfo.InvariantCulture);
                node = node is JsonArray a && i < a.Count ? a[i] : null;
            }
        }

        return node;
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"weightprint-data\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex DataBlock();

    [GeneratedRegex("<section id=\"([a-z-]+)\"")]
    private static partial Regex SectionTag();

    [GeneratedRegex("<span class=\"num\" data-json=\"(?<path>[^\"]*)\" data-value=\"(?<value>[^\"]*)\" data-format=\"(?<format>[^\"]*)\">(?<text>[^<]*)</span>")]
    private static partial Regex NumberSpan();

    [GeneratedRegex("\\s(src|href)\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex Attribute();

    [GeneratedRegex("(src|href)\\s*=\\s*[\"']?//", RegexOptions.IgnoreCase)]
    private static partial Regex ProtocolRelative();

    [GeneratedRegex("<img[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ImgTag();

    [GeneratedRegex("<script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptOpen();

    [GeneratedRegex("(?:^|\\.)(?<name>[A-Za-z0-9_-]+)|\\[(?<index>[0-9]+)\\]")]
    private static partial Regex PathPart();
}
