using System.Text.RegularExpressions;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// The Hugging Face decoder naming shared by Llama and its descendants: <c>model.layers.N.self_attn.*</c>,
/// <c>model.layers.N.mlp.*</c>, <c>input_layernorm</c>, <c>post_attention_layernorm</c>. One table covers the
/// variants (fused qkv_proj/gate_up_proj, q_norm/k_norm, Gemma's sandwich norms, MoE experts and routers,
/// DeepSeek's MLA projections, gpt-oss's stacked and MXFP4 experts); subclasses name the family and supply
/// its layout and geometry.
/// </summary>
internal abstract partial class HfDecoderMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["self_attn.q_proj"] = "q",
        ["self_attn.k_proj"] = "k",
        ["self_attn.v_proj"] = "v",
        ["self_attn.o_proj"] = "o",
        ["self_attn.qkv_proj"] = "qkv",
        ["self_attn.q_norm"] = "q_norm",
        ["self_attn.k_norm"] = "k_norm",
        ["self_attn.q_a_proj"] = "q_a",
        ["self_attn.q_a_layernorm"] = "q_a_norm",
        ["self_attn.q_b_proj"] = "q_b",
        ["self_attn.kv_a_proj_with_mqa"] = "kv_a",
        ["self_attn.kv_a_layernorm"] = "kv_a_norm",
        ["self_attn.kv_b_proj"] = "kv_b",
        ["mlp.gate_proj"] = "gate",
        ["mlp.up_proj"] = "up",
        ["mlp.down_proj"] = "down",
        ["mlp.gate_up_proj"] = "gate_up",
        ["input_layernorm"] = "attn_norm",
        ["post_attention_layernorm"] = "mlp_norm",
        ["pre_feedforward_layernorm"] = "mlp_norm",
        ["post_feedforward_layernorm"] = "post_mlp_norm",
        ["block_sparse_moe.gate"] = "router",
        ["mlp.gate"] = "router",
        ["mlp.router"] = "router",
        ["mlp.shared_expert_gate"] = "shared_gate",
    };

    private static readonly Dictionary<string, string> Stacked = new(StringComparer.Ordinal)
    {
        ["mlp.experts.gate_up_proj"] = "exps_gate_up_t",
        ["mlp.experts.down_proj"] = "exps_down_t",
        ["mlp.experts.gate_up_proj_blocks"] = "exps_gate_up_blocks",
        ["mlp.experts.gate_up_proj_scales"] = "exps_gate_up_scales",
        ["mlp.experts.down_proj_blocks"] = "exps_down_blocks",
        ["mlp.experts.down_proj_scales"] = "exps_down_scales",
    };

    private static readonly Dictionary<string, string> Ignored = new(StringComparer.Ordinal)
    {
        ["self_attn.rotary_emb.inv_freq"] = BufferReason,
        ["mlp.experts.gate_up_proj_bias"] = "stacked expert biases are not mapped",
        ["mlp.experts.down_proj_bias"] = "stacked expert biases are not mapped",
        ["self_attn.sinks"] = "attention sinks (learned per-head logits), not a weight matrix",
        ["mlp.gate.e_score_correction_bias"] = "router score-correction bias, not a weight matrix",
        ["mlp.router_scale"] = "router scale vector, not a weight matrix",
    };

    /// <summary>Gemma 2/3 "sandwich" norms: with pre_feedforward_layernorm present, post_attention_layernorm
    /// normalises the attention output rather than the MLP input.</summary>
    protected bool Sandwich { get; private set; }

    /// <summary>Layers at or beyond this index are multi-token-prediction modules (DeepSeek-V3).</summary>
    protected int? MainLayers { get; private set; }

    public override void Prepare(MappingContext ctx)
    {
        Sandwich = ctx.AnyName(n => n.Contains(".pre_feedforward_layernorm.", StringComparison.Ordinal));
        if ((ctx.Config.Int("num_nextn_predict_layers") ?? 0) > 0) MainLayers = ctx.Config.Int("num_hidden_layers");
    }

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "model.embed_tokens.weight" or "embed_tokens.weight": return new ModelTarget(ModelRole.Embedding);
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "model.norm.weight" or "norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "model.norm.bias" or "lm_head.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "model.rotary_emb.inv_freq": return new IgnoreTarget(BufferReason);
        }

        if (name.StartsWith("vision_tower.", StringComparison.Ordinal) || name.StartsWith("multi_modal_projector.", StringComparison.Ordinal)
            || name.StartsWith("model.vision_tower.", StringComparison.Ordinal) || name.StartsWith("model.multi_modal_projector.", StringComparison.Ordinal))
            return new IgnoreTarget("vision tower / multimodal projector: only the text model is mapped");

        if (Split(LayerPattern(), name) is not { } parts) return null;
        var (layer, rest, _) = parts;
        if (MainLayers is { } main && layer >= main) return new IgnoreTarget("multi-token-prediction module beyond num_hidden_layers");
        if (rest.EndsWith(".SCB", StringComparison.Ordinal) || rest.EndsWith(".weight_format", StringComparison.Ordinal))
            return new IgnoreTarget("bitsandbytes int8 quantisation state (SCB row scales are applied to their weight)");
        if (Ignored.TryGetValue(rest, out string? reason)) return new IgnoreTarget(reason);
        if (Stacked.TryGetValue(rest, out string? stackedKey)) return new LayerTarget("decoder", layer, stackedKey);

        string kind = rest.EndsWith(".weight", StringComparison.Ordinal) ? "weight" : rest.EndsWith(".bias", StringComparison.Ordinal) ? "bias" : "";
        if (kind.Length == 0) return null;
        string body = rest[..^(kind.Length + 1)];
        var e = ExpertPattern().Match(body);
        if (e.Success)
        {
            if (kind != "weight") return new IgnoreTarget("expert biases are not mapped");
            string key = ExpertKey(e.Groups["proj"].Value);
            int expert = e.Groups["shared"].Success ? LayerTarget.SharedExpert : Index(e.Groups["expert"], name);
            return new LayerTarget("decoder", layer, key, expert);
        }

        if (body == "post_attention_layernorm" && Sandwich)
            return new LayerTarget("decoder", layer, "post_attn_norm", Bias: kind == "bias");
        return FromTable(Table, "decoder", layer, body, kind);
    }

    private static string ExpertKey(string proj) => proj switch
    {
        "w1" or "gate_proj" => "gate",
        "w2" or "down_proj" => "down",
        "w3" or "up_proj" => "up",
        _ => "gate_up",
    };

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new()
    {
        RopeInterleaved = ctx.Checkpoint.Format == "llama2c",
    };

    /// <summary>config.json geometry, or the llama2.c header fields for a llama2.c .bin.</summary>
    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        if (ctx.Checkpoint.Format != "llama2c" || ctx.Config.Present) return CommonGeometry(ctx.Config);
        int dim = ctx.MetaInt("llama2c.dim") ?? 0, heads = ctx.MetaInt("llama2c.n_heads") ?? 0;
        return new AttentionGeometry(dim, heads, ctx.MetaInt("llama2c.n_kv_heads") ?? heads, heads > 0 ? dim / heads : 0,
            ctx.MetaInt("llama2c.hidden_dim") ?? 0, ctx.MetaInt("llama2c.vocab_size") ?? 0);
    }

    public override int? ConfiguredLayers(MappingContext ctx) => ctx.Config.Present ? base.ConfiguredLayers(ctx) : ctx.MetaInt("llama2c.n_layers");

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        if (ctx.Checkpoint.Format == "llama2c")
            ctx.Note("Q and K rows were stored in llama2.c's interleaved RoPE order; they are un-permuted to Hugging Face's rotate-half order (K with the key/value head count).");
        if (ctx.AnyName(n => n.EndsWith(".SCB", StringComparison.Ordinal)))
            ctx.Note("bitsandbytes int8 weights are dequantised as int8 × SCB / 127 per row.");
    }

    /// <summary>Whether the checkpoint uses this naming at all.</summary>
    protected static bool UsesHfDecoderNames(MappingContext ctx) => ctx.AnyName(n => LayerPattern().IsMatch(n) && n.Contains(".self_attn.", StringComparison.Ordinal));

    [GeneratedRegex(@"^(?:model\.)?layers\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerPattern();

    [GeneratedRegex(@"^(?:block_sparse_moe|mlp)\.(?:experts\.(?<expert>\d+)|(?<shared>shared_experts?))\.(?<proj>w1|w2|w3|gate_proj|up_proj|down_proj|gate_up_proj)$")]
    private static partial Regex ExpertPattern();
}

/// <summary>Llama 1–3, Mistral, Qwen2/2.5, Qwen3 (q_norm/k_norm), openPangu-Embedded: plain q/k/v/o and
/// gate/up/down. Also the fallback for checkpoints with this naming but no known model_type.</summary>
internal sealed class LlamaMapping : HfDecoderMapping
{
    public override string Family => "llama";

    public override IReadOnlyCollection<string> ModelTypes => ["llama", "mistral", "qwen2", "qwen3", "panguembedded", "openpangu_embedded"];

    public override bool HasSignature(MappingContext ctx) => UsesHfDecoderNames(ctx);

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        base.Finish(ctx, g);
        if (ctx.Config.ModelType is "panguembedded" or "openpangu_embedded")
            ctx.Note("openPangu-Embedded uses Llama naming with q/k/v/o biases; it is mapped like Llama.");
    }
}

