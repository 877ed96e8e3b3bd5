namespace WeightPrint.Model;

/// <summary>Shape facts every method needs: hidden size, query heads, key/value heads (GQA/MQA), head size,
/// MLP width, vocabulary size and MoE expert counts.</summary>
public sealed record AttentionGeometry(int HiddenSize, int Heads, int KvHeads, int HeadDim, int IntermediateSize, int VocabSize,
    int Experts = 0, int ExpertsPerToken = 0, int SharedExperts = 0)
{
    public bool IsGroupedQuery => KvHeads != Heads;
}
