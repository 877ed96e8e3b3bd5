using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Signals;
using WeightPrint.Signals.Cka;
using WeightPrint.Signals.Layers;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Pdf;
using WeightPrint.Signals.Spectral;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Comparison;

/// <summary>The one serializer of typed method details: every double of every record type that is NaN or ±Infinity is
/// written as null (checked on the tree itself, before <see cref="JsonText"/>'s own guard), and every other number
/// keeps its value. Integers are set to 7 and every double to a non-finite value, so any number other than 7 in the
/// output is a double that escaped the policy.</summary>
public class MethodDetailsJsonTests
{
    private const double Nan = double.NaN, Inf = double.PositiveInfinity, MinusInf = double.NegativeInfinity;

    private static readonly AlignmentDetails Alignment = new("identity", "none", true, Nan, Inf, 7, "string", "note");

    public static TheoryData<string, int> Cases => new()
    {
        { "pdf", 11 }, { "pdf-mlp", 6 }, { "pcs", 10 }, { "neuron-match", 17 }, { "spectral", 5 }, { "cka", 5 }, { "layers", 4 }, { "background", 3 },
    };

    private static MethodDetails Details(string kind) => kind switch
    {
        "pdf" => new PdfDetails(7, 7, false, Nan, ["q"],
            new PdfCurves(new Dictionary<string, double[]> { ["q"] = [Nan, Inf] }, new Dictionary<string, double[]> { ["q"] = [MinusInf] }, new Dictionary<string, double[]> { ["attn_norm"] = [Nan] }),
            new PdfCurves(null, null), new PdfBackgroundPosition("source", 7, Nan, null, Inf)),
        "pdf-mlp" => new PdfMlpDetails(7, 7, true,
            new PdfCurves(new Dictionary<string, double[]> { ["gate"] = [Nan, Inf] }, new Dictionary<string, double[]> { ["gate"] = [MinusInf] }),
            new PdfCurves(new Dictionary<string, double[]> { ["gate"] = [Nan, Inf] }, new Dictionary<string, double[]> { ["gate"] = [MinusInf] })),
        "pcs" => new PcsDetails(Nan, 7, "all tensors together", Inf, Nan, 7, 7, 7, 7, "by position", Alignment, 7, new Dictionary<string, double> { ["embedding"] = Inf },
            [new PcsLayer(7, 7, Nan, MinusInf, Nan, new Dictionary<string, double> { ["q"] = Inf })]),
        "neuron-match" => new NeuronMatchDetails(Nan, Inf, MinusInf, Nan, 7, 7, Nan, 7, 7, 7, "by position", Alignment, 7,
            [new NeuronMatchMlp(7, 7, "mlp", 7, Nan, Inf, MinusInf, Nan, Inf, MinusInf)],
            new ExpertMatchDetails("signature", "null", 7, 7, Nan, [new ExpertLayer(7, 7, "experts", [new ExpertPair("expert0", "expert1", Nan, Inf)], MinusInf)])),
        "spectral" => new SpectralDetails(Nan, Inf, MinusInf, 7, 7, true, 7, 7, 7, 7, [new SpectralLayer(7, 7, Nan, Inf)]),
        "cka" => new CkaDetails(Nan, Inf, MinusInf, 7, 7, "by position", Alignment, 7),
        "layers" => new LayersDetails("pcs", new Dictionary<string, double> { ["pcs"] = Nan }, new Dictionary<string, string> { ["cka"] = "no vocabulary" }, Inf, MinusInf,
            [new SharedLayer(7, 7, Nan)], Evidence.Derived),
        _ => new Reports.HtmlReportTests.FakeDetails { BackgroundScores = [Nan, Inf], BackgroundRelatedScores = [MinusInf], BackgroundSource = "permutations" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_non_finite_number_of_a_record_is_written_as_null(string kind, int doubles)
    {
        var raw = MethodDetailsJson.ToJson(Details(kind));
        // Plain System.Text.Json refuses NaN and Infinity: writing succeeds only when the tree holds none.
        var back = JsonNode.Parse(raw.ToJsonString())!;
        var leaves = Leaves(back, "raw").ToList();
        Assert.All(leaves.Where(l => l.Node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number), l => Assert.Equal(7, (double)l.Node!));
        Assert.Equal(doubles, leaves.Count(l => l.Node == null));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_document_with_non_finite_details_still_matches_the_schema(string kind, int doubles)
    {
        Assert.True(doubles > 0);
        var method = new MethodResult { Id = "pcs", NullDescription = "none", Score = Nan, PValue = Inf, Details = Details(kind) };
        var model = new ModelSummary("m", "weights", "safetensors", "llama", 2, 10, 40, null);
        var result = new ComparisonResult([model, model], null, [method], new WeightPrint.Verdict.Verdict("inconclusive", "test"), 1);
        var json = JsonNode.Parse(ComparisonJson.Serialize(result))!;
        var schema = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(SharedModels.RepoRoot, "docs", "compare.schema.json")))!;
        Assert.Empty(MiniJsonSchema.Validate(json, schema));
        Assert.True(JsonNode.DeepEquals(MethodDetailsJson.ToJson(method.Details), json["methods"]![0]!["raw"]));
    }

    [Fact]
    public void Finite_values_keep_their_exact_value_and_the_contract_key_order()
    {
        var d = new SpectralDetails(0.1, 0.2, 1e-300, 3, 120, true, 4, 4, 24, 20250701, [new SpectralLayer(0, 1, 0.987654321, 0.5)]);
        var raw = JsonNode.Parse(MethodDetailsJson.ToJson(d).ToJsonString())!.AsObject();
        Assert.Equal(["null_mean", "null_sd", "z", "exceeding", "layer_orders", "exhaustive", "heads_a", "heads_b", "head_dim", "seed", "layers"], raw.Select(kv => kv.Key));
        Assert.Equal(1e-300, (double)raw["z"]!);
        Assert.Equal(0.987654321, (double)raw["layers"]![0]!["score"]!);
        Assert.Equal(1, (int)raw["layers"]![0]!["layer_b"]!);
        Assert.Empty(MethodDetailsJson.ToJson(null));
    }

    private static IEnumerable<(string Path, JsonNode? Node)> Leaves(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    foreach (var leaf in Leaves(v, path + "." + k)) yield return leaf;
                }

                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    foreach (var leaf in Leaves(a[i], $"{path}[{i}]")) yield return leaf;
                }

                break;
            default:
                yield return (path, node);
                break;
        }
    }
}
