using System.Text.Json.Nodes;
using WeightPrint.Model;

namespace WeightPrint.Signals.Pdf;

/// <summary>
/// The LLM-Fingerprint arithmetic carried over to the MLP: per layer the standard deviation of the gate, up and
/// down projection weights (averaged over routed experts in MoE layers), each depth curve z-scored, Pearson r per
/// curve, the score the mean of the defined r. Not part of the published statistic and kept apart from it, because
/// it reads about twice the bytes of the attention curves (for an MoE model, nearly the whole model). Descriptive
/// like pdf, and without even a published background.
/// </summary>
internal sealed class PdfMlpMethod : SignalMethod
{
    public static readonly string[] Curves = ["gate", "up", "down"];

    private static readonly TensorRole[] CurveRoles = [TensorRole.MlpGate, TensorRole.MlpUp, TensorRole.MlpDown];

    public override string Id => "pdf-mlp";

    public override string Description =>
        "The LLM-Fingerprint statistic on the MLP: mean Pearson r between two models' z-scored depth curves of the standard deviation of the gate, up and down projection weights (experts averaged).";

    public override string NullDescription => "none: descriptive statistic without a null distribution or a published background";

    public override string FailureModes =>
        "As for pdf: the curves mostly follow initialisation and depth, a function-preserving rescale of up against down changes them at will, and no background of unrelated pairs exists for the MLP curves.";

    public override bool HasSignature => true;

    public override long SignatureBytes(ModelView model) => TensorMomentsJob.Bytes(Jobs(model));

    /// <summary>The tensors the signature reads, by curve and layer.</summary>
    private static List<TensorMomentsJob> Jobs(ModelView model)
    {
        var layers = TensorMomentsJob.DepthLayers(model);
        var jobs = new List<TensorMomentsJob>();
        for (int l = 0; l < layers.Count; l++)
        {
            var sets = layers[l].Experts.Count > 0 ? layers[l].Experts.Where(e => !e.IsShared).Select(e => e.Tensors) : [layers[l].Tensors];
            foreach (var set in sets)
            {
                for (int c = 0; c < Curves.Length; c++)
                {
                    if (set.GetValueOrDefault(CurveRoles[c]) is { } v) jobs.Add(new(Curves[c], l, v));
                }
            }
        }

        return jobs;
    }

    public override JsonObject ExtractSignature(ModelView model, MethodContext context)
    {
        var layers = TensorMomentsJob.DepthLayers(model);
        int n = layers.Count;
        var jobs = Jobs(model);
        var moments = TensorMomentsJob.ComputeAll(jobs, context);
        var sum = Curves.ToDictionary(c => c, _ => new double[n]);
        var count = Curves.ToDictionary(c => c, _ => new int[n]);
        long nonFinite = 0;
        for (int i = 0; i < jobs.Count; i++)
        {
            var (curve, layer, _) = jobs[i];
            nonFinite += moments[i].NaNCount + moments[i].InfinityCount;
            sum[curve][layer] += moments[i].StandardDeviation;
            count[curve][layer]++;
        }

        var std = new Dictionary<string, double[]>();
        foreach (var c in Curves)
        {
            if (count[c].All(k => k == 0)) continue;
            std[c] = sum[c].Select((v, l) => count[c][l] == 0 ? double.NaN : v / count[c][l]).ToArray();
        }

        return new JsonObject
        {
            ["layers"] = n,
            ["std"] = PdfMethod.CurvesToJson(std),
            ["normalised"] = PdfMethod.CurvesToJson(std.ToDictionary(kv => kv.Key, kv => PdfStatistic.ZScore(kv.Value))),
            ["experts_averaged"] = layers.Any(l => l.Experts.Count > 0),
            ["non_finite_values"] = nonFinite,
        };
    }

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        // A's first: when it has no signature (a catalog entry made from samples only), B's whole tensors are not read for nothing.
        var sa = SignatureOf(a, context);
        if (sa == null) return NotApplicable($"{a.Label} has neither weights nor a pdf-mlp signature");
        var sb = SignatureOf(b, context);
        if (sb == null) return NotApplicable($"{b.Label} has neither weights nor a pdf-mlp signature");
        int la = (int)sa["layers"]!, lb = (int)sb["layers"]!;
        var perCurve = new Dictionary<string, double>();
        foreach (var c in Curves)
        {
            if (sa["std"]?[c] is JsonNode ca && sb["std"]?[c] is JsonNode cb)
                perCurve[c] = PdfStatistic.CurveCorrelation(SignatureJson.ReadDoubles(ca), SignatureJson.ReadDoubles(cb));
        }

        if (perCurve.Count == 0) return NotApplicable("the two models share no MLP projection (gate, up or down) in their layers");
        var defined = perCurve.Where(kv => !double.IsNaN(kv.Value)).ToList();
        double score = defined.Count > 0 ? defined.Average(kv => kv.Value) : double.NaN;
        string curves = string.Join(", ", perCurve.Select(kv => $"{kv.Key} {PdfMethod.Fmt(kv.Value)}"));
        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = null,
            NullDescription = NullDescription,
            PerCurve = perCurve,
            Details = new PdfMlpDetails(la, lb, la != lb, new PdfCurves(PdfMethod.CurvesOf(sa["std"]), PdfMethod.CurvesOf(sa["normalised"])),
                new PdfCurves(PdfMethod.CurvesOf(sb["std"]), PdfMethod.CurvesOf(sb["normalised"]))),
            Evidence = Evidence.None,
            Summary = double.IsNaN(score)
                ? $"undefined: every MLP curve is constant in at least one model ({curves})"
                : $"mean r = {score:F3} ({curves}) — descriptive, not a test, and without a background of unrelated pairs",
        };
    }
}
