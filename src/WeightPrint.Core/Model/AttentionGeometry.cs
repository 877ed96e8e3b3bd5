namespace WeightPrint.Model;

/// <summary>Shape facts every method needs: hidden size, query heads, key/value heads (GQA/MQA), head size,
/// MLP width, vocabulary size and MoE expert counts. 0 means unknown.</summary>
/// <param name="HiddenSize">Model width.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads (== Heads without GQA, 1 for MQA).</param>
/// <param name="HeadDim">Query/key head size (for MLA: qk_nope_head_dim + qk_rope_head_dim).</param>
/// <param name="IntermediateSize">Dense MLP width.</param>
/// <param name="VocabSize">Vocabulary size.</param>
/// <param name="Experts">Routed experts per MoE layer.</param>
/// <param name="ExpertsPerToken">Experts each token is routed to.</param>
/// <param name="SharedExperts">Always-on shared experts.</param>
/// <param name="ExpertIntermediateSize">Width of one routed expert's MLP.</param>
public sealed record AttentionGeometry(int HiddenSize, int Heads, int KvHeads, int HeadDim, int IntermediateSize, int VocabSize,
    int Experts = 0, int ExpertsPerToken = 0, int SharedExperts = 0, int ExpertIntermediateSize = 0)
{
    /// <summary>True when fewer key/value heads than query heads (grouped-query or multi-query attention).</summary>
    public bool IsGroupedQuery => KvHeads != Heads;
}
