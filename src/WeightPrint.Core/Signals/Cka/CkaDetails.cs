using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.Cka;

/// <summary>What <c>cka</c> computed for one pair (JSON <c>raw</c> of the cka method).</summary>
/// <param name="Z">Score standardised against the unaligned background.</param>
/// <param name="BackgroundMean">Mean CKA with B's residual dimensions randomly permuted.</param>
/// <param name="BackgroundSd">Its standard deviation.</param>
/// <param name="Examples">Residual dimensions used as examples.</param>
/// <param name="MaxFeatures">Most features sampled per matrix.</param>
/// <param name="LayerPairing">How layers of A were paired with layers of B.</param>
/// <param name="Alignment">The residual alignment applied to B.</param>
/// <param name="Seed">The sampling seed.</param>
public sealed record CkaDetails(double Z, double BackgroundMean, double BackgroundSd, int Examples, int MaxFeatures, string LayerPairing, AlignmentDetails Alignment, int Seed) : MethodDetails;
