using System.Text.RegularExpressions;

namespace WeightPrint.Model.Architectures;

/// <summary>BLOOM: self_attention.query_key_value fused per head as [heads, 3, head_dim] rows (like NeoX);
/// word_embeddings_layernorm after the embeddings; ALiBi, so no RoPE.</summary>
internal sealed partial class BloomMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["self_attention.query_key_value"] = "qkv",
        ["self_attention.dense"] = "o",
        ["mlp.dense_h_to_4h"] = "up",
        ["mlp.dense_4h_to_h"] = "down",
        ["input_layernorm"] = "attn_norm",
        ["post_attention_layernorm"] = "mlp_norm",
    };

    public override string Family => "bloom";

    public override IReadOnlyCollection<string> ModelTypes => ["bloom"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.EndsWith("word_embeddings_layernorm.weight", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        string n = name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
        switch (n)
        {
            case "word_embeddings.weight": return new ModelTarget(ModelRole.Embedding);
            case "word_embeddings_layernorm.weight": return new ModelTarget(ModelRole.EmbeddingNorm);
            case "ln_f.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "word_embeddings_layernorm.bias" or "ln_f.bias": return new IgnoreTarget("model-level bias, not mapped");
        }

        if (Split(LayerPattern(), n) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "decoder", layer, rest, kind);
    }

    public override AttentionGeometry Geometry(MappingContext ctx) => CommonGeometryWithFourfoldMlp(ctx.Config);

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new() { Qkv = QkvLayout.PerHead };

    [GeneratedRegex(@"^h\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}

/// <summary>
/// Falcon (and the older RefinedWeb / RefinedWebModel configs). self_attention.query_key_value is laid out
/// by config: new_decoder_architecture (40B, 180B) → [kv groups, queries per group + 2, head_dim];
/// multi_query (7B) → [heads queries; 1 key; 1 value]; otherwise per head [heads, 3, head_dim].
/// Parallel attention uses ln_attn/ln_mlp (new architecture) or a single input_layernorm.
/// </summary>
internal sealed partial class FalconMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["self_attention.query_key_value"] = "qkv",
        ["self_attention.dense"] = "o",
        ["mlp.dense_h_to_4h"] = "up",
        ["mlp.dense_4h_to_h"] = "down",
        ["input_layernorm"] = "attn_norm",
        ["ln_attn"] = "attn_norm",
        ["ln_mlp"] = "mlp_norm",
        ["post_attention_layernorm"] = "mlp_norm",
    };

    private QkvLayout _layout = QkvLayout.PerHead;

    public override string Family => "falcon";

    public override IReadOnlyCollection<string> ModelTypes => ["falcon", "refinedweb", "refinedwebmodel", "rw"];

    public override string ArchitectureName(MappingContext ctx) => "falcon";

    public override bool HasSignature(MappingContext ctx)
        => ctx.AnyName(n => n.StartsWith("transformer.h.", StringComparison.Ordinal) && n.Contains(".self_attention.query_key_value.", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "transformer.word_embeddings.weight": return new ModelTarget(ModelRole.Embedding);
            case "transformer.ln_f.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "transformer.ln_f.bias": return new IgnoreTarget("model-level bias, not mapped");
        }

        if (Split(LayerPattern(), name) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "decoder", layer, rest, kind);
    }

    public override void Prepare(MappingContext ctx)
    {
        var c = ctx.Config;
        bool newArch = c.Bool("new_decoder_architecture") ?? c.ModelType == "refinedweb";
        bool multiQuery = c.Bool("multi_query") ?? c.ModelType == "refinedwebmodel";
        _layout = newArch ? QkvLayout.FalconGrouped : multiQuery ? QkvLayout.FalconMultiQuery : QkvLayout.PerHead;
    }

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        var c = ctx.Config;
        var g = CommonGeometry(c);
        int kv = _layout switch
        {
            QkvLayout.FalconGrouped => c.Int("num_kv_heads", "n_head_kv") ?? g.Heads,
            QkvLayout.FalconMultiQuery => 1,
            _ => g.Heads,
        };
        int ff = c.Int("ffn_hidden_size") ?? 4 * g.HiddenSize;
        return g with { KvHeads = kv, IntermediateSize = ff };
    }

    public override LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new() { Qkv = _layout };

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        ctx.Note(_layout switch
        {
            QkvLayout.FalconGrouped => $"Falcon new decoder architecture: query_key_value is [{g.KvHeads} kv groups, {(g.KvHeads > 0 ? g.Heads / g.KvHeads : 0)} queries + key + value, head_dim].",
            QkvLayout.FalconMultiQuery => "Falcon multi-query attention: query_key_value is [all query heads; one key head; one value head].",
            _ => "Falcon query_key_value is per head [heads, 3, head_dim].",
        });
        if (!ctx.Config.Present) ctx.Note("Falcon without config.json: the fused qkv layout is assumed per head; multi-query and grouped layouts need the config.");
    }

    [GeneratedRegex(@"^transformer\.h\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}

/// <summary>OPT: model.decoder.layers.N.self_attn.{q,k,v,out}_proj, self_attn_layer_norm, fc1/fc2,
/// final_layer_norm (the MLP input norm).</summary>
internal sealed partial class OptMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["self_attn.q_proj"] = "q",
        ["self_attn.k_proj"] = "k",
        ["self_attn.v_proj"] = "v",
        ["self_attn.out_proj"] = "o",
        ["fc1"] = "up",
        ["fc2"] = "down",
        ["self_attn_layer_norm"] = "attn_norm",
        ["final_layer_norm"] = "mlp_norm",
    };

    public override string Family => "opt";

    public override IReadOnlyCollection<string> ModelTypes => ["opt"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains("decoder.layers.", StringComparison.Ordinal) && n.EndsWith(".fc1.weight", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        string n = name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
        switch (n)
        {
            case "decoder.embed_tokens.weight": return new ModelTarget(ModelRole.Embedding);
            case "decoder.embed_positions.weight": return new ModelTarget(ModelRole.PositionEmbedding);
            case "decoder.final_layer_norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "decoder.final_layer_norm.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "decoder.project_in.weight" or "decoder.project_out.weight": return new IgnoreTarget("embedding-size projection (OPT-350m), not part of a layer");
            case "score.weight": return new IgnoreTarget(TaskHeadReason);
        }

        if (Split(LayerPattern(), n) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "decoder", layer, rest, kind);
    }

    public override void Finish(MappingContext ctx, AttentionGeometry g)
    {
        if (ctx.Config.Bool("do_layer_norm_before") == false)
            ctx.Note("OPT with do_layer_norm_before = false (350m): its layer norms follow, not precede, each block; they are still mapped as AttnNorm/MlpNorm.");
    }

    [GeneratedRegex(@"^decoder\.layers\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}