/// <summary>Gemma 1, 2 and 3 (text, and the text model of multimodal Gemma 3 under language_model.*). Gemma 2/3
/// add pre/post feed-forward norms and a post-attention norm; Gemma 3 adds q_norm/k_norm.</summary>
internal sealed class GemmaMapping : HfDecoderMapping
{
    public override string Family => Sandwich ? "gemma2" : "gemma";

    public override IReadOnlyCollection<string> ModelTypes => ["gemma", "gemma2", "gemma3", "gemma3_text"];

    public override bool HasSignature(MappingContext ctx) => Sandwich;

    public override string ArchitectureName(MappingContext ctx)
    {
        string? mt = ctx.Config.ModelType;
        if (mt is "gemma3" or "gemma3_text") return "gemma3";
        if (mt is "gemma" or "gemma2") return mt;
        return ctx.AnyName(n => n.Contains(".self_attn.q_norm.", StringComparison.Ordinal)) ? "gemma3" : Family;
    }

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        base.Finish(ctx, g);
        ctx.Note("Gemma RMSNorm weights are stored as w with the effective scale 1 + w; norm views hold the stored w.");
        if (Sandwich) ctx.Note("Gemma 2/3 sandwich norms: post_attention_layernorm → PostAttnNorm, pre_feedforward_layernorm → MlpNorm, post_feedforward_layernorm → PostMlpNorm.");
    }
}

