namespace WeightPrint.Signals.Pdf;

/// <summary>One model's depth curves, by curve name ("q", "k", "v", "o"; pdf-mlp: "gate", "up", "down"), one value per layer.</summary>
/// <param name="Std">Standard deviation of each projection weight per layer (NaN where a layer lacks it); null when the signature has none.</param>
/// <param name="Normalised">The same curves z-scored across layers (what the statistic correlates).</param>
/// <param name="NormMean">Mean of the attention and MLP norm weights per layer (pdf only; null when absent).</param>
public sealed record PdfCurves(IReadOnlyDictionary<string, double[]>? Std, IReadOnlyDictionary<string, double[]>? Normalised, IReadOnlyDictionary<string, double[]>? NormMean = null);

/// <summary>Where a pdf score falls among the published background pairs.</summary>
/// <param name="Source">The citation of the background.</param>
/// <param name="UnrelatedPairs">Number of unrelated pairs in the background.</param>
/// <param name="UnrelatedPercentile">Percentile of the score among unrelated pairs (null when the score is undefined).</param>
/// <param name="RelatedPercentile">Percentile of the score among related pairs (null when the score is undefined).</param>
/// <param name="UnrelatedMax">The highest score of an unrelated pair.</param>
public sealed record PdfBackgroundPosition(string Source, int UnrelatedPairs, double? UnrelatedPercentile, double? RelatedPercentile, double UnrelatedMax);

/// <summary>What <c>pdf</c> computed for one pair (JSON <c>raw</c> of the pdf method).</summary>
/// <param name="LayersA">Layers of A with attention projections.</param>
/// <param name="LayersB">Layers of B with attention projections.</param>
/// <param name="Interpolated">True when depths differ and the shorter curve was resampled.</param>
/// <param name="RescaledScore">(score + 1) / 2, the published scale (NaN when the score is undefined).</param>
/// <param name="UndefinedCurves">Curves whose correlation is undefined (absent or constant).</param>
/// <param name="A">A's curves.</param>
/// <param name="B">B's curves.</param>
/// <param name="Background">The score's position in the published background.</param>
public sealed record PdfDetails(int LayersA, int LayersB, bool Interpolated, double RescaledScore, IReadOnlyList<string> UndefinedCurves,
    PdfCurves A, PdfCurves B, PdfBackgroundPosition Background) : MethodDetails;

/// <summary>What <c>pdf-mlp</c> computed for one pair (JSON <c>raw</c> of the pdf-mlp method).</summary>
/// <param name="LayersA">Layers of A.</param>
/// <param name="LayersB">Layers of B.</param>
/// <param name="Interpolated">True when depths differ and the shorter curve was resampled.</param>
/// <param name="A">A's gate, up and down curves.</param>
/// <param name="B">B's gate, up and down curves.</param>
public sealed record PdfMlpDetails(int LayersA, int LayersB, bool Interpolated, PdfCurves A, PdfCurves B) : MethodDetails;
