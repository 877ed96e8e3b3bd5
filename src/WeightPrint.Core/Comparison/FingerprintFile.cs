using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeightPrint.Formats;
using WeightPrint.IO;

namespace WeightPrint.Comparison;

/// <summary>
/// A fingerprint file: each method's per-model signature plus model metadata, so a model can be compared later
/// without its weights (<c>weightprint fingerprint MODEL -o fp.json</c>; <c>compare fp.json other</c>).
/// </summary>
public static class FingerprintFile
{
    public const string FormatName = "weightprint-fingerprint";

    public const int Version = 1;

    /// <summary>Largest fingerprint file accepted.</summary>
    public const long MaxBytes = 64L << 20;

    public static string Serialize(ModelSummary model, IReadOnlyDictionary<string, JsonObject> signatures)
    {
        var methods = new JsonObject();
        foreach (var (id, s) in signatures.OrderBy(kv => kv.Key, StringComparer.Ordinal)) methods[id] = s.DeepClone();
        var root = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = Version,
            ["model"] = ModelJson(model),
            ["methods"] = methods,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>True when the file is a JSON fingerprint (checked by content, not by extension).</summary>
    public static bool IsFingerprint(string path)
    {
        if (!File.Exists(path)) return false;
        using var s = File.OpenRead(path);
        var head = new byte[256];
        int n = s.Read(head, 0, head.Length);
        string text = Encoding.UTF8.GetString(head, 0, n).TrimStart();
        return text.StartsWith('{') && text.Contains(FormatName, StringComparison.Ordinal);
    }

    public static (ModelSummary Model, Dictionary<string, JsonObject> Signatures) Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes) throw new InvalidModelFileException(path, $"fingerprint file of {info.Length} bytes exceeds the {MaxBytes}-byte limit");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw new InvalidModelFileException(path, "fingerprint is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidModelFileException(path, "fingerprint is not valid JSON: " + e.Message.Split('\n')[0]);
        }

        try
        {
            if ((string?)root["format"] != FormatName) throw new InvalidModelFileException(path, $"not a {FormatName} file");
            int version = (int?)root["version"] ?? 0;
            if (version != Version) throw new InvalidModelFileException(path, $"fingerprint version {version} is not supported (expected {Version})");
            var m = root["model"] as JsonObject ?? throw new InvalidModelFileException(path, "fingerprint has no model section");
            var summary = new ModelSummary(
                (string?)m["path"] ?? path, "fingerprint", (string?)m["format"] ?? "unknown", (string?)m["architecture"] ?? "unknown",
                (int?)m["layers"] ?? 0, (long?)m["parameters"] ?? 0, (long?)m["bytes"] ?? 0, null, (string?)m["revision"]);
            var signatures = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            if (root["methods"] is JsonObject methods)
            {
                foreach (var (id, node) in methods)
                {
                    if (node is JsonObject o) signatures[id] = (JsonObject)o.DeepClone();
                }
            }

            return (summary, signatures);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidModelFileException(path, "malformed fingerprint: " + e.Message);
        }
    }

    public static JsonObject ModelJson(ModelSummary m)
    {
        var o = new JsonObject
        {
            ["path"] = m.Path,
            ["source"] = m.Source,
            ["format"] = m.Format,
            ["architecture"] = m.Architecture,
            ["layers"] = m.Layers,
            ["parameters"] = m.Parameters,
            ["bytes"] = m.Bytes,
            ["revision"] = m.Revision,
        };
        if (m.Geometry is { } g)
        {
            o["geometry"] = new JsonObject
            {
                ["hidden_size"] = g.HiddenSize,
                ["heads"] = g.Heads,
                ["kv_heads"] = g.KvHeads,
                ["head_dim"] = g.HeadDim,
                ["intermediate_size"] = g.IntermediateSize,
                ["vocab_size"] = g.VocabSize,
                ["experts"] = g.Experts,
            };
        }

        return o;
    }
}
