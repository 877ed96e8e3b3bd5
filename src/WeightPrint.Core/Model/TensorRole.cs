namespace WeightPrint.Model;

/// <summary>Canonical roles of weight matrices and vectors, whatever a checkpoint calls them.</summary>
public enum TensorRole
{
    AttnQ,
    AttnK,
    AttnV,
    AttnO,
    /// <summary>Cross-attention (encoder-decoder models): query, key, value, output.</summary>
    CrossQ,
    CrossK,
    CrossV,
    CrossO,
    MlpGate,
    MlpUp,
    MlpDown,
    AttnNorm,
    MlpNorm,
    /// <summary>Extra norms (Gemma's pre/post feed-forward norms, Q/K norms, cross-attention norm).</summary>
    QNorm,
    KNorm,
    PostAttnNorm,
    PostMlpNorm,
    CrossNorm,
    /// <summary>MoE router (gate) weight.</summary>
    Router,
}

/// <summary>Model-level roles (not per layer).</summary>
public enum ModelRole
{
    Embedding,
    PositionEmbedding,
    LmHead,
    FinalNorm,
}
