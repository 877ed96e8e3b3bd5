using System.Globalization;
using System.Text.Json.Nodes;

namespace WeightPrint.Reports.Html;

/// <summary>
/// Minimal paths into a JSON document, as written in the report's <c>data-json</c> attributes:
/// <c>methods[0].score</c>, <c>matrices.pdf.scores[1][2]</c>. Property names are [A-Za-z0-9_-]+.
/// </summary>
internal static class JsonPath
{
    public static JsonNode? Resolve(JsonNode? root, string path)
    {
        var node = root;
        int i = 0;
        while (i < path.Length && node != null)
        {
            if (path[i] == '.') i++;
            if (path[i] == '[')
            {
                int end = path.IndexOf(']', i);
                int index = int.Parse(path.AsSpan(i + 1, end - i - 1), CultureInfo.InvariantCulture);
                node = node is JsonArray a && index < a.Count ? a[index] : null;
                i = end + 1;
            }
            else
            {
                int end = i;
                while (end < path.Length && path[end] != '.' && path[end] != '[') end++;
                string name = path[i..end];
                node = node is JsonObject o && o.TryGetPropertyValue(name, out var child) ? child : null;
                i = end;
            }
        }

        return node;
    }
}
