using System.Text.RegularExpressions;

namespace WeightPrint.Model.Architectures;

/// <summary>BERT, RoBERTa, XLM-RoBERTa, ELECTRA, CamemBERT: encoder.layer.N.attention.self.{query,key,value},
/// attention.output.dense, intermediate.dense, output.dense; post-LN blocks (attention.output.LayerNorm and
/// output.LayerNorm normalise each sub-block's output). Layers belong to the "encoder" stack.</summary>
internal sealed partial class BertMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attention.self.query"] = "q",
        ["attention.self.key"] = "k",
        ["attention.self.value"] = "v",
        ["attention.output.dense"] = "o",
        ["attention.output.LayerNorm"] = "post_attn_norm",
        ["intermediate.dense"] = "up",
        ["output.dense"] = "down",
        ["output.LayerNorm"] = "post_mlp_norm",
    };

    public override string Family => "bert";

    public override IReadOnlyCollection<string> ModelTypes => ["bert", "roberta", "xlm-roberta", "camembert", "electra", "minilm"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains("encoder.layer.", StringComparison.Ordinal) && n.Contains(".attention.self.", StringComparison.Ordinal));

    public override string ArchitectureName(MappingContext ctx)
    {
        if (ctx.Config.ModelType is { } mt && ModelTypes.Contains(mt)) return mt;
        return ctx.AnyName(n => n.StartsWith("roberta.", StringComparison.Ordinal)) ? "roberta" : Family;
    }

    public override Target? Classify(string name)
    {
        string n = StripModelPrefix(name);
        switch (n)
        {
            case "embeddings.word_embeddings.weight": return new ModelTarget(ModelRole.Embedding);
            case "embeddings.position_embeddings.weight": return new ModelTarget(ModelRole.PositionEmbedding);
            case "embeddings.token_type_embeddings.weight": return new ModelTarget(ModelRole.TokenTypeEmbedding);
            case "embeddings.LayerNorm.weight": return new ModelTarget(ModelRole.EmbeddingNorm);
            case "embeddings.LayerNorm.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "embeddings.position_ids" or "embeddings.token_type_ids": return new IgnoreTarget(BufferReason);
        }

        if (n.StartsWith("pooler.", StringComparison.Ordinal) || n.StartsWith("cls.", StringComparison.Ordinal) || n.StartsWith("lm_head.", StringComparison.Ordinal)
            || n.StartsWith("classifier.", StringComparison.Ordinal) || n.StartsWith("qa_outputs.", StringComparison.Ordinal))
            return new IgnoreTarget(TaskHeadReason);
        if (Split(LayerPattern(), n) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "encoder", layer, rest, kind);
    }

    private static string StripModelPrefix(string name)
    {
        foreach (string p in (string[])["bert.", "roberta.", "xlm_roberta.", "electra.", "camembert.", "model."])
        {
            if (name.StartsWith(p, StringComparison.Ordinal)) return name[p.Length..];
        }

        return name;
    }

    public override void Finish(MappingContext ctx, AttentionGeometry g)
        => ctx.Note("BERT-style post-LN blocks: attention.output.LayerNorm → PostAttnNorm, output.LayerNorm → PostMlpNorm; layers are the encoder stack.");

    [GeneratedRegex(@"^encoder\.layer\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}

/// <summary>DistilBERT: transformer.layer.N.attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1/lin2,
/// output_layer_norm (post-LN, encoder stack).</summary>
internal sealed partial class DistilBertMapping : ArchitectureMapping
{
    private static readonly Dictionary<string, string> Table = new(StringComparer.Ordinal)
    {
        ["attention.q_lin"] = "q",
        ["attention.k_lin"] = "k",
        ["attention.v_lin"] = "v",
        ["attention.out_lin"] = "o",
        ["sa_layer_norm"] = "post_attn_norm",
        ["ffn.lin1"] = "up",
        ["ffn.lin2"] = "down",
        ["output_layer_norm"] = "post_mlp_norm",
    };

    public override string Family => "distilbert";

    public override IReadOnlyCollection<string> ModelTypes => ["distilbert"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".attention.q_lin.", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        string n = name.StartsWith("distilbert.", StringComparison.Ordinal) ? name["distilbert.".Length..] : name;
        switch (n)
        {
            case "embeddings.word_embeddings.weight": return new ModelTarget(ModelRole.Embedding);
            case "embeddings.position_embeddings.weight": return new ModelTarget(ModelRole.PositionEmbedding);
            case "embeddings.LayerNorm.weight": return new ModelTarget(ModelRole.EmbeddingNorm);
            case "embeddings.LayerNorm.bias": return new IgnoreTarget("model-level bias, not mapped");
            case "embeddings.position_ids": return new IgnoreTarget(BufferReason);
        }

        if (n.StartsWith("vocab_", StringComparison.Ordinal) || n.StartsWith("pre_classifier.", StringComparison.Ordinal)
            || n.StartsWith("classifier.", StringComparison.Ordinal) || n.StartsWith("qa_outputs.", StringComparison.Ordinal))
            return new IgnoreTarget(TaskHeadReason);
        if (Split(LayerPattern(), n) is not { } parts) return null;
        var (layer, rest, kind) = parts;
        return FromTable(Table, "encoder", layer, rest, kind);
    }

    public override int? ConfiguredLayers(MappingContext ctx) => ctx.Config.Int("n_layers", "num_hidden_layers");

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        var c = ctx.Config;
        var g = CommonGeometry(c);
        return g with { IntermediateSize = c.Int("hidden_dim") ?? g.IntermediateSize };
    }

    [GeneratedRegex(@"^transformer\.layer\.(?<layer>\d+)\.(?<rest>.+)\.(?<kind>weight|bias)$")]
    private static partial Regex LayerPattern();
}

/// <summary>
/// T5 / mT5 / UMT5 / Flan-T5: encoder.block.N.layer.0 = self-attention (q, k, v, o) + its layer_norm,
/// layer.1 = DenseReluDense (wi or gated wi_0/wi_1, wo) + layer_norm; decoder blocks add layer.1 =
/// EncDecAttention (cross-attention, kept apart as Cross*) and move the MLP to layer.2. wi_0 is the gated
/// (activated) branch → MlpGate, wi_1 → MlpUp, a plain wi → MlpUp.
/// </summary>
internal sealed partial class T5Mapping : ArchitectureMapping
{
    public override string Family => "t5";

    public override IReadOnlyCollection<string> ModelTypes => ["t5", "mt5", "umt5", "longt5"];

    public override bool HasSignature(MappingContext ctx) => ctx.AnyName(n => n.Contains(".SelfAttention.q.", StringComparison.Ordinal));

    public override Target? Classify(string name)
    {
        switch (name)
        {
            case "shared.weight": return new ModelTarget(ModelRole.Embedding);
            case "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight": return new IgnoreTarget("copy of shared.weight (tied input embedding)");
            case "lm_head.weight": return new ModelTarget(ModelRole.LmHead);
            case "decoder.final_layer_norm.weight": return new ModelTarget(ModelRole.FinalNorm);
            case "encoder.final_layer_norm.weight": return new ModelTarget(ModelRole.EncoderFinalNorm);
        }

        var m = LayerPattern().Match(name);
        if (!m.Success) return null;
        string stack = m.Groups["stack"].Value;
        int block = Index(m.Groups["block"], name);
        int sub = Index(m.Groups["sub"], name);
        string rest = m.Groups["rest"].Value;
        if (rest == "SelfAttention.relative_attention_bias") return new IgnoreTarget("relative position bias table, not a weight matrix");
        string? key = rest switch
        {
            "SelfAttention.q" => "q",
            "SelfAttention.k" => "k",
            "SelfAttention.v" => "v",
            "SelfAttention.o" => "o",
            "EncDecAttention.q" => "cross_q",
            "EncDecAttention.k" => "cross_k",
            "EncDecAttention.v" => "cross_v",
            "EncDecAttention.o" => "cross_o",
            "DenseReluDense.wi" or "DenseReluDense.wi_1" => "up",
            "DenseReluDense.wi_0" => "gate",
            "DenseReluDense.wo" => "down",
            "layer_norm" => (stack, sub) switch
            {
                (_, 0) => "attn_norm",
                ("decoder", 1) => "cross_norm",
                _ => "mlp_norm",
            },
            _ => null,
        };
        return key == null ? null : new LayerTarget(stack, block, key);
    }

    public override AttentionGeometry Geometry(MappingContext ctx)
    {
        var c = ctx.Config;
        var g = CommonGeometry(c);
        return g with { HeadDim = c.Int("d_kv") ?? g.HeadDim, IntermediateSize = c.Int("d_ff") ?? g.IntermediateSize };
    }

    public override int? ConfiguredLayers(MappingContext ctx)
        => ctx.Config.Int("num_layers") is { } enc ? enc + (ctx.Config.Int("num_decoder_layers") ?? enc) : null;

    public override void Finish(MappingContext ctx, AttentionGeometry g)
        => ctx.Note("T5: encoder and decoder stacks are kept apart; decoder cross-attention (EncDecAttention) → CrossQ/K/V/O with CrossNorm; T5 attention has no 1/√d scaling and no biases.");

    [GeneratedRegex(@"^(?<stack>encoder|decoder)\.block\.(?<block>\d+)\.layer\.(?<sub>\d+)\.(?<rest>.+)\.weight$")]
    private static partial Regex LayerPattern();
}
