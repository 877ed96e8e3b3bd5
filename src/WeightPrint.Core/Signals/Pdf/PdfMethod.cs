using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Numerics;

namespace WeightPrint.Signals.Pdf;

/// <summary>
/// The published LLM-Fingerprint statistic ("intrinsic fingerprint", PDF): per layer the standard deviation
/// (unbiased, as <c>torch.std</c>) of each attention projection weight Q, K, V, O; each depth curve z-scored;
/// Pearson r per curve between two models (shorter curve linearly resampled); the score is the mean of the four r.
/// Descriptive: it has no null distribution, and unrelated models of similar shape reach 0.93.
/// </summary>
internal sealed class PdfMethod : SignalMethod
{
    public static readonly string[] Curves = ["q", "k", "v", "o"];

    private static readonly TensorRole[] CurveRoles = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO];

    public override string Id => "pdf";

    public override string Description =>
        "LLM-Fingerprint: mean Pearson r between two models' depth curves of the standard deviation of the Q, K, V and O projection weights (each curve z-scored across layers).";

    public override string NullDescription => "none: descriptive statistic without a null distribution; shown against the published background of unrelated pairs";

    public override string FailureModes =>
        "Unrelated models of similar depth and training recipe reach 0.93 (the curves mostly reflect initialisation and depth); a function-preserving rescale of Q against K (or V against O) changes the curves at will; z-scoring hides absolute differences.";

    public override bool HasSignature => true;

    public override long SignatureBytes(ModelView model) => TensorMomentsJob.Bytes(Jobs(model));

    /// <summary>The tensors the signature reads, by curve and layer.</summary>
    private static List<TensorMomentsJob> Jobs(ModelView model)
    {
        var layers = TensorMomentsJob.DepthLayers(model);
        var jobs = new List<TensorMomentsJob>();
        for (int l = 0; l < layers.Count; l++)
        {
            for (int c = 0; c < Curves.Length; c++)
            {
                if (layers[l].Get(CurveRoles[c]) is { } v) jobs.Add(new(Curves[c], l, v));
            }

            if (layers[l].Get(TensorRole.AttnNorm) is { } an) jobs.Add(new("attn_norm", l, an));
            if (layers[l].Get(TensorRole.MlpNorm) is { } mn) jobs.Add(new("mlp_norm", l, mn));
        }

        return jobs;
    }

    public override JsonObject ExtractSignature(ModelView model, MethodContext context)
    {
        var layers = TensorMomentsJob.DepthLayers(model);
        int n = layers.Count;
        var jobs = Jobs(model);
        var moments = TensorMomentsJob.ComputeAll(jobs, context);
        var std = new Dictionary<string, double[]>();
        foreach (var c in Curves) std[c] = Filled(n);
        var norms = new Dictionary<string, double[]> { ["attn_norm"] = Filled(n), ["mlp_norm"] = Filled(n) };
        long nonFinite = 0;
        for (int i = 0; i < jobs.Count; i++)
        {
            var (curve, layer, _) = jobs[i];
            var m = moments[i];
            nonFinite += m.NaNCount + m.InfinityCount;
            if (std.TryGetValue(curve, out var s)) s[layer] = m.StandardDeviation;
            else norms[curve][layer] = m.Mean;
        }

        var signature = new JsonObject
        {
            ["layers"] = n,
            ["std"] = CurvesToJson(std),
            ["normalised"] = CurvesToJson(std.ToDictionary(kv => kv.Key, kv => PdfStatistic.ZScore(kv.Value))),
        };
        signature["norm_mean"] = CurvesToJson(norms.Where(kv => kv.Value.Any(double.IsFinite)).ToDictionary());
        signature["non_finite_values"] = nonFinite;
        signature["tensors"] = new JsonArray(Curves.Select((c, ci) => (JsonNode?)new JsonObject
        {
            ["curve"] = c,
            ["example"] = layers.Count > 0 && layers[0].Get(CurveRoles[ci]) is { } v ? v.Description : null,
        }).ToArray());
        return signature;
    }

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        // A's first: when it has no signature (a catalog entry made from samples only), B's whole tensors are not read for nothing.
        var sa = SignatureOf(a, context);
        if (sa == null) return NotApplicable($"{a.Label} has neither weights nor a pdf signature");
        var sb = SignatureOf(b, context);
        if (sb == null) return NotApplicable($"{b.Label} has neither weights nor a pdf signature");
        int la = (int)sa["layers"]!, lb = (int)sb["layers"]!;
        if (la == 0 || lb == 0) return NotApplicable($"{(la == 0 ? a.Label : b.Label)} has no recognised attention layers");

        var perCurve = new Dictionary<string, double>();
        foreach (var c in Curves)
            perCurve[c] = PdfStatistic.CurveCorrelation(SignatureJson.ReadDoubles(sa["std"]![c]), SignatureJson.ReadDoubles(sb["std"]![c]));
        var undefined = perCurve.Where(kv => double.IsNaN(kv.Value)).Select(kv => kv.Key).ToList();
        double score = undefined.Count == 0 ? perCurve.Values.Average() : double.NaN;
        double? percentile = PdfBackground.Published.UnrelatedPercentile(score);

        var details = new PdfDetails(la, lb, la != lb, double.IsNaN(score) ? double.NaN : (score + 1) / 2, undefined, Curated(sa), Curated(sb),
            new PdfBackgroundPosition(PdfBackground.Citation, PdfBackground.Published.Unrelated.Count, percentile,
                PdfBackground.Published.RelatedPercentile(score), PdfBackground.Published.Unrelated[^1]));

        // A curve with no defined value (the model has no such projection) is absent; one with values that do not vary is constant.
        bool Absent(JsonObject s, string c) => SignatureJson.ReadDoubles(s["std"]?[c] ?? new JsonArray()).All(x => !double.IsFinite(x));
        var absent = undefined.Where(c => Absent(sa, c) || Absent(sb, c)).ToList();
        var constant = undefined.Except(absent).ToList();
        string summary = double.IsNaN(score)
            ? "undefined: " + string.Join("; ", new[]
            {
                absent.Count > 0 ? $"the {string.Join(", ", absent)} {(absent.Count == 1 ? "curve is" : "curves are")} absent from at least one model" : null,
                constant.Count > 0 ? $"the {string.Join(", ", constant)} {(constant.Count == 1 ? "curve is" : "curves are")} constant in at least one model" : null,
            }.Where(x => x != null)) + ", so r is undefined"
            : $"mean r = {score:F3} (Q {Fmt(perCurve["q"])}, K {Fmt(perCurve["k"])}, V {Fmt(perCurve["v"])}, O {Fmt(perCurve["o"])}); "
              + $"above {percentile:F1}% of unrelated model pairs — descriptive, not a test: unrelated models reach {PdfBackground.Published.Unrelated[^1]:F2}";
        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = null,
            NullDescription = NullDescription,
            BackgroundPercentile = percentile,
            PerCurve = perCurve,
            Details = details,
            Evidence = Evidence.None,
            Summary = summary,
        };
    }

    private static PdfCurves Curated(JsonObject signature) => new(CurvesOf(signature["std"]), CurvesOf(signature["normalised"]), CurvesOf(signature["norm_mean"]));

    /// <summary>A signature's curves ({"q": [...], ...}) as read: null when absent, entries that are not arrays left out.</summary>
    internal static Dictionary<string, double[]>? CurvesOf(JsonNode? node)
    {
        if (node is not JsonObject o) return null;
        var curves = new Dictionary<string, double[]>();
        foreach (var (k, v) in o)
        {
            if (v is JsonArray) curves[k] = SignatureJson.ReadDoubles(v);
        }

        return curves;
    }

    internal static JsonObject CurvesToJson(Dictionary<string, double[]> curves)
    {
        var o = new JsonObject();
        foreach (var (k, v) in curves) o[k] = SignatureJson.ToArray(v);
        return o;
    }

    private static double[] Filled(int n)
    {
        var a = new double[n];
        Array.Fill(a, double.NaN);
        return a;
    }

    internal static string Fmt(double v) => double.IsNaN(v) ? "undefined" : v.ToString("F3");
}
