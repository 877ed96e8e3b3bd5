namespace WeightPrint.Model;

/// <summary>Canonical roles of weight matrices and vectors, whatever a checkpoint calls them.</summary>
/// <remarks>
/// Norm roles name where a norm sits, not what a file calls it: <see cref="AttnNorm"/> is the norm applied to
/// the attention input, <see cref="MlpNorm"/> the norm applied to the MLP input (Llama's
/// post_attention_layernorm, Gemma 2/3's pre_feedforward_layernorm), <see cref="PostAttnNorm"/> and
/// <see cref="PostMlpNorm"/> norms applied to a sub-block's output (Gemma 2/3's post norms, BERT's post-LN).
/// </remarks>
internal enum TensorRole
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
    /// <summary>Qwen2-MoE's shared-expert gate ([1, hidden]): scales the shared expert's output.</summary>
    SharedExpertGate,
    /// <summary>Multi-head latent attention (DeepSeek-V2/V3): the query down-projection q_a_proj [q_lora_rank, hidden].</summary>
    AttnQLowRank,
    /// <summary>MLA: the joint key/value down-projection kv_a_proj_with_mqa [kv_lora_rank + rope_dim, hidden].</summary>
    AttnKvLowRank,
    /// <summary>MLA: the norm after q_a_proj.</summary>
    QLowRankNorm,
    /// <summary>MLA: the norm after kv_a_proj_with_mqa.</summary>
    KvLowRankNorm,
}

/// <summary>Model-level roles (not per layer).</summary>
internal enum ModelRole
{
    Embedding,
    PositionEmbedding,
    LmHead,
    /// <summary>The last norm of the main stack (the decoder's for encoder-decoder models).</summary>
    FinalNorm,
    /// <summary>A norm applied to the embeddings (BLOOM's word_embeddings_layernorm, BERT's embeddings.LayerNorm).</summary>
    EmbeddingNorm,
    /// <summary>BERT's token-type (segment) embeddings.</summary>
    TokenTypeEmbedding,
    /// <summary>The encoder's final norm in encoder-decoder models (T5).</summary>
    EncoderFinalNorm,
}