/// <summary>Phi-3 and Phi-4: fused qkv_proj [q; k; v] split by head counts, fused gate_up_proj [gate; up].</summary>
internal sealed class Phi3Mapping : HfDecoderMapping
{
    public override string Family => "phi3";

    public override IReadOnlyCollection<string> ModelTypes => ["phi3"];

    public override bool HasSignature(MappingContext ctx)
        => ctx.AnyName(n => n.EndsWith(".self_attn.qkv_proj.weight", StringComparison.Ordinal) || n.EndsWith(".mlp.gate_up_proj.weight", StringComparison.Ordinal));
}

/// <summary>Mixtral and PhiMoE: block_sparse_moe.experts.j.w1/w2/w3 = gate/down/up, router block_sparse_moe.gate.</summary>
internal sealed class MixtralMapping : HfDecoderMapping
{
    public override string Family => "mixtral";

    public override IReadOnlyCollection<string> ModelTypes => ["mixtral", "phimoe"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".block_sparse_moe.", StringComparison.Ordinal));
}

/// <summary>Qwen2-MoE (shared_expert + shared_expert_gate) and Qwen3-MoE: mlp.experts.j.{gate,up,down}_proj,
/// router mlp.gate; dense layers (mlp_only_layers) keep mlp.{gate,up,down}_proj.</summary>
internal sealed class QwenMoeMapping : HfDecoderMapping
{
    public override string Family => "qwen2_moe";

    public override IReadOnlyCollection<string> ModelTypes => ["qwen2_moe", "qwen3_moe"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".mlp.experts.0.", StringComparison.Ordinal));

    public override string ArchitectureName(MappingContext ctx)
    {
        if (ctx.Config.ModelType is { } mt && ModelTypes.Contains(mt)) return mt;
        return ctx.AnyName(n => n.Contains(".mlp.shared_expert.", StringComparison.Ordinal)) ? "qwen2_moe" : "qwen3_moe";
    }
}

/// <summary>
/// Pangu Pro MoE (Mixture of Grouped Experts). No public weight index was available; names are assumed from
/// vllm-ascend's loader: Llama attention with biases, mlp.experts.j.{gate,up,down}_proj, router mlp.gate,
/// mlp.router_scale, mlp.shared_expert.*. Experts are assumed to form 8 groups of consecutive experts (the
/// grouped top-k of that implementation).
/// </summary>
internal sealed class PanguMoeMapping : HfDecoderMapping
{
    /// <summary>Expert groups assumed for Pangu Pro MoE.</summary>
    public const int AssumedGroups = 8;

