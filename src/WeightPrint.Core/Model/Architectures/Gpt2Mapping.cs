using System.Text.RegularExpressions;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// GPT-2: Conv1D layers store weights as [in, out], so every matrix is transposed; c_attn is [hidden, 3·hidden]
/// holding q, k, v one after another along its output (column) axis.
/// </summary>
internal sealed partial class Gpt2Mapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attn.c_attn"] = "qkv",
        ["attn.c_proj"] = "o",
        ["mlp.c_fc"] = "up",
        ["mlp.c_proj"] = "down",
        ["ln_1"] = "attn_norm",
        ["ln_2"] = "mlp_norm",
    };

    public override string Family => "gpt2";

    public override IReadOnlyCollection<string> ModelTypes => ["gpt2"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.EndsWith(".attn.c_attn.weight", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "transformer.wte.weight" or "wte.weight": return new ModelTarget(ModelRole.Embedding);
            case "transformer.wpe.weight" or "wpe.weight": return new ModelTarget(ModelRole.PositionEmbedding);
            case "transformer.ln_f.weight" or "ln_f.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "transformer.ln_f.bias" or "ln_f.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "score.weight" or "score.bias": return new IgnoreTarget(TaskHeadReason);
        }

        if (Split(LayerPattern(), name) is not { } parts) return null;
        var (layer, rest, _) = parts;
        if (rest is "attn.bias" or "attn.masked_bias") return new IgnoreTarget(BufferReason);
        var (body, kind) = SplitKind(rest);
        return FromTable(Table, "decoder", layer, body, kind);
    }

    public override AttentionGeometry Geometry(MappingContext ctx) => CommonGeometryWithFourfoldMlp(ctx.Config);

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new() { Conv1D = true };

    public override void Finish(MappingContext ctx, AttentionGeometry g)
        => ctx.Note("GPT-2 Conv1D weights are stored [in, out]; they are transposed to [out, in], and c_attn is split into Q, K, V thirds.");

    [GeneratedRegex(@"^(?:transformer\.)?h\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerPattern();
}

/// <summary>GPT-J: separate q/k/v/out projections, fc_in/fc_out, one ln_1 shared by the parallel attention and
/// MLP (mapped as AttnNorm). Its rotary embedding is interleaved in Hugging Face's own code, so rows are kept.</summary>
internal sealed partial class GptJMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attn.q_proj"] = "q",
        ["attn.k_proj"] = "k",
        ["attn.v_proj"] = "v",
        ["attn.out_proj"] = "o",
        ["mlp.fc_in"] = "up",
        ["mlp.fc_out"] = "down",
        ["ln_1"] = "attn_norm",
    };

    public override string Family => "gptj";

    public override IReadOnlyCollection<string> ModelTypes => ["gptj"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.EndsWith(".mlp.fc_in.weight", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "transformer.wte.weight": return new ModelTarget(ModelRole.Embedding);
            case "transformer.ln_f.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "transformer.ln_f.bias" or "lm_head.bias": return new IgnoreTarget("model-level bias, not mapped");
        }

        if (Split(LayerPattern(), name) is not { } parts) return null;
        var (layer, rest, _) = parts;
        if (rest is "attn.bias" or "attn.masked_bias") return new IgnoreTarget(BufferReason);
        var (body, kind) = SplitKind(rest);
        return FromTable(Table, "decoder", layer, body, kind);
    }

    public override AttentionGeometry Geometry(MappingContext ctx) => CommonGeometryWithFourfoldMlp(ctx.Config);

    public override void Finish(MappingContext ctx, AttentionGeometry g)
        => ctx.Note("GPT-J runs attention and MLP in parallel from one norm (ln_1, mapped as AttnNorm; there is no separate MlpNorm).");

    [GeneratedRegex(@"^(?:transformer\.)?h\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerPattern();
}

/// <summary>GPT-NeoX and Pythia: query_key_value fused per head as [heads, 3, head_dim] rows.</summary>
internal sealed partial class GptNeoXMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attention.query_key_value"] = "qkv",
        ["attention.dense"] = "o",
        ["mlp.dense_h_to_4h"] = "up",
        ["mlp.dense_4h_to_h"] = "down",
        ["input_layernorm"] = "attn_norm",
        ["post_attention_layernorm"] = "mlp_norm",
    };

    public override string Family => "gpt_neox";

    public override IReadOnlyCollection<string> ModelTypes => ["gpt_neox", "gpt_neox_reward_model"];

    public override string ArchitectureName(MappingContext ctx) => "gpt_neox";

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.StartsWith("gpt_neox.", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "gpt_neox.embed_in.weight": return new ModelTarget(ModelRole.Embedding);
            case "gpt_neox.final_layer_norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "embed_out.weight": return new ModelTarget(ModelRole.LmHead);
            case "gpt_neox.final_layer_norm.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "out_proj.weight" or "out_proj.bias" or "score.weight" or "score.bias": return new IgnoreTarget(TaskHeadReason);
        }

        if (Split(LayerPattern(), name) is not { } parts) return null;
        var (layer, rest, _) = parts;
        if (rest is "attention.bias" or "attention.masked_bias" or "attention.rotary_emb.inv_freq") return new IgnoreTarget(BufferReason);
        var (body, k) = SplitKind(rest);
        return FromTable(Table, "decoder", layer, body, k);
    }

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new() { Qkv = QkvLayout.PerHead };

    [GeneratedRegex(@"^gpt_neox\.layers\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerPattern();
}
