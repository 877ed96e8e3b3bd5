using System.Text.Json.Nodes;
using WeightPrint.Signals;
using WeightPrint.Signals.Cka;
using WeightPrint.Signals.Layers;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Pdf;
using WeightPrint.Signals.Spectral;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Comparison;

/// <summary>
/// The one serializer of method details: each <see cref="MethodDetails"/> record as the <c>raw</c> object of the JSON
/// contract (README, "JSON output"; <c>docs/compare.schema.json</c>). Every number goes through <see cref="Num(double)"/>, the
/// document's single policy for values JSON cannot hold: NaN and ±Infinity are written as <c>null</c>.
/// </summary>
internal static class MethodDetailsJson
{
    /// <summary>The <c>raw</c> object of a method result (empty when it has no details).</summary>
    public static JsonObject ToJson(MethodDetails? details)
    {
        var o = details switch
        {
            null => [],
            PdfDetails d => Pdf(d),
            PdfMlpDetails d => new JsonObject
            {
                ["layers"] = new JsonArray(d.LayersA, d.LayersB),
                ["interpolated"] = d.Interpolated,
                ["a"] = new JsonObject { ["std"] = Curves(d.A.Std), ["normalised"] = Curves(d.A.Normalised) },
                ["b"] = new JsonObject { ["std"] = Curves(d.B.Std), ["normalised"] = Curves(d.B.Normalised) },
            },
            PcsDetails d => Pcs(d),
            NeuronMatchDetails d => NeuronMatch(d),
            SpectralDetails d => Spectral(d),
            CkaDetails d => new JsonObject
            {
                ["z"] = Num(d.Z),
                ["background_mean"] = Num(d.BackgroundMean),
                ["background_sd"] = Num(d.BackgroundSd),
                ["examples"] = d.Examples,
                ["max_features"] = d.MaxFeatures,
                ["layer_pairing"] = d.LayerPairing,
                ["alignment"] = Alignment(d.Alignment),
                ["seed"] = d.Seed,
            },
            LayersDetails d => Layers(d),
            _ => [],
        };
        if (details?.BackgroundScores is { } scores) o["background_scores"] = Numbers(scores);
        if (details?.BackgroundRelatedScores is { } related) o["background_related_scores"] = Numbers(related);
        if (details?.BackgroundSource is { } source) o["background_source"] = source;
        return o;
    }

    /// <summary>The number, or null when it is NaN or ±Infinity: the one policy for numbers JSON cannot hold.</summary>
    public static JsonValue? Num(double v) => SignatureJson.Number(v);

    private static JsonValue? Num(double? v) => v is { } x ? Num(x) : null;

    private static JsonArray Numbers(IEnumerable<double> values) => SignatureJson.ToArray(values);

    private static JsonObject? Curves(IReadOnlyDictionary<string, double[]>? curves)
    {
        if (curves == null) return null;
        var o = new JsonObject();
        foreach (var (k, v) in curves) o[k] = Numbers(v);
        return o;
    }

    private static JsonObject NumberMap(IReadOnlyDictionary<string, double> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = Num(v);
        return o;
    }

    private static JsonObject Pdf(PdfDetails d) => new()
    {
        ["layers"] = new JsonArray(d.LayersA, d.LayersB),
        ["interpolated"] = d.Interpolated,
        ["rescaled_score"] = Num(d.RescaledScore),
        ["undefined_curves"] = new JsonArray(d.UndefinedCurves.Select(u => (JsonNode?)u).ToArray()),
        ["a"] = PdfSide(d.A),
        ["b"] = PdfSide(d.B),
        ["background"] = new JsonObject
        {
            ["source"] = d.Background.Source,
            ["unrelated_pairs"] = d.Background.UnrelatedPairs,
            ["unrelated_percentile"] = Num(d.Background.UnrelatedPercentile),
            ["related_percentile"] = Num(d.Background.RelatedPercentile),
            ["unrelated_max"] = Num(d.Background.UnrelatedMax),
        },
    };

    private static JsonObject PdfSide(PdfCurves c) => new() { ["std"] = Curves(c.Std), ["normalised"] = Curves(c.Normalised), ["norm_mean"] = Curves(c.NormMean) };

    private static JsonObject Pcs(PcsDetails d)
    {
        var layers = new JsonArray();
        foreach (var l in d.Layers)
        {
            layers.Add((JsonNode)new JsonObject
            {
                ["layer_a"] = l.LayerA, ["layer_b"] = l.LayerB, ["pcs"] = Num(l.Pcs), ["z"] = Num(l.Z), ["p_value"] = Num(l.PValue), ["tensors"] = NumberMap(l.Tensors),
            });
        }

        return new JsonObject
        {
            ["z"] = Num(d.Z),
            ["exceeding"] = d.Exceeding,
            ["p_value_rule"] = d.PValueRule,
            ["p_value_attention"] = Num(d.PValueAttention),
            ["p_value_mlp"] = Num(d.PValueMlp),
            ["permutations"] = d.Permutations,
            ["residual_sample"] = d.ResidualSample,
            ["other_sample"] = d.OtherSample,
            ["tensors"] = d.Tensors,
            ["layer_pairing"] = d.LayerPairing,
            ["alignment"] = Alignment(d.Alignment),
            ["seed"] = d.Seed,
            ["model_tensors"] = NumberMap(d.ModelTensors),
            ["layers"] = layers,
        };
    }