    public override string Family => "pangu_pro_moe";

    public override IReadOnlyCollection<string> ModelTypes => ["pangupromoe", "pangu_pro_moe", "panguprom_moe"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.EndsWith(".mlp.router_scale", StringComparison.Ordinal));

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g)
        => base.Layout(ctx, g) with { ExpertGroups = ctx.Config.Int("num_expert_groups", "n_group") ?? AssumedGroups };

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        base.Finish(ctx, g);
        ctx.Note($"Pangu Pro MoE: tensor names are assumed Qwen-MoE-style (no real index was available to confirm them); experts are grouped into {ctx.Config.Int("num_expert_groups", "n_group") ?? AssumedGroups} groups of consecutive experts (assumption).");
    }
}

/// <summary>
/// DeepSeek-V2/V3 multi-head latent attention. There are no free per-head Q, K, V matrices of the usual shape:
/// the query is q_b_proj·q_a_proj (or q_proj in V2-Lite) and keys/values are decompressed from a shared
/// latent by kv_b_proj. Roles are defined as the stored factors, never multiplied out:
/// AttnQ := q_b_proj (or q_proj), [heads·(qk_nope + qk_rope), q_lora_rank (or hidden)];
/// AttnK := the k_nope rows of each head of kv_b_proj, [heads·qk_nope, kv_lora_rank];
/// AttnV := the v rows of each head of kv_b_proj, [heads·v_head, kv_lora_rank];
/// AttnO := o_proj; AttnQLowRank := q_a_proj; AttnKvLowRank := kv_a_proj_with_mqa (latent + shared rope key).
/// Their input dimensions are latent ranks, not the hidden size.
/// </summary>
internal sealed class DeepSeekMapping : HfDecoderMapping
{
    public override string Family => "deepseek_v3";

    public override IReadOnlyCollection<string> ModelTypes => ["deepseek_v2", "deepseek_v3", "kimi_k2"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".self_attn.kv_a_proj_with_mqa.", StringComparison.Ordinal));

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        var g = CommonGeometry(ctx.Config);
        int nope = ctx.Config.Int("qk_nope_head_dim") ?? 0, rope = ctx.Config.Int("qk_rope_head_dim") ?? 0;
        return nope + rope > 0 ? g with { HeadDim = nope + rope } : g;
    }

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g)
    {
        var c = ctx.Config;
        MlaGeometry? mla = c.Int("qk_nope_head_dim") is { } nope && c.Int("v_head_dim") is { } v
            ? new MlaGeometry(nope, c.Int("qk_rope_head_dim") ?? 0, v, c.Int("q_lora_rank") ?? 0, c.Int("kv_lora_rank") ?? 0)
            : null;
        return base.Layout(ctx, g) with { Mla = mla };
    }

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        base.Finish(ctx, g);
        ctx.Note("DeepSeek MLA: Q := q_b_proj (or q_proj), K := the k_nope rows of each head of kv_b_proj, V := the v rows of each head of kv_b_proj, O := o_proj; "
            + "q_a_proj and kv_a_proj_with_mqa are AttnQLowRank / AttnKvLowRank. Q and K/V take latent inputs (q_lora_rank, kv_lora_rank), not the hidden state; "
            + "K carries no RoPE part (the shared rope key lives in kv_a_proj_with_mqa's last rows).");
    }
}

/// <summary>gpt-oss: Llama-style attention with biases and sinks; experts stacked as mlp.experts.gate_up_proj
/// [experts, hidden, 2·ff] (gate and up interleaved by column) and down_proj [experts, ff, hidden], or as
/// MXFP4 *_blocks/*_scales in [experts, out, in/32, 16]; router mlp.router.</summary>
internal sealed class GptOssMapping : HfDecoderMapping
{
    public override string Family => "gpt_oss";

    public override IReadOnlyCollection<string> ModelTypes => ["gpt_oss"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".mlp.experts.gate_up_proj", StringComparison.Ordinal));

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        base.Finish(ctx, g);
        if (ctx.AnyName(n => n.EndsWith("_blocks", StringComparison.Ordinal)))
            ctx.Note("gpt-oss experts are MXFP4 (FP4 E2M1 values with a power-of-two scale per 32): they are dequantised on read; gate = even rows, up = odd rows of gate_up.");
        else
            ctx.Note("gpt-oss experts: gate = even columns, up = odd columns of gate_up_proj, transposed to [out, in].");
    }
}
