using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Statistics;

namespace WeightPrint.Signals.Spectral;

/// <summary>
/// <c>spectral</c>: compares the singular-value spectra of every head's QK circuit (W_Qᵀ W_K) and OV circuit
/// (W_O W_V). These are invariant to any orthogonal change of the residual basis, to head permutation, and to the
/// per-layer Q/K and V/O rescaling that fools weight-distribution methods. The score is the mean, over paired
/// layers, of the LAP-matched head correlation of centred log spectra; its background comes from simulated
/// Gaussian-initialised layers of the second model's shape.
/// </summary>
public sealed class SpectralMethod : SignalMethod
{
    /// <summary>Fewest heads (over all layers) a model needs: centring by the model's mean head spectrum leaves a single head with nothing.</summary>
    public const int MinHeads = 2;

    public override string Id => SpectralSignature.SignatureKey;

    public override string Description =>
        "Correlation of the centred log singular-value spectra of each head's QK (W_Qᵀ·W_K) and OV (W_O·W_V) circuits, heads matched one-to-one, averaged over paired layers.";

    public override string NullDescription =>
        "Background of simulated models with the second model's shapes whose heads are independent Gaussian initialisations (head Gram matrices drawn from their Wishart law; "
        + $"{SpectralComparison.MinSimulatedLayers}–{SpectralComparison.MaxSimulatedLayers} layers, seeded); each layer's p-value is (b + 1)/(n + 1) against it "
        + "(beyond the simulated range: Student's t tail from its mean and SD), combined over layers by Fisher's method. "
        + "It models untrained independent weights: trained, independent models can share spectral shapes beyond it, so this p-value is supporting evidence only.";

    public override string FailureModes =>
        "Changes that alter spectra inside a head (heavy fine-tuning of attention, norm gains folded into Q/K/V before a rotation) lower the score; "
        + "few heads or a small head size make it noisy; trained independent models can sit above the random-init background.";

    public override bool HasSignature => true;

    public override JsonObject ExtractSignature(ModelView model, MethodContext context)
        => SpectralSignature.ExtractJson(model, context.Threads);

    /// <summary>The input's spectral signature (saved or extracted), or a reason it has none.</summary>
    public static (SpectralSignature? Signature, string? Problem) SignatureFor(ComparisonInput input, MethodContext context) =>
        SpectralSignature.For(input, context.Threads);

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        var (sa, pa) = SignatureFor(a, context);
        if (sa == null) return NotApplicable($"{a.Label}: {pa}");
        var (sb, pb) = SignatureFor(b, context);
        if (sb == null) return NotApplicable($"{b.Label}: {pb}");
        if (sa.LayerCount == 0 || sa.Qk[0].Length == 0) return NotApplicable($"{a.Label}: the spectral signature has no layers or heads");
        if (sb.LayerCount == 0 || sb.Qk[0].Length == 0) return NotApplicable($"{b.Label}: the spectral signature has no layers or heads");
        if (sa.HeadDim != sb.HeadDim) return NotApplicable($"head sizes differ ({sa.HeadDim} vs {sb.HeadDim}): spectra of different length");
        int totalA = sa.Qk.Sum(l => l.Length), totalB = sb.Qk.Sum(l => l.Length);
        if (Math.Min(totalA, totalB) < MinHeads)
            return NotApplicable($"{(totalA < MinHeads ? a.Label : b.Label)} has {Math.Min(totalA, totalB)} attention head in all: spectra are centred by the model's mean head, which leaves nothing to compare");
        if (sa.HeadDim < 3) return NotApplicable($"head size {sa.HeadDim} is too small for spectral correlations");

        var matrix = SpectralComparison.LayerMatrix(sa, sb);
        var pairs = LayerPairing.FromMatrix(matrix, out string pairing);
        var (qa, oa) = SpectralComparison.Centre(sa);

        // Background: whole simulated models of B's shape, each centred by its own mean like B itself.
        int headsB = sb.Qk[0].Length;
        int wanted = SpectralComparison.SimulatedLayers(headsB, sb.HeadDim);
        int models = Math.Max(1, (int)Math.Ceiling((double)wanted / sb.LayerCount));
        var nullLayers = SpectralComparison.Background(sb.Hidden, sb.HeadDim, headsB, sb.KvHeads, sb.LayerCount, models, ModelParts.DeriveSeed(context.Seed, "spectral-background"), context.Threads);

        var perLayer = new List<LayerScore>();
        var layersJson = new JsonArray();
        var layerP = new List<double>();
        double scoreSum = 0, nullMeanSum = 0, nullVarSum = 0;
        foreach (var (ia, ib) in pairs)
        {
            double obs = matrix[ia][ib];
            var nulls = nullLayers.Select(n => SpectralComparison.LayerSimilarity(qa[ia], oa[ia], n.Qk, n.Ov)).ToArray();
            double mean = nulls.Average();
            double sd = Math.Sqrt(nulls.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, nulls.Length - 1));
            int exceeding = nulls.Count(x => x >= obs);
            double p = PermutationTest.MonteCarloP(exceeding, nulls.Length);
            if (exceeding == 0 && sd > 0)
            {
                // Beyond the simulated range: Student's t tail of a new draw from the background (n − 1 dof), capped by the Monte Carlo bound.
                double t = (obs - mean) / (sd * Math.Sqrt(1 + 1.0 / nulls.Length));
                p = Math.Min(p, Math.Max(FisherMethod.MinPValue, Distributions.StudentTSurvival(t, nulls.Length - 1)));
            }

            layerP.Add(p);
            scoreSum += obs;
            nullMeanSum += mean;
            nullVarSum += sd * sd;
            perLayer.Add(new LayerScore(sa.LayerIndices[ia], sb.LayerIndices[ib], obs, p));
            layersJson.Add((JsonNode)new JsonObject
            {
                ["layer_a"] = sa.LayerIndices[ia], ["layer_b"] = sb.LayerIndices[ib], ["score"] = obs,
                ["background_mean"] = mean, ["background_sd"] = sd, ["exceeding"] = exceeding, ["p_value"] = p,
            });
        }

        int n = pairs.Count;
        double score = scoreSum / n;
        double pValue = Math.Max(FisherMethod.MinPValue, FisherMethod.Combine(layerP));
        double zAll = nullVarSum > 0 ? (score - nullMeanSum / n) / (Math.Sqrt(nullVarSum) / n) : 0;
        double percentile = Distributions.NormalCdf(zAll);
        var evidence = pValue < 1e-3 ? Evidence.Derived : pValue > 0.05 ? Evidence.Independent : Evidence.Unclear;
        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = pValue,
            NullDescription = NullDescription,
            BackgroundPercentile = 100 * percentile, // JSON contract: percentiles on the 0–100 scale
            PerLayer = perLayer,
            LayerMatrix = matrix,
            Evidence = evidence,
            Raw = new JsonObject
            {
                ["z"] = zAll,
                ["layer_pairing"] = pairing,
                ["heads_a"] = sa.Qk[0].Length, ["heads_b"] = sb.Qk[0].Length, ["head_dim"] = sa.HeadDim,
                ["background_layers"] = nullLayers.Count,
                ["seed"] = context.Seed,
                ["layers"] = layersJson,
            },
            Summary = $"attention spectra correlate {score:F3} on average over {n} layer pairs (z = {zAll:F1} against {nullLayers.Count} Gaussian-initialised layers, Fisher {PValueText.Equation(pValue)})",
        };
    }
}
