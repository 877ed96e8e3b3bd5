using System.Text;
using System.Text.Json;

namespace WeightPrint.Cli;

/// <summary>Writes indented JSON documents with <see cref="Utf8JsonWriter"/> (AOT-safe, no reflection).</summary>
internal static class JsonOutput
{
    public static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes a double, or null when it is not finite (JSON has no NaN).</summary>
    public static void NumberOrNull(this Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    public static void NumberOrNullValue(this Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteNullValue();
    }

    /// <summary>Writes a metadata value (string, integer, double, bool or array of these).</summary>
    public static void MetadataValue(this Utf8JsonWriter w, object value)
    {
        switch (value)
        {
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case ulong u: w.WriteNumberValue(u); break;
            case int i: w.WriteNumberValue(i); break;
            case uint ui: w.WriteNumberValue(ui); break;
            case double d: w.NumberOrNullValue(d); break;
            case float f: w.NumberOrNullValue(f); break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) w.MetadataValue(item!);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(value.ToString()); break;
        }
    }
}
