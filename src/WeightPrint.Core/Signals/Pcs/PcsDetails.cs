using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.Pcs;

/// <summary>One layer pair of <c>pcs</c>.</summary>
/// <param name="LayerA">Layer of A.</param>
/// <param name="LayerB">Layer of B.</param>
/// <param name="Pcs">Mean parameter cosine over the layer's tensors.</param>
/// <param name="Z">Standardised statistic under the residual-permutation null.</param>
/// <param name="PValue">The layer's residual-permutation p-value.</param>
/// <param name="Tensors">Cosine per tensor, by tensor name.</param>
public sealed record PcsLayer(int LayerA, int LayerB, double Pcs, double Z, double PValue, IReadOnlyDictionary<string, double> Tensors);

/// <summary>What <c>pcs</c> computed for one pair (JSON <c>raw</c> of the pcs method).</summary>
/// <param name="Z">Standardised overall statistic under the null.</param>
/// <param name="Exceeding">Residual permutations whose statistic reached the observed one.</param>
/// <param name="PValueRule">How the reported p-value was formed: all tensors together, or (B mapped by a fitted
/// transform) the largest of the attention and MLP p-values.</param>
/// <param name="PValueAttention">The permutation p-value of the attention tensors over all layer pairs (NaN when there are none).</param>
/// <param name="PValueMlp">The permutation p-value of the MLP tensors over all layer pairs (NaN when there are none).</param>
/// <param name="Permutations">Residual permutations drawn.</param>
/// <param name="ResidualSample">Residual dimensions sampled.</param>
/// <param name="OtherSample">Most indices sampled along each tensor's other axis.</param>
/// <param name="Tensors">Tensors compared.</param>
/// <param name="LayerPairing">How layers of A were paired with layers of B.</param>
/// <param name="Alignment">The residual alignment applied to B.</param>
/// <param name="Seed">The sampling and permutation seed.</param>
/// <param name="ModelTensors">Cosine of each model-level tensor (embedding, lm_head), by name.</param>
/// <param name="Layers">Per layer pair.</param>
public sealed record PcsDetails(double Z, int Exceeding, string PValueRule, double PValueAttention, double PValueMlp, int Permutations, int ResidualSample, int OtherSample, int Tensors, string LayerPairing,
    AlignmentDetails Alignment, int Seed, IReadOnlyDictionary<string, double> ModelTensors, IReadOnlyList<PcsLayer> Layers) : MethodDetails;
