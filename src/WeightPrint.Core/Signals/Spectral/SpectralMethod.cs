using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Statistics;

namespace WeightPrint.Signals.Spectral;

/// <summary>
/// <c>spectral</c>: compares the singular-value spectra of every head's QK circuit (W_Qᵀ W_K) and OV circuit
/// (W_O W_V). These are invariant to any orthogonal change of the residual basis, to head permutation, and to the
/// per-layer Q/K and V/O rescaling that fools weight-distribution methods. The score is the mean, over layer pairs in
/// depth order, of the LAP-matched head correlation of centred log spectra; its null shuffles model B's layers
/// (<see cref="LayerOrderTest"/>), so it comes from the pair itself rather than from untrained weights.
/// </summary>
internal sealed class SpectralMethod : SignalMethod
{
    /// <summary>Fewest heads (over all layers) a model needs: centring by the model's mean head spectrum leaves a single head with nothing.</summary>
    public const int MinHeads = 2;

    public override string Id => SpectralSignature.SignatureKey;

    public override string Description =>
        "Correlation of the centred log singular-value spectra of each head's QK (W_Qᵀ·W_K) and OV (W_O·W_V) circuits, heads matched one-to-one, averaged over paired layers.";

    public override string NullDescription =>
        "Layer-order permutation, from the pair itself: the statistic (mean head-matched similarity of the layer pairs of the best depth-order-preserving pairing) "
        + "is recomputed with model B's layers shuffled — every order when B has at most " + LayerOrderTest.MaxExhaustiveLayers + " layers, else seeded random orders — "
        + "p = (b + 1)/(m + 1), and beyond the Monte Carlo range the Student-t tail of the shuffled values. Calibrated, not exact: it assumes that for independently "
        + "initialised models the depth order of B's layers carries no information about A's; checked on labelled independent pairs (README, calibration), "
        + "so it supports a rejection and counts for \"independent\" but cannot call a pair derived alone. With L layers the smallest exhaustive p is 1/L!.";

    public override NullKind NullKind => NullKind.Calibrated;

    public override IReadOnlyList<string> Invariances => ["any orthogonal map of the residual stream", "head permutation", "Q/K and V/O rescaling", "any invertible map inside a head"];

    public override string FailureModes =>
        "Changes that alter spectra inside a head (heavy fine-tuning of attention, norm gains folded into Q/K/V before a rotation) lower the score; "
        + "few heads or a small head size make it noisy; trained independent models can sit above the random-init background.";

    public override bool HasSignature => true;

    public override long SignatureBytes(ModelView model) => SpectralSignature.ReadBytes(model);

    public override JsonObject ExtractSignature(ModelView model, MethodContext context)
        => SpectralSignature.ExtractJson(model, context.Threads, context.Progress);

    /// <summary>The input's spectral signature (saved or extracted), or a reason it has none.</summary>
    public static (SpectralSignature? Signature, string? Problem) SignatureFor(ComparisonInput input, MethodContext context) =>
        SpectralSignature.For(input, context.Threads, context.Progress);

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
        var test = LayerOrderTest.Run(matrix, context.Permutations, ModelParts.DeriveSeed(context.Seed, "spectral-layer-order"));
        var perLayer = new List<LayerScore>();
        var layerDetails = new List<SpectralLayer>();
        foreach (var (ia, ib) in test.Pairs)
        {
            double obs = matrix[ia][ib];
            // Descriptive per-layer rank: the share of B's layers at least as similar to this layer of A.
            double rank = matrix[ia].Count(x => x >= obs) / (double)matrix[ia].Length;
            perLayer.Add(new LayerScore(sa.LayerIndices[ia], sb.LayerIndices[ib], obs, rank));
            layerDetails.Add(new SpectralLayer(sa.LayerIndices[ia], sb.LayerIndices[ib], obs, rank));
        }

        double pValue = Math.Max(FisherMethod.MinPValue, test.PValue);
        return new MethodResult
        {
            Id = Id,
            Score = test.Observed,
            PValue = pValue,
            NullDescription = NullDescription,
            NullKind = NullKind,
            BackgroundPercentile = 100 * test.BelowShare, // JSON contract: percentiles on the 0–100 scale
            PerLayer = perLayer,
            LayerMatrix = matrix,
            Evidence = EvidenceLevels.Of(pValue),
            Details = new SpectralDetails(test.NullMean, test.NullSd, test.Z, test.Exceeding, test.Orders, test.Exhaustive, sa.Qk[0].Length, sb.Qk[0].Length, sa.HeadDim,
                context.Seed, layerDetails),
            Summary = $"attention spectra of {test.Pairs.Count} layer pairs in depth order correlate {test.Observed:F3} on average, "
                + $"against {test.NullMean:F3} ± {test.NullSd:F3} when B's layers are shuffled ({test.Exceeding} of {test.Orders} {(test.Exhaustive ? "orders" : "random orders")} reach it, {PValueText.Equation(pValue)})",
        };
    }
}
