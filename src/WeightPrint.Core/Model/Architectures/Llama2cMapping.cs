using System.Text.RegularExpressions;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// llama2.c's own PyTorch naming (ckpt.pt, also Meta's original Llama consolidated.*.pth): tok_embeddings,
/// layers.N.attention.wq/wk/wv/wo, feed_forward.w1/w2/w3 (gate/down/up), attention_norm, ffn_norm, norm,
/// output, optionally under "model." and torch.compile's "_orig_mod.". RoPE is applied to interleaved pairs,
/// so Q and K rows are un-permuted to Hugging Face's rotate-half order (which needs the head count).
/// </summary>
internal sealed partial class Llama2cMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attention.wq"] = "q",
        ["attention.wk"] = "k",
        ["attention.wv"] = "v",
        ["attention.wo"] = "o",
        ["feed_forward.w1"] = "gate",
        ["feed_forward.w2"] = "down",
        ["feed_forward.w3"] = "up",
        ["attention_norm"] = "attn_norm",
        ["ffn_norm"] = "mlp_norm",
    };

    public override string Family => "llama";

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.EndsWith(".attention.wq.weight", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        string n = name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
        switch (n)
        {
            case "tok_embeddings.weight": return new ModelTarget(ModelRole.Embedding);
            case "norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "output.weight": return new ModelTarget(ModelRole.LmHead);
            case "rope.freqs" or "freqs_cos" or "freqs_sin" or "freqs_cis": return new IgnoreTarget(BufferReason);
        }

        if (Split(LayerPattern(), n) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "decoder", layer, rest, kind);
    }

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        var g = CommonGeometry(ctx.Config);
        int heads = g.Heads > 0 ? g.Heads : ctx.MetaInt("model_args.n_heads") ?? ctx.MetaInt("n_heads") ?? 0;
        int kv = ctx.Config.Int("n_kv_heads") ?? ctx.MetaInt("model_args.n_kv_heads") ?? ctx.MetaInt("n_kv_heads") ?? heads;
        int dim = g.HiddenSize > 0 ? g.HiddenSize : ctx.MetaInt("model_args.dim") ?? ctx.MetaInt("dim") ?? 0;
        return g with { HiddenSize = dim, Heads = heads, KvHeads = kv, HeadDim = heads > 0 && dim > 0 ? dim / heads : 0 };
    }

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new() { RopeInterleaved = true };

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        if (g.HeadDim > 0)
            ctx.Note("llama2.c / Meta naming: Q and K rows are stored in interleaved RoPE order; they are un-permuted to Hugging Face's rotate-half order (K with the key/value head count).");
        else
            ctx.Note("llama2.c / Meta naming without a head count (no params.json/config n_heads, no model_args metadata): Q and K rows stay in interleaved RoPE order.");
    }

    [GeneratedRegex(@"^layers\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}

/// <summary>
/// llama.cpp's GGUF names: blk.N.attn_q … (enc./dec. prefixes for T5), fused attn_qkv ([q; k; v]: llama.cpp's
/// converter reorders NeoX/BLOOM/Falcon fused layouts into this), stacked experts ffn_*_exps [experts, out, in],
/// older per-expert ffn_*.E, shared experts ffn_*_shexp, MLA attn_q_a/attn_kv_a_mqa/attn_kv_b. Geometry comes
/// from the GGUF metadata. For the architectures whose converter permutes Q/K into interleaved RoPE order
/// (llama and its relatives), Q and K rows are un-permuted.
/// </summary>
internal sealed partial class GgufMapping : ArchitectureMapping
{
    /// <summary>GGUF architectures whose llama.cpp conversion applies the interleaved-RoPE permutation to Q and K.</summary>
    public static readonly IReadOnlySet<string> PermutedArchitectures = new HashSet<string>(StringComparer.Ordinal)
    {
        "llama", "deci", "granite", "granitemoe", "baichuan", "internlm2", "xverse", "minicpm", "plamo", "arctic",
    };

    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attn_q"] = "q",
        ["attn_k"] = "k",
        ["attn_v"] = "v",
        ["attn_output"] = "o",
        ["attn_o"] = "o",
        ["attn_qkv"] = "qkv",
        ["attn_q_norm"] = "q_norm",
        ["attn_k_norm"] = "k_norm",
        ["attn_norm"] = "attn_norm",
        ["attn_norm_2"] = "mlp_norm",
        ["ffn_norm"] = "mlp_norm",
        ["post_attention_norm"] = "post_attn_norm",
        ["attn_post_norm"] = "post_attn_norm",
        ["post_ffw_norm"] = "post_mlp_norm",
        ["ffn_post_norm"] = "post_mlp_norm",
        ["attn_output_norm"] = "post_attn_norm",
        ["layer_output_norm"] = "post_mlp_norm",
        ["ffn_gate"] = "gate",
        ["ffn_up"] = "up",
        ["ffn_down"] = "down",
        ["ffn_gate_inp"] = "router",
        ["ffn_gate_exps"] = "exps_gate",
        ["ffn_up_exps"] = "exps_up",
        ["ffn_down_exps"] = "exps_down",
        ["ffn_gate_inp_shexp"] = "shared_gate",
        ["attn_q_a"] = "q_a",
        ["attn_q_a_norm"] = "q_a_norm",
        ["attn_q_b"] = "q_b",
        ["attn_kv_a_mqa"] = "kv_a",
        ["attn_kv_a_norm"] = "kv_a_norm",
        ["attn_kv_b"] = "kv_b",
        ["cross_attn_q"] = "cross_q",
        ["cross_attn_k"] = "cross_k",
        ["cross_attn_v"] = "cross_v",
        ["cross_attn_o"] = "cross_o",
        ["cross_attn_norm"] = "cross_norm",
    };

    private string _arch = "unknown";

    public override string Family => _arch;

    public override void Prepare(MappingContext ctx) => _arch = ctx.GgufArchitecture ?? "unknown";

    public override string ArchitectureName(MappingContext ctx) => _arch;

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "token_embd.weight": return new ModelTarget(ModelRole.Embedding);
            case "position_embd.weight": return new ModelTarget(ModelRole.PositionEmbedding);
            case "token_types.weight": return new ModelTarget(ModelRole.TokenTypeEmbedding);
            case "token_embd_norm.weight": return new ModelTarget(ModelRole.EmbeddingNorm);
            case "output.weight": return new ModelTarget(ModelRole.LmHead);
            case "output_norm.weight" or "dec.output_norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "enc.output_norm.weight": return new ModelTarget(ModelRole.EncoderFinalNorm);
            case "rope_freqs.weight": return new IgnoreTarget(BufferReason);
        }

        var m = LayerPattern().Match(name);
        if (!m.Success) return name.EndsWith(".bias", StringComparison.Ordinal) && !name.StartsWith("blk.", StringComparison.Ordinal) ? new IgnoreTarget("model-level bias, not mapped") : null;
        string stack = m.Groups["stack"].Value switch { "enc" => "encoder", _ => "decoder" };
        int layer = Index(m.Groups["layer"], name);
        string rest = m.Groups["rest"].Value;
        string kind = m.Groups["kind"].Value;
        var e = ExpertPattern().Match(rest);
        if (e.Success)
        {
            string key = e.Groups["proj"].Value;
            if (kind != "weight") return new IgnoreTarget("expert biases are not mapped");
            return e.Groups["shexp"].Success ? new LayerTarget(stack, layer, key, LayerTarget.SharedExpert) : new LayerTarget(stack, layer, key, Index(e.Groups["expert"], name));
        }

        if (rest is "attn_rel_b" or "ffn_exp_probs_b" or "attn_sinks")
            return new IgnoreTarget(rest == "attn_rel_b" ? "relative position bias table, not a weight matrix" : "routing/attention bias vector, not a weight matrix");
        if (rest is "attn_k_b" or "attn_v_b")
            return new IgnoreTarget("MLA split k_b/v_b tensors are not mapped (use a GGUF with attn_kv_b)");
        if (rest.StartsWith("exp_probs_b", StringComparison.Ordinal)) return new IgnoreTarget("routing bias vector, not a weight matrix");
        return FromTable(Table, stack, layer, rest, kind);
    }

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        string a = _arch;
        int hidden = ctx.MetaInt(a + ".embedding_length") ?? 0;
        int heads = ctx.MetaInt(a + ".attention.head_count") ?? 0;
        int kv = ctx.MetaInt(a + ".attention.head_count_kv") ?? heads;
        int headDim = ctx.MetaInt(a + ".attention.key_length") ?? (heads > 0 ? hidden / heads : 0);
        int ff = ctx.MetaInt(a + ".feed_forward_length") ?? 0;
        int vocab = ctx.MetaInt(a + ".vocab_size") ?? (ctx.Checkpoint.Metadata.TryGetValue("tokenizer.ggml.tokens", out var tok) && tok is object[] arr ? arr.Length : 0);
        int experts = ctx.MetaInt(a + ".expert_count") ?? 0;
        int perToken = ctx.MetaInt(a + ".expert_used_count") ?? 0;
        int shared = ctx.MetaInt(a + ".expert_shared_count") ?? 0;
        int expertFf = ctx.MetaInt(a + ".expert_feed_forward_length") ?? (experts > 0 ? ff : 0);
        return new AttentionGeometry(hidden, heads, kv, headDim, ff, vocab, experts, perToken, shared, expertFf);
    }

    public override int? ConfiguredLayers(MappingContext ctx) => ctx.MetaInt(_arch + ".block_count");

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g)
    {
        MlaGeometry? mla = null;
        if (ctx.MetaInt(_arch + ".attention.kv_lora_rank") is { } kvRank)
        {
            int rope = ctx.MetaInt(_arch + ".rope.dimension_count") ?? 0;
            int keyLength = ctx.MetaInt(_arch + ".attention.key_length") ?? 0;
            int valueLength = ctx.MetaInt(_arch + ".attention.value_length") ?? 0;
            mla = new MlaGeometry(keyLength - rope, rope, valueLength, ctx.MetaInt(_arch + ".attention.q_lora_rank") ?? 0, kvRank);
        }

        return new LayerLayout
        {
            Qkv = QkvLayout.Concatenated,
            RopeInterleaved = PermutedArchitectures.Contains(_arch),
            UpMayHoldGate = _arch is "phi3" or "phimoe",
            Mla = mla,
        };
    }

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        if (PermutedArchitectures.Contains(_arch))
            ctx.Note($"GGUF {_arch}: Q and K rows were stored in llama.cpp's interleaved RoPE order; they are un-permuted to Hugging Face's rotate-half order (K with the key/value head count).");
        else
            ctx.Note($"GGUF {_arch}: llama.cpp does not permute Q/K rows for this architecture; rows are kept in stored order.");
        if (ctx.AnyName(n => n.EndsWith(".attn_qkv.weight", StringComparison.Ordinal)))
            ctx.Note("GGUF attn_qkv is split as [q; k; v] by head counts (llama.cpp's converter stores every fused layout this way).");
        if (_arch is "gemma" or "gemma2" or "gemma3")
            ctx.Note("GGUF Gemma norms are stored with llama.cpp's +1 already added (1 + w), unlike Hugging Face's w.");
    }

    [GeneratedRegex(@"^(?:(?<stack>enc|dec)\.)?blk\.(?<layer>\d+)\.(?<rest>[a-z0-9_]+(?:\.\d+)?)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();

    [GeneratedRegex(@"^ffn_(?<proj>gate|up|down)(?:_(?<shexp>shexp)|\.(?<expert>\d+))$")]
    private static partial Regex ExpertPattern();
}
