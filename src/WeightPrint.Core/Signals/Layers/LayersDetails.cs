namespace WeightPrint.Signals.Layers;

/// <summary>A layer of A with a distinct partner in B.</summary>
/// <param name="LayerA">Layer of A.</param>
/// <param name="LayerB">Its best partner in B.</param>
/// <param name="Similarity">The matrix entry of the pair.</param>
public sealed record SharedLayer(int LayerA, int LayerB, double Similarity);

/// <summary>What <c>layers</c> computed for one pair (JSON <c>raw</c> of the layers method).</summary>
/// <param name="Source">The method whose layer matrix was used.</param>
/// <param name="Contrasts">Contrast of each candidate method's matrix, by method id.</param>
/// <param name="Skipped">Why each candidate without a matrix was skipped, by method id.</param>
/// <param name="MatrixMedian">Median of the matrix.</param>
/// <param name="MatrixRobustSd">Robust standard deviation of the matrix (1.4826 × MAD).</param>
/// <param name="SharedLayers">Layers of A whose best partner stands out.</param>
/// <param name="SourceEvidence">The evidence of the source method.</param>
public sealed record LayersDetails(string Source, IReadOnlyDictionary<string, double> Contrasts, IReadOnlyDictionary<string, string> Skipped, double MatrixMedian,
    double MatrixRobustSd, IReadOnlyList<SharedLayer> SharedLayers, Evidence SourceEvidence) : MethodDetails;
