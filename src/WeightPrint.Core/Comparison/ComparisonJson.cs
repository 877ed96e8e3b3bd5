using System.Text.Json;
using System.Text.Json.Nodes;
using WeightPrint.Signals;

namespace WeightPrint.Comparison;

/// <summary>
/// The documented JSON contract of <c>compare</c> (README, "JSON output"): models, identity, methods (id, status,
/// score, p_value, null, background_percentile, per_curve, per_layer, raw), verdict.
/// </summary>
internal static class ComparisonJson
{
    public const int SchemaVersion = 1;

    public static JsonObject ToJson(ComparisonResult r)
    {
        var models = new JsonArray();
        foreach (var m in r.Models) models.Add((JsonNode)FingerprintFile.ModelJson(m));
        var methods = new JsonArray();
        foreach (var m in r.Methods) methods.Add((JsonNode)MethodJson(m));
        var root = new JsonObject
        {
            ["schema_version"] = SchemaVersion,
            ["tool"] = "weightprint",
            ["tool_version"] = ToolInfo.Version,
            ["tool_commit"] = ToolInfo.Commit,
            ["seed"] = r.Seed,
            ["models"] = models,
            ["identity"] = r.Identity is { } id ? new JsonObject
            {
                ["compared_tensors"] = id.Compared,
                ["identical_tensors"] = id.Identical,
                ["tensors_in_one_model_only"] = id.OnlyInOne,
                ["all_identical"] = id.AllIdentical,
                ["shared_tensors"] = SharedJson(id.Shared),
            } : null,
            ["methods"] = methods,
            ["verdict"] = new JsonObject { ["label"] = r.Verdict.Label, ["reason"] = r.Verdict.Reason },
        };
        if (r.NonFinite.Count > 0)
        {
            var nonFinite = new JsonArray();
            foreach (var t in r.NonFinite) nonFinite.Add((JsonNode)new JsonObject { ["model"] = t.Model, ["tensor"] = t.Tensor });
            root["non_finite"] = new JsonObject { ["tensors"] = nonFinite, ["policy"] = NonFiniteTensor.Policy };
        }

        return root;
    }

    public static string Serialize(ComparisonResult r) => JsonText.Serialize(ToJson(r));

    /// <summary>One reference compared with several models: <c>{"schema_version", "tool", "comparisons": [document, …]}</c>,
    /// each element exactly what <see cref="Serialize"/> prints for that pair.</summary>
    public static string SerializeMany(IReadOnlyList<ComparisonResult> results)
    {
        var list = new JsonArray();
        foreach (var r in results) list.Add((JsonNode)ToJson(r));
        return JsonText.Serialize(new JsonObject { ["schema_version"] = SchemaVersion, ["tool"] = "weightprint", ["tool_version"] = ToolInfo.Version, ["tool_commit"] = ToolInfo.Commit, ["comparisons"] = list });
    }

    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static JsonObject MethodJson(MethodResult m)
    {
        var perCurve = new JsonObject();
        foreach (var (k, v) in m.PerCurve) perCurve[k] = Num(v);
        var perLayer = new JsonArray();
        foreach (var l in m.PerLayer)
        {
            perLayer.Add((JsonNode)new JsonObject
            {
                ["layer_a"] = l.LayerA,
                ["layer_b"] = l.LayerB,
                ["score"] = Num(l.Score),
                ["p_value"] = l.PValue is { } p ? Num(p) : null,
                ["p_value_is_bound"] = l.PValue is { } lb && WeightPrint.Statistics.PValueText.AtFloor(lb),
            });
        }

        var o = new JsonObject
        {
            ["id"] = m.Id,
            ["status"] = m.Status == MethodStatus.Ok ? "ok" : "not_applicable",
            ["score"] = Num(m.Score),
            ["p_value"] = m.PValue is { } pv ? Num(pv) : null,
            ["p_value_is_bound"] = m.PValue is { } bound && WeightPrint.Statistics.PValueText.AtFloor(bound),
            ["null"] = m.NullDescription,
            ["null_kind"] = NullKindText(m.NullKind),
            ["background_percentile"] = m.BackgroundPercentile is { } bp ? Num(bp) : null,
            ["per_curve"] = perCurve,
            ["per_layer"] = perLayer,
            ["evidence"] = m.Evidence.ToString().ToLowerInvariant(),
            ["summary"] = m.Summary,
            ["reason"] = m.Reason,
            ["raw"] = MethodDetailsJson.ToJson(m.Details),
        };
        if (m.Transform != null) o["transform"] = m.Transform;
        if (m.Parts.Count > 0)
        {
            var parts = new JsonArray();
            foreach (var t in m.Parts)
            {
                parts.Add((JsonNode)new JsonObject
                {
                    ["part"] = t.Part, ["layer_a"] = t.LayerA, ["layer_b"] = t.LayerB, ["score"] = Num(t.Score), ["p_value"] = Num(t.PValue),
                    ["p_value_is_bound"] = WeightPrint.Statistics.PValueText.AtFloor(t.PValue),
                });
            }

            o["parts"] = parts;
        }

        if (m.LayerMatrix != null)
        {
            var rows = new JsonArray();
            foreach (var row in m.LayerMatrix) rows.Add((JsonNode)SignatureJson.ToArray(row));
            o["layer_matrix"] = rows;
        }

        return o;
    }

    /// <summary>The JSON spelling of a null kind: "none", "exact_permutation", "calibrated", "simulated".</summary>
    public static string NullKindText(NullKind k) => k switch
    {
        NullKind.ExactPermutation => "exact_permutation",
        NullKind.Calibrated => "calibrated",
        NullKind.Simulated => "simulated",
        _ => "none",
    };

    /// <summary>Identity as evidence: null when fingerprints were not computed (Hub models).</summary>
    private static JsonObject? SharedJson(WeightPrint.Verdict.SharedTensors? shared)
    {
        if (shared is null) return null;
        var matches = new JsonArray();
        foreach (var m in shared.Matches)
        {
            matches.Add((JsonNode)new JsonObject
            {
                ["key_a"] = m.KeyA,
                ["tensor_a"] = m.NameA,
                ["key_b"] = m.KeyB,
                ["tensor_b"] = m.NameB,
                ["relation"] = m.Relation,
                ["values"] = m.Values,
                ["dtypes"] = m.DTypes,
            });
        }

        return new JsonObject
        {
            ["non_trivial_tensors_b"] = shared.NonTrivialInB,
            ["min_values"] = TensorFingerprint.MinValues,
            ["min_distinct_values"] = TensorFingerprint.MinDistinctValues,
            ["matches"] = matches,
        };
    }

    private static JsonValue? Num(double v) => MethodDetailsJson.Num(v);
}
