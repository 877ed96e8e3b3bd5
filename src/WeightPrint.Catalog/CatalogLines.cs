using System.Text;
using System.Text.Json;
using WeightPrint.Comparison;
using WeightPrint.IO;

namespace WeightPrint.Catalog;

/// <summary>The catalog's import format: the JSON lines <c>weightprint db export</c> writes and <c>db import</c> reads.</summary>
internal static class CatalogLines
{
    /// <summary>Reads and validates every line of a catalog JSON lines stream (named <paramref name="path"/> in errors)
    /// before anything is stored: one object per line with a non-empty string <c>name</c>, an optional string
    /// <c>note</c> and a <c>fingerprint</c> object. Any problem is an <see cref="InvalidModelFileException"/> naming the line.</summary>
    public static List<(string Name, string? Note, Fingerprint Fingerprint)> Read(Stream stream, string path)
    {
        var result = new List<(string, string?, Fingerprint)>();
        int lineNo = 0;
        foreach (var line in Lines(stream, path))
        {
            lineNo++;
            if (line.Length == 0 || line.All(b => b is (byte)' ' or (byte)'\r' or (byte)'\t')) continue;
            string where = $"{path} line {lineNo}";
            try
            {
                using var doc = UntrustedJson.Parse(where, "catalog line", line); // depth, duplicate keys and Unicode checked
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(where, "expected a JSON object");
                if (!root.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(n.GetString()))
                    throw new InvalidModelFileException(where, "field 'name': missing or not a non-empty string");
                string? note = root.TryGetProperty("note", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (!root.TryGetProperty("fingerprint", out var f) || f.ValueKind != JsonValueKind.Object)
                    throw new InvalidModelFileException(where, "field 'fingerprint': missing or not an object");
                var fp = Fingerprint.Read(new MemoryStream(Encoding.UTF8.GetBytes(f.GetRawText())), where);
                result.Add((n.GetString()!, note, fp));
            }
            catch (JsonException e)
            {
                throw new InvalidModelFileException(where, "not valid JSON: " + e.Message.Split('\n')[0]);
            }
        }

        return result;
    }

    /// <summary>Lines of a stream, each at most <see cref="Fingerprint.MaxBytes"/> bytes.</summary>
    private static IEnumerable<byte[]> Lines(Stream s, string path)
    {
        var line = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = s.Read(buffer)) > 0)
        {
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.Write(buffer, start, i - start);
                yield return line.ToArray();
                line.SetLength(0);
                start = i + 1;
            }

            line.Write(buffer, start, n - start);
            if (line.Length > Fingerprint.MaxBytes) throw new InvalidModelFileException(path, $"a line exceeds the {Fingerprint.MaxBytes}-byte limit of one fingerprint");
        }

        if (line.Length > 0) yield return line.ToArray();
    }
}