    private static JsonObject NeuronMatch(NeuronMatchDetails d)
    {
        var mlps = new JsonArray();
        foreach (var o in d.PerMlp)
        {
            mlps.Add((JsonNode)new JsonObject
            {
                ["layer_a"] = o.LayerA, ["layer_b"] = o.LayerB, ["part"] = o.Part, ["matched"] = o.Matched, ["rho"] = Num(o.Rho),
                ["position_rho"] = Num(o.PositionRho), ["position_p_value"] = Num(o.PositionPValue),
                ["null_rho_mean"] = Num(o.NullRhoMean),
                ["mean_matched_cosine_first"] = Num(o.MeanMatchedCosineFirst), ["mean_matched_cosine_second"] = Num(o.MeanMatchedCosineSecond),
            });
        }

        return new JsonObject
        {
            ["position_p_value"] = Num(d.PositionPValue),
            ["agreement_p_value"] = Num(d.AgreementPValue),
            ["agreement_null_mean"] = Num(d.AgreementNullMean),
            ["agreement_null_sd"] = Num(d.AgreementNullSd),
            ["agreement_draws_exceeding"] = d.AgreementDrawsExceeding,
            ["null_draws"] = d.NullDraws,
            ["fisher_statistic"] = Num(d.FisherStatistic),
            ["mlps"] = d.Mlps,
            ["max_neurons"] = d.MaxNeurons,
            ["residual_dims"] = d.ResidualDims,
            ["layer_pairing"] = d.LayerPairing,
            ["alignment"] = Alignment(d.Alignment),
            ["seed"] = d.Seed,
            ["per_mlp"] = mlps,
            ["experts"] = d.Experts is { } e ? Experts(e) : null,
        };
    }

    /// <summary>The <c>raw.experts</c> object of neuron-match.</summary>
    internal static JsonObject Experts(ExpertMatchDetails e)
    {
        var layers = new JsonArray();
        foreach (var l in e.Layers)
        {
            var pairs = new JsonArray();
            foreach (var p in l.Pairs)
                pairs.Add((JsonNode)new JsonObject { ["a"] = p.PartA, ["b"] = p.PartB, ["similarity"] = Num(p.Similarity), ["p_value"] = Num(p.PValue) });
            layers.Add((JsonNode)new JsonObject { ["layer_a"] = l.LayerA, ["layer_b"] = l.LayerB, ["kind"] = l.Kind, ["p_value"] = Num(l.PValue), ["pairs"] = pairs });
        }

        return new JsonObject
        {
            ["signature"] = e.Signature,
            ["null"] = e.Null,
            ["residual_dims"] = e.ResidualDims,
            ["permutations"] = e.Permutations,
            ["fisher_p_value"] = Num(e.FisherPValue),
            ["layers"] = layers,
        };
    }

    private static JsonObject Spectral(SpectralDetails d)
    {
        var layers = new JsonArray();
        foreach (var l in d.Layers)
            layers.Add((JsonNode)new JsonObject { ["layer_a"] = l.LayerA, ["layer_b"] = l.LayerB, ["score"] = Num(l.Score), ["row_rank"] = Num(l.RowRank) });
        return new JsonObject
        {
            ["null_mean"] = Num(d.NullMean),
            ["null_sd"] = Num(d.NullSd),
            ["z"] = Num(d.Z),
            ["exceeding"] = d.Exceeding,
            ["layer_orders"] = d.LayerOrders,
            ["exhaustive"] = d.Exhaustive,
            ["heads_a"] = d.HeadsA, ["heads_b"] = d.HeadsB, ["head_dim"] = d.HeadDim,
            ["seed"] = d.Seed,
            ["layers"] = layers,
        };
    }

    private static JsonObject Layers(LayersDetails d)
    {
        var skipped = new JsonObject();
        foreach (var (k, v) in d.Skipped) skipped[k] = v;
        var shared = new JsonArray();
        foreach (var l in d.SharedLayers) shared.Add((JsonNode)new JsonObject { ["layer_a"] = l.LayerA, ["layer_b"] = l.LayerB, ["similarity"] = Num(l.Similarity) });
        return new JsonObject
        {
            ["source"] = d.Source,
            ["contrasts"] = NumberMap(d.Contrasts),
            ["skipped"] = skipped,
            ["matrix_median"] = Num(d.MatrixMedian),
            ["matrix_robust_sd"] = Num(d.MatrixRobustSd),
            ["shared_layers"] = shared,
            ["source_evidence"] = d.SourceEvidence.ToString(),
            ["rows"] = "layers of A (positions in the decoder stack)",
            ["columns"] = "layers of B",
        };
    }

    private static JsonObject Alignment(AlignmentDetails a) => a.Kind == "cross-width" ? new()
    {
        ["kind"] = a.Kind,
        ["width_a"] = a.WidthA,
        ["width_b"] = a.WidthB,
        ["accepted"] = a.Accepted,
        ["transform"] = a.Transform,
        ["fit"] = Num(a.TransformFit),
        ["column_match"] = Num(a.ColumnMatch),
        ["tokens"] = a.Tokens,
        ["token_match"] = a.TokenMatch,
        ["note"] = a.Note,
    } : new()
    {
        ["kind"] = a.Kind,
        ["transform"] = a.Transform,
        ["accepted"] = a.Accepted,
        ["identity_fit"] = Num(a.IdentityFit),
        ["transform_fit"] = Num(a.TransformFit),
        ["tokens"] = a.Tokens,
        ["token_match"] = a.TokenMatch,
        ["note"] = a.Note,
    };
}
