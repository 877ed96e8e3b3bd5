using System.Text.Json;
using System.Text.Unicode;

namespace WeightPrint.IO;

/// <summary>
/// The one way to parse JSON the tool reads from files or servers it does not trust (safetensors headers,
/// config.json, tokenizer.json, adapter configs, shard indexes, Hub listings, fingerprint files): nesting depth
/// bounded, duplicate keys refused (two readers could otherwise see two different files), and every string and
/// property name checked to be valid Unicode (invalid UTF-8 bytes or an unpaired surrogate escape such as
/// <c>\ud800</c> would otherwise fail later, when a value is read). Every problem is an
/// <see cref="InvalidModelFileException"/> naming <c>source</c> and <c>what</c>.
/// </summary>
internal static class UntrustedJson
{
    /// <summary>Deepest nesting accepted unless a reader asks for less.</summary>
    public const int DefaultMaxDepth = 64;

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>Parses <paramref name="utf8"/> (a leading UTF-8 byte-order mark is skipped).</summary>
    public static JsonDocument Parse(string source, string what, ReadOnlyMemory<byte> utf8, int maxDepth = DefaultMaxDepth)
    {
        if (utf8.Span.StartsWith(Utf8Bom)) utf8 = utf8[Utf8Bom.Length..];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, Options(maxDepth));
        }
        catch (JsonException e) when (e.Message.StartsWith("Duplicate", StringComparison.Ordinal))
        {
            throw new InvalidModelFileException(source, $"{what} has a duplicate key: {FirstLine(e.Message)}");
        }
        catch (JsonException e)
        {
            throw new InvalidModelFileException(source, $"{what} is not valid JSON: {FirstLine(e.Message)}");
        }
        catch (InvalidOperationException)
        {
            // Comparing property names for duplicates decodes them; an unpaired surrogate escape fails there.
            throw new InvalidModelFileException(source, $"{what} {NotUnicode}");
        }

        try
        {
            CheckStrings(source, what, utf8.Span, maxDepth);
        }
        catch
        {
            doc.Dispose();
            throw;
        }

        return doc;
    }

    private const string NotUnicode = "holds a string that is not valid Unicode (invalid UTF-8 or an unpaired surrogate escape such as \\ud800)";

    /// <summary>Parser options: <paramref name="maxDepth"/>, duplicate property names refused.</summary>
    public static JsonDocumentOptions Options(int maxDepth = DefaultMaxDepth) => new() { MaxDepth = maxDepth, AllowDuplicateProperties = false };

    /// <summary>Every string token and property name must decode to valid UTF-16 (no invalid UTF-8, no lone surrogate).</summary>
    private static void CheckStrings(string source, string what, ReadOnlySpan<byte> utf8, int maxDepth)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
            bool valid;
            if (!reader.ValueIsEscaped && !reader.HasValueSequence)
            {
                valid = Utf8.IsValid(reader.ValueSpan);
            }
            else
            {
                try
                {
                    _ = reader.GetString();
                    valid = true;
                }
                catch (InvalidOperationException)
                {
                    valid = false;
                }
            }

            if (!valid) throw new InvalidModelFileException(source, $"{what} {NotUnicode} at byte {reader.TokenStartIndex}");
        }
    }

    /// <summary>The first line of a parser message (System.Text.Json appends path and position lines).</summary>
    public static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}
