namespace WeightPrint.Signals.Toolbox;

/// <summary>The residual-stream alignment a method applied to B before comparing (JSON <c>raw.alignment</c>).</summary>
/// <param name="Kind">How the alignment was obtained ("identity", "shared tokens", …).</param>
/// <param name="Transform">The transform fitted ("identity", "permutation", "signed permutation", "orthogonal", …, or "none").</param>
/// <param name="Accepted">True when the fitted transform was applied.</param>
/// <param name="IdentityFit">Fit of the identity map on the shared tokens (NaN when not measured).</param>
/// <param name="TransformFit">Fit of the fitted transform (NaN when not measured).</param>
/// <param name="Tokens">Shared tokens used.</param>
/// <param name="TokenMatch">How tokens were paired (by vocabulary string or id).</param>
/// <param name="Note">Why the alignment is what it is, in words.</param>
/// <param name="WidthA">Kind "cross-width" only: A's residual width.</param>
/// <param name="WidthB">Kind "cross-width" only: B's residual width.</param>
/// <param name="ColumnMatch">Kind "cross-width" only: mean |cosine| of the matched embedding columns (null when not measured).</param>
public sealed record AlignmentDetails(string Kind, string Transform, bool Accepted, double IdentityFit, double TransformFit, int Tokens, string TokenMatch, string Note,
    int? WidthA = null, int? WidthB = null, double? ColumnMatch = null);

/// <summary>Expert-level matching of MoE models (JSON <c>raw.experts</c> of neuron-match).</summary>
/// <param name="Signature">What is compared per MLP, in words.</param>
/// <param name="Null">The null of the p-values, in words.</param>
/// <param name="ResidualDims">Residual dimensions sampled for the Gram signatures.</param>
/// <param name="Permutations">Residual permutations drawn.</param>
/// <param name="FisherPValue">Fisher's combination of the blocks' p-values; null when no block was matched.</param>
/// <param name="Layers">The matched blocks.</param>
public sealed record ExpertMatchDetails(string Signature, string Null, int ResidualDims, int Permutations, double? FisherPValue, IReadOnlyList<ExpertLayer> Layers);
