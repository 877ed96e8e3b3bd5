using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.NeuronMatch;

/// <summary>One matched MLP (dense MLP or expert) of <c>neuron-match</c>.</summary>
/// <param name="LayerA">Layer of A.</param>
/// <param name="LayerB">Layer of B.</param>
/// <param name="Part">"mlp", or the expert matched ("expert3", "shared_expert0").</param>
/// <param name="Matched">Neurons matched.</param>
/// <param name="Rho">Spearman ρ between the gate and up matchings.</param>
/// <param name="PositionRho">Spearman ρ between the up matching and neuron positions.</param>
/// <param name="PositionPValue">p-value of <paramref name="PositionRho"/> (B's neuron order as null).</param>
/// <param name="NullRhoMean">Mean ρ over the signed-permutation null draws; NaN (null in JSON) when none were drawn because the MLP's position test alone is at the 1e-300 floor.</param>
/// <param name="MeanMatchedCosineFirst">Mean cosine of the matched neurons in the first (gate) matching.</param>
/// <param name="MeanMatchedCosineSecond">Mean cosine of the matched neurons in the second (up) matching.</param>
public sealed record NeuronMatchMlp(int LayerA, int LayerB, string Part, int Matched, double Rho, double PositionRho, double PositionPValue,
    double NullRhoMean, double MeanMatchedCosineFirst, double MeanMatchedCosineSecond);

/// <summary>What <c>neuron-match</c> computed for one pair (JSON <c>raw</c> of the neuron-match method).</summary>
/// <param name="PositionPValue">Fisher's combination of the per-MLP position p-values.</param>
/// <param name="AgreementPValue">p-value of the gate/up agreement against the signed-permutation draws, over the MLPs that drew them; NaN (null in JSON) when every MLP's position test is at the floor.</param>
/// <param name="AgreementNullMean">Mean agreement over the null draws.</param>
/// <param name="AgreementNullSd">Standard deviation of the agreement over the null draws.</param>
/// <param name="AgreementDrawsExceeding">Null draws that reached the observed agreement.</param>
/// <param name="NullDraws">Signed-permutation null draws.</param>
/// <param name="FisherStatistic">Fisher's statistic over the position p-values.</param>
/// <param name="Mlps">MLPs matched.</param>
/// <param name="MaxNeurons">Most neurons sampled per MLP.</param>
/// <param name="ResidualDims">Residual dimensions sampled.</param>
/// <param name="LayerPairing">How layers of A were paired with layers of B.</param>
/// <param name="Alignment">The residual alignment applied to B.</param>
/// <param name="Seed">The sampling and permutation seed.</param>
/// <param name="PerMlp">Per matched MLP.</param>
/// <param name="Experts">Expert-level matching, for MoE models; null otherwise.</param>
public sealed record NeuronMatchDetails(double PositionPValue, double AgreementPValue, double AgreementNullMean, double AgreementNullSd, int AgreementDrawsExceeding,
    int NullDraws, double FisherStatistic, int Mlps, int MaxNeurons, int ResidualDims, string LayerPairing, AlignmentDetails Alignment, int Seed,
    IReadOnlyList<NeuronMatchMlp> PerMlp, ExpertMatchDetails? Experts) : MethodDetails;
