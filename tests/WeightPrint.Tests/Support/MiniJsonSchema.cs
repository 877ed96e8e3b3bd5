using System.Text.Json.Nodes;

namespace WeightPrint.Tests.Support;

/// <summary>
/// A small JSON Schema checker covering the keywords docs/*.schema.json use: type (string or list), required,
/// properties, items, enum. Returns every violation with its JSON path.
/// </summary>
public static class MiniJsonSchema
{
    public static List<string> Validate(JsonNode? instance, JsonObject schema, string path = "$")
    {
        var errors = new List<string>();
        Check(instance, schema, path, errors);
        return errors;
    }

    private static void Check(JsonNode? node, JsonObject schema, string path, List<string> errors)
    {
        if (schema["type"] is { } type)
        {
            var allowed = type is JsonArray a ? a.Select(t => (string)t!).ToList() : [(string)type!];
            string actual = TypeOf(node);
            bool ok = allowed.Contains(actual) || (actual == "integer" && allowed.Contains("number"));
            if (!ok)
            {
                errors.Add($"{path}: expected {string.Join("|", allowed)}, found {actual}");
                return;
            }
        }

        if (schema["enum"] is JsonArray values && node is JsonValue v && !values.Any(e => e!.ToJsonString() == v.ToJsonString()))
            errors.Add($"{path}: {v.ToJsonString()} is not one of {values.ToJsonString()}");
        if (node is JsonObject obj)
        {
            if (schema["required"] is JsonArray required)
            {
                foreach (var r in required)
                {
                    if (!obj.ContainsKey((string)r!)) errors.Add($"{path}: missing required '{r}'");
                }
            }

            if (schema["properties"] is JsonObject props)
            {
                foreach (var (name, sub) in props)
                {
                    if (obj.TryGetPropertyValue(name, out var child)) Check(child, (JsonObject)sub!, $"{path}.{name}", errors);
                }
            }

            if (schema["additionalProperties"] is JsonObject additional)
            {
                var named = schema["properties"] as JsonObject;
                foreach (var (name, child) in obj)
                {
                    if (named == null || !named.ContainsKey(name)) Check(child, additional, $"{path}.{name}", errors);
                }
            }
        }

        if (node is JsonArray arr && schema["items"] is JsonObject items)
        {
            for (int i = 0; i < arr.Count; i++) Check(arr[i], items, $"{path}[{i}]", errors);
        }
    }

    private static string TypeOf(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v when v.TryGetValue(out string? _) => "string",
        JsonValue v when v.TryGetValue(out bool _) => "boolean",
        JsonValue v when v.TryGetValue(out long _) => "integer",
        JsonValue v when v.TryGetValue(out double d) => d == Math.Floor(d) && Math.Abs(d) < 1e15 && !v.ToJsonString().Contains('.') ? "integer" : "number",
        _ => "unknown",
    };
}
