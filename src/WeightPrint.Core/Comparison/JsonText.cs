using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using WeightPrint.Signals;

namespace WeightPrint.Comparison;

/// <summary>
/// The one way WeightPrint turns a JSON tree into text. JSON has no NaN or Infinity: every non-finite number, wherever
/// it sits (a method's <c>raw</c> section included), is written as <c>null</c>, never as an exception.
/// </summary>
internal static class JsonText
{
    /// <summary>Indented text of <paramref name="node"/>, non-finite numbers as <c>null</c>.</summary>
    public static string Serialize(JsonNode? node, bool indented = true, System.Text.Encodings.Web.JavaScriptEncoder? encoder = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = encoder }))
        {
            Write(w, node);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A deep copy of <paramref name="node"/> with every non-finite number replaced by <c>null</c>.</summary>
    public static JsonNode? Finite(JsonNode? node) => SignatureJson.FiniteOnly(node?.DeepClone());

    /// <summary>Writes <paramref name="node"/>, non-finite numbers as <c>null</c>.</summary>
    public static void Write(Utf8JsonWriter w, JsonNode? node)
    {
        switch (node)
        {
            case null:
                w.WriteNullValue();
                break;
            case JsonObject o:
                w.WriteStartObject();
                foreach (var (name, value) in o)
                {
                    w.WritePropertyName(name);
                    Write(w, value);
                }

                w.WriteEndObject();
                break;
            case JsonArray a:
                w.WriteStartArray();
                foreach (var item in a) Write(w, item);
                w.WriteEndArray();
                break;
            case JsonValue v when SignatureJson.IsNonFinite(v):
                w.WriteNullValue();
                break;
            default:
                node.WriteTo(w);
                break;
        }
    }
}
