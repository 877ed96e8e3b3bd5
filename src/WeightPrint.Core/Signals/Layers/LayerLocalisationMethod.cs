using WeightPrint.Signals.Cka;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;

namespace WeightPrint.Signals.Layers;

/// <summary>
/// <c>layers</c>: localisation. Runs the methods that produce a layer × layer similarity matrix (spectral, cka, pcs),
/// keeps the one whose matrix singles out partner layers most sharply (contrast: how far each row's best entry sits
/// above the matrix's typical entry, in robust standard deviations), and reports it with each of A's layers' best
/// partner in B — so pruned, duplicated (upscaled) or partially copied layers show up.
/// </summary>
internal sealed class LayerLocalisationMethod : SignalMethod
{
    /// <summary>A row's best entry counts as a shared layer when it is this many robust SDs above the matrix median and
    /// the source method itself rejects independence (evidence "derived"): unrelated matrices have outliers too.</summary>
    public const double SharedContrast = 4;

    public override string Id => "layers";

    public override string Description =>
        "Layer × layer similarity from the sharpest of spectral, cka and pcs, with each layer's best partner: which layers are shared.";

    public override string NullDescription => "none: descriptive (localisation; the deciding tests are the other methods)";

    /// <summary>The score is a contrast in robust standard deviations, not a similarity.</summary>
    public override bool ScoreIsSimilarity => false;

    public override string FailureModes => "Inherits the chosen method's blind spots; with one or two layers the contrast is unreliable.";

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context) => Compare(a, b, context, []);

    /// <summary>Uses the layer matrices of <paramref name="earlier"/> results of the same pair; runs only the matrix
    /// methods that did not run before.</summary>
    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context, IReadOnlyList<MethodResult> earlier)
    {
        var candidates = new List<(MethodResult Result, double Contrast)>();
        var skipped = new Dictionary<string, string>();
        foreach (var m in new SignalMethod[] { new SpectralMethod(), new CkaMethod(), new PcsMethod() })
        {
            var r = earlier.FirstOrDefault(x => x.Id == m.Id) ?? m.CompareInputs(a, b, context);
            if (r.Status != MethodStatus.Ok || r.LayerMatrix == null || r.LayerMatrix.Length == 0)
            {
                skipped[m.Id] = r.Reason ?? "no layer matrix";
                continue;
            }

            candidates.Add((r, Contrast(r.LayerMatrix)));
        }

        if (candidates.Count == 0)
            return NotApplicable("no method could build a layer × layer matrix (" + string.Join("; ", skipped.Select(kv => $"{kv.Key}: {kv.Value}")) + ")");
        var (best, contrast) = candidates.OrderByDescending(c => c.Contrast).First();
        var matrix = best.LayerMatrix!;
        var (median, spread) = RobustCentre(matrix);
        var perLayer = new List<LayerScore>();
        var shared = new List<SharedLayer>();
        for (int i = 0; i < matrix.Length; i++)
        {
            int arg = -1;
            for (int j = 0; j < matrix[i].Length; j++)
            {
                if (double.IsFinite(matrix[i][j]) && (arg < 0 || matrix[i][j] > matrix[i][arg])) arg = j;
            }

            if (arg < 0) continue;
            perLayer.Add(new LayerScore(i, arg, matrix[i][arg]));
            if (best.Evidence == Evidence.Derived && spread > 0 && (matrix[i][arg] - median) / spread >= SharedContrast) shared.Add(new SharedLayer(i, arg, matrix[i][arg]));
        }

        var contrasts = new Dictionary<string, double>();
        foreach (var (r, c) in candidates) contrasts[r.Id] = c;
        return new MethodResult
        {
            Id = Id,
            Score = contrast,
            PValue = null,
            NullDescription = NullDescription,
            PerLayer = perLayer,
            LayerMatrix = matrix,
            Evidence = Evidence.None,
            Details = new LayersDetails(best.Id, contrasts, skipped, median, spread, shared, best.Evidence),
            Summary = $"{shared.Count} of {WeightPrint.Statistics.NumberText.Count(matrix.Length, "layer")} of A {(shared.Count == 1 ? "has" : "have")} a distinct partner in B (matrix from {best.Id}, contrast {contrast:F1})",
        };
    }

    /// <summary>Mean over rows of (row maximum − matrix median) / robust SD (1.4826 × MAD).</summary>
    public static double Contrast(double[][] m)
    {
        var (median, spread) = RobustCentre(m);
        if (!(spread > 0)) return 0;
        var rows = m.Select(r => r.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max()).Where(double.IsFinite).ToList();
        return rows.Count == 0 ? 0 : rows.Average(x => (x - median) / spread);
    }

    private static (double Median, double Spread) RobustCentre(double[][] m)
    {
        var all = m.SelectMany(r => r).Where(double.IsFinite).Order().ToArray();
        if (all.Length == 0) return (double.NaN, 0);
        double median = Median(all);
        var dev = all.Select(x => Math.Abs(x - median)).Order().ToArray();
        double mad = 1.4826 * Median(dev);
        if (mad == 0) mad = Math.Sqrt(all.Sum(x => (x - median) * (x - median)) / all.Length);
        return (median, mad);
    }

    private static double Median(double[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
}
