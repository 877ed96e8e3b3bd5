using System.Text.Json;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// Read access to a Hugging Face config.json (or a Meta / llama2.c params.json): typed look-ups over several
/// alias keys. Multimodal configs keep the text model under <c>text_config</c>, which is searched first.
/// </summary>
internal sealed class ModelConfig
{
    private readonly JsonElement? _root;
    private readonly JsonElement? _text;

    public ModelConfig(JsonElement? root)
    {
        if (root is { ValueKind: JsonValueKind.Object } r)
        {
            _root = r;
            if (r.TryGetProperty("text_config", out var t) && t.ValueKind == JsonValueKind.Object) _text = t;
        }
    }

    public static ModelConfig Empty { get; } = new(null);

    public bool Present => _root != null;

    /// <summary>The top-level model_type, lower-cased.</summary>
    public string? ModelType => Raw("model_type", textFirst: false)?.ToLowerInvariant();

    /// <summary>text_config.model_type, lower-cased.</summary>
    public string? TextModelType => _text is { } t && t.TryGetProperty("model_type", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!.ToLowerInvariant() : null;

    public IReadOnlyList<string> Architectures
    {
        get
        {
            if (_root is not { } r || !r.TryGetProperty("architectures", out var a) || a.ValueKind != JsonValueKind.Array) return [];
            return [.. a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)];
        }
    }

    public int? Int(params string[] keys)
    {
        foreach (string k in keys)
        {
            if (Find(k) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out long l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        }

        return null;
    }

    public bool? Bool(params string[] keys)
    {
        foreach (string k in keys)
        {
            if (Find(k) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.ValueKind == JsonValueKind.True;
        }

        return null;
    }

    public string? String(params string[] keys)
    {
        foreach (string k in keys)
        {
            if (Find(k) is { ValueKind: JsonValueKind.String } v) return v.GetString();
        }

        return null;
    }

    /// <summary>An integer list (e.g. mlp_only_layers), empty when absent.</summary>
    public IReadOnlyList<int> IntList(string key)
    {
        if (Find(key) is not { ValueKind: JsonValueKind.Array } a) return [];
        return [.. a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)).Select(e => e.GetInt32())];
    }

    private string? Raw(string key, bool textFirst)
    {
        var v = textFirst ? Find(key) : _root is { } r && r.TryGetProperty(key, out var x) ? x : null;
        return v is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
    }

    private JsonElement? Find(string key)
    {
        if (_text is { } t && t.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        if (_root is { } r && r.TryGetProperty(key, out var w) && w.ValueKind != JsonValueKind.Null) return w;
        return null;
    }
}
