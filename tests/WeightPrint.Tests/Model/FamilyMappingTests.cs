using WeightPrint.Formats;
using WeightPrint.Model;
using static WeightPrint.Tests.Model.TinyModel;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Model;

/// <summary>One tiny checkpoint per family with that family's real tensor names and layouts; fused splits and
/// transpositions are checked element by element against the matrices written.</summary>
public class FamilyMappingTests
{
    private const int D = 8, Heads = 4, Kv = 2, Hd = 2, Ff = 12, Vocab = 10;

    private static string LlamaConfig(string type, int layers = 2, string extra = "")
        => $$"""{"model_type": "{{type}}", "hidden_size": {{D}}, "num_attention_heads": {{Heads}}, "num_key_value_heads": {{Kv}}, "intermediate_size": {{Ff}}, "vocab_size": {{Vocab}}, "num_hidden_layers": {{layers}}{{extra}}}""";

    private static void LlamaLayer(TinyModel m, string p, int i, bool bias = false, bool qkNorm = false, bool sandwich = false)
    {
        string l = $"{p}layers.{i}.";
        m.Add(l + "self_attn.q_proj.weight", Heads * Hd, D);
        m.Add(l + "self_attn.k_proj.weight", Kv * Hd, D);
        m.Add(l + "self_attn.v_proj.weight", Kv * Hd, D);
        m.Add(l + "self_attn.o_proj.weight", D, Heads * Hd);
        if (bias)
        {
            m.Add(l + "self_attn.q_proj.bias", Heads * Hd);
            m.Add(l + "self_attn.k_proj.bias", Kv * Hd);
            m.Add(l + "self_attn.v_proj.bias", Kv * Hd);
        }

        if (qkNorm)
        {
            m.Add(l + "self_attn.q_norm.weight", Hd);
            m.Add(l + "self_attn.k_norm.weight", Hd);
        }

        m.Add(l + "mlp.gate_proj.weight", Ff, D);
        m.Add(l + "mlp.up_proj.weight", Ff, D);
        m.Add(l + "mlp.down_proj.weight", D, Ff);
        m.Add(l + "input_layernorm.weight", D);
        m.Add(l + "post_attention_layernorm.weight", D);
        if (sandwich)
        {
            m.Add(l + "pre_feedforward_layernorm.weight", D);
            m.Add(l + "post_feedforward_layernorm.weight", D);
        }
    }

    private static void LlamaModel(TinyModel m, string p = "model.", int layers = 2, bool bias = false, bool qkNorm = false, bool sandwich = false, bool head = true)
    {
        m.Add(p + "embed_tokens.weight", Vocab, D);
        for (int i = 0; i < layers; i++) LlamaLayer(m, p, i, bias, qkNorm, sandwich);
        m.Add(p + "norm.weight", D);
        if (head) m.Add("lm_head.weight", Vocab, D);
    }

    [Fact]
    public void Llama_gqa_maps_every_role_and_geometry()
    {
        using var m = new TinyModel().Config(LlamaConfig("llama"));
        LlamaModel(m);
        var v = m.View();
        Assert.Equal("llama", v.Architecture);
        Assert.Equal(new AttentionGeometry(D, Heads, Kv, Hd, Ff, Vocab), v.Geometry);
        Assert.True(v.Geometry.IsGroupedQuery);
        Assert.Equal(2, v.DecoderLayers.Count);
        Assert.Empty(v.UnrecognisedTensors);
        var l1 = v.Layers[1];
        Equal(m["model.layers.1.self_attn.q_proj.weight"], l1.Get(TensorRole.AttnQ), Heads * Hd, D);
        Equal(m["model.layers.1.self_attn.k_proj.weight"], l1.Get(TensorRole.AttnK), Kv * Hd, D);
        Equal(m["model.layers.1.mlp.down_proj.weight"], l1.Get(TensorRole.MlpDown), D, Ff);
        Equal(m["model.layers.1.post_attention_layernorm.weight"], l1.Get(TensorRole.MlpNorm), 1, D);
        Equal(m["model.embed_tokens.weight"], v.Get(ModelRole.Embedding), Vocab, D);
        Equal(m["lm_head.weight"], v.Get(ModelRole.LmHead), Vocab, D);
        Assert.NotNull(v.Get(ModelRole.FinalNorm));
    }

    [Theory]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    [InlineData("panguembedded")]
    public void Llama_named_families_report_their_model_type(string type)
    {
        using var m = new TinyModel().Config(LlamaConfig(type));
        LlamaModel(m, bias: true);
        var v = m.View();
        Assert.Equal(type, v.Architecture);
        Equal(m["model.layers.0.self_attn.k_proj.bias"], v.Layers[0].GetBias(TensorRole.AttnK), 1, Kv * Hd);
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void Qwen3_q_and_k_norms()
    {
        using var m = new TinyModel().Config(LlamaConfig("qwen3", extra: $", \"head_dim\": {Hd}"));
        LlamaModel(m, qkNorm: true, head: false);
        var v = m.View();
        Assert.Equal("qwen3", v.Architecture);
        Equal(m["model.layers.0.self_attn.q_norm.weight"], v.Layers[0].Get(TensorRole.QNorm), 1, Hd);
        Equal(m["model.layers.0.self_attn.k_norm.weight"], v.Layers[0].Get(TensorRole.KNorm), 1, Hd);
    }

    [Fact]
    public void Gemma1_post_attention_norm_is_the_mlp_input_norm()
    {
        using var m = new TinyModel().Config(LlamaConfig("gemma", extra: $", \"head_dim\": {Hd}"));
        LlamaModel(m, head: false);
        var v = m.View();
        Assert.Equal("gemma", v.Architecture);
        Equal(m["model.layers.0.post_attention_layernorm.weight"], v.Layers[0].Get(TensorRole.MlpNorm), 1, D);
        Assert.Null(v.Layers[0].Get(TensorRole.PostAttnNorm));
    }

    [Theory]
    [InlineData("language_model.model.")]
    [InlineData("model.language_model.")]
    public void Gemma3_multimodal_text_model_with_sandwich_norms(string prefix)
    {
        string cfg = $$$"""{"model_type": "gemma3", "text_config": {"model_type": "gemma3_text", "hidden_size": {{{D}}}, "num_attention_heads": {{{Heads}}}, "num_key_value_heads": {{{Kv}}}, "head_dim": {{{Hd}}}, "intermediate_size": {{{Ff}}}, "vocab_size": {{{Vocab}}}, "num_hidden_layers": 2}}""";
        using var m = new TinyModel().Config(cfg);
        LlamaModel(m, prefix, qkNorm: true, sandwich: true, head: false);
        m.Add("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight", 4, 4);
        m.Add("multi_modal_projector.mm_input_projection_weight", 4, D);
        var v = m.View();
        Assert.Equal("gemma3", v.Architecture);
        Assert.Equal(2, v.Layers.Count);
        var l = v.Layers[0];
        Equal(m[prefix + "layers.0.post_attention_layernorm.weight"], l.Get(TensorRole.PostAttnNorm), 1, D);
        Equal(m[prefix + "layers.0.pre_feedforward_layernorm.weight"], l.Get(TensorRole.MlpNorm), 1, D);
        Equal(m[prefix + "layers.0.post_feedforward_layernorm.weight"], l.Get(TensorRole.PostMlpNorm), 1, D);
        Equal(m[prefix + "layers.0.self_attn.q_proj.weight"], l.Get(TensorRole.AttnQ), Heads * Hd, D);
        Assert.Empty(v.UnrecognisedTensors);
        Assert.Equal(2, v.IgnoredTensors.Count(i => i.Reason.Contains("vision", StringComparison.Ordinal)));
        Assert.Contains(v.Notes, n => n.Contains("multimodal", StringComparison.Ordinal));
    }

    [Fact]
    public void Phi3_fused_qkv_and_gate_up_split_by_head_counts()
    {
        using var m = new TinyModel().Config(LlamaConfig("phi3"));
        var q = m.Add("q", Heads * Hd, D);
        var k = m.Add("k", Kv * Hd, D);
        var vv = m.Add("v", Kv * Hd, D);
        var gate = m.Add("g", Ff, D);
        var up = m.Add("u", Ff, D);
        using var m2 = new TinyModel().Config(LlamaConfig("phi3", layers: 1));
        m2.Set("model.layers.0.self_attn.qkv_proj.weight", Concat(q, k, vv), (Heads + 2 * Kv) * Hd, D);
        m2.Set("model.layers.0.mlp.gate_up_proj.weight", Concat(gate, up), 2 * Ff, D);
        m2.Add("model.layers.0.self_attn.o_proj.weight", D, D);
        m2.Add("model.layers.0.mlp.down_proj.weight", D, Ff);
        var v = m2.View();
        Assert.Equal("phi3", v.Architecture);
        var l = v.Layers[0];
        Equal(q, l.Get(TensorRole.AttnQ), Heads * Hd, D);
        Equal(k, l.Get(TensorRole.AttnK), Kv * Hd, D);
        Equal(vv, l.Get(TensorRole.AttnV), Kv * Hd, D);
        Equal(gate, l.Get(TensorRole.MlpGate), Ff, D);
        Equal(up, l.Get(TensorRole.MlpUp), Ff, D);
    }

    [Fact]
    public void Gpt2_conv1d_is_transposed_and_c_attn_split_into_thirds()
    {
        const int d = 6;
        using var m = new TinyModel().Config($$"""{"model_type": "gpt2", "n_embd": {{d}}, "n_head": 3, "n_layer": 1, "vocab_size": {{Vocab}}}""");
        m.Add("transformer.wte.weight", Vocab, d);
        m.Add("transformer.wpe.weight", 16, d);
        var attn = m.Add("transformer.h.0.attn.c_attn.weight", d, 3 * d);
        var attnBias = m.Add("transformer.h.0.attn.c_attn.bias", 3 * d);
        var proj = m.Add("transformer.h.0.attn.c_proj.weight", d, d);
        var fc = m.Add("transformer.h.0.mlp.c_fc.weight", d, 4 * d);
        var fcProj = m.Add("transformer.h.0.mlp.c_proj.weight", 4 * d, d);
        m.Add("transformer.h.0.ln_1.weight", d);
        m.Add("transformer.h.0.ln_2.weight", d);
        m.Add("transformer.h.0.attn.bias", 1, 1, 4, 4);
        m.Add("transformer.ln_f.weight", d);
        var v = m.View();
        Assert.Equal("gpt2", v.Architecture);
        Assert.Equal(4 * d, v.Geometry.IntermediateSize);
        var l = v.Layers[0];
        var t = Transpose(attn, d, 3 * d); // [3d, d]: q rows, k rows, v rows
        Equal(Rows(t, d, 0, d), l.Get(TensorRole.AttnQ), d, d);
        Equal(Rows(t, d, d, d), l.Get(TensorRole.AttnK), d, d);
        Equal(Rows(t, d, 2 * d, d), l.Get(TensorRole.AttnV), d, d);
        Equal(Transpose(proj, d, d), l.Get(TensorRole.AttnO), d, d);
        Equal(Transpose(fc, d, 4 * d), l.Get(TensorRole.MlpUp), 4 * d, d);
        Equal(Transpose(fcProj, 4 * d, d), l.Get(TensorRole.MlpDown), d, 4 * d);
        Equal(attnBias[d..(2 * d)], l.GetBias(TensorRole.AttnK), 1, d);
        Assert.NotNull(v.Get(ModelRole.PositionEmbedding));
        Assert.Contains(v.IgnoredTensors, i => i.Name == "transformer.h.0.attn.bias");
        Assert.Empty(v.UnrecognisedTensors);
    }

    /// <summary>Fused per-head [heads, 3, d] rows built from known Q, K, V.</summary>
    private static float[] PerHead(float[] q, float[] k, float[] v, int heads, int hd, int cols)
    {
        var parts = new List<float>();
        for (int h = 0; h < heads; h++)
        {
            parts.AddRange(Rows(q, cols, h * hd, hd));
            parts.AddRange(Rows(k, cols, h * hd, hd));
            parts.AddRange(Rows(v, cols, h * hd, hd));
        }

        return [.. parts];
    }

    [Fact]
    public void GptNeoX_query_key_value_is_split_per_head()
    {
        using var parts = new TinyModel();
        var q = parts.Add("q", D, D);
        var k = parts.Add("k", D, D);
        var vv = parts.Add("v", D, D);
        using var m = new TinyModel().Config($$"""{"model_type": "gpt_neox", "hidden_size": {{D}}, "num_attention_heads": {{Heads}}, "intermediate_size": {{Ff}}, "num_hidden_layers": 1, "vocab_size": {{Vocab}}}""");
        m.Add("gpt_neox.embed_in.weight", Vocab, D);
        m.Set("gpt_neox.layers.0.attention.query_key_value.weight", PerHead(q, k, vv, Heads, D / Heads, D), 3 * D, D);
        m.Set("gpt_neox.layers.0.attention.query_key_value.bias", PerHead(Enumerable.Range(0, D).Select(i => (float)i).ToArray(), new float[D], new float[D], Heads, D / Heads, 1), 3 * D);
        m.Add("gpt_neox.layers.0.attention.dense.weight", D, D);
        m.Add("gpt_neox.layers.0.attention.bias", 1, 1, 4, 4);
        m.Add("gpt_neox.layers.0.attention.masked_bias");
        m.Add("gpt_neox.layers.0.attention.rotary_emb.inv_freq", 2);
        m.Add("gpt_neox.layers.0.mlp.dense_h_to_4h.weight", Ff, D);
        m.Add("gpt_neox.layers.0.mlp.dense_4h_to_h.weight", D, Ff);
        m.Add("gpt_neox.layers.0.input_layernorm.weight", D);
        m.Add("gpt_neox.layers.0.post_attention_layernorm.weight", D);
        m.Add("gpt_neox.final_layer_norm.weight", D);
        m.Add("embed_out.weight", Vocab, D);
        var v = m.View();
        Assert.Equal("gpt_neox", v.Architecture);
        var l = v.Layers[0];
        Equal(q, l.Get(TensorRole.AttnQ), D, D);
        Equal(k, l.Get(TensorRole.AttnK), D, D);
        Equal(vv, l.Get(TensorRole.AttnV), D, D);
        Equal(Enumerable.Range(0, D).Select(i => (float)i).ToArray(), l.GetBias(TensorRole.AttnQ), 1, D);
        Assert.Empty(v.UnrecognisedTensors);
        Assert.Equal(3, v.IgnoredTensors.Count);
    }

    [Fact]
    public void Bloom_query_key_value_is_split_per_head()
    {
        using var parts = new TinyModel();
        var q = parts.Add("q", D, D);
        var k = parts.Add("k", D, D);
        var vv = parts.Add("v", D, D);
        using var m = new TinyModel().Config($$"""{"model_type": "bloom", "n_embed": {{D}}, "num_attention_heads": {{Heads}}, "n_layer": 1, "vocab_size": {{Vocab}}}""");
        m.Add("word_embeddings.weight", Vocab, D);
        m.Add("word_embeddings_layernorm.weight", D);
        m.Set("h.0.self_attention.query_key_value.weight", PerHead(q, k, vv, Heads, D / Heads, D), 3 * D, D);
        m.Add("h.0.self_attention.dense.weight", D, D);
        m.Add("h.0.mlp.dense_h_to_4h.weight", 4 * D, D);
        m.Add("h.0.mlp.dense_4h_to_h.weight", D, 4 * D);
        m.Add("h.0.input_layernorm.weight", D);
        m.Add("h.0.post_attention_layernorm.weight", D);
        m.Add("ln_f.weight", D);
        var v = m.View();
        Assert.Equal("bloom", v.Architecture);
        Assert.Equal(4 * D, v.Geometry.IntermediateSize);
        Equal(k, v.Layers[0].Get(TensorRole.AttnK), D, D);
        Equal(vv, v.Layers[0].Get(TensorRole.AttnV), D, D);
        Assert.NotNull(v.Get(ModelRole.EmbeddingNorm));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Theory]
    [InlineData("multi_query")]
    [InlineData("new_decoder")]
    [InlineData("per_head")]
    public void Falcon_query_key_value_layouts(string layout)
    {
        const int heads = 4, hd = 2, d = heads * hd;
        int kv = layout switch { "multi_query" => 1, "new_decoder" => 2, _ => heads };
        using var parts = new TinyModel();
        var q = parts.Add("q", heads * hd, d);
        var k = parts.Add("k", kv * hd, d);
        var vv = parts.Add("v", kv * hd, d);
        float[] fused;
        string cfg;
        if (layout == "multi_query")
        {
            fused = Concat(q, k, vv);
            cfg = $$"""{"model_type": "falcon", "hidden_size": {{d}}, "num_attention_heads": {{heads}}, "multi_query": true, "new_decoder_architecture": false, "num_hidden_layers": 1}""";
        }
        else if (layout == "new_decoder")
        {
            var list = new List<float>();
            int per = heads / kv;
            for (int g = 0; g < kv; g++)
            {
                list.AddRange(Rows(q, d, g * per * hd, per * hd));
                list.AddRange(Rows(k, d, g * hd, hd));
                list.AddRange(Rows(vv, d, g * hd, hd));
            }

            fused = [.. list];
            cfg = $$"""{"model_type": "RefinedWeb", "hidden_size": {{d}}, "n_head": {{heads}}, "n_head_kv": {{kv}}, "n_layer": 1}""";
        }
        else
        {
            fused = PerHead(q, k, vv, heads, hd, d);
            cfg = $$"""{"model_type": "falcon", "hidden_size": {{d}}, "num_attention_heads": {{heads}}, "multi_query": false, "num_hidden_layers": 1}""";
        }

        using var m = new TinyModel().Config(cfg);
        m.Add("transformer.word_embeddings.weight", Vocab, d);
        m.Set("transformer.h.0.self_attention.query_key_value.weight", fused, fused.Length / d, d);
        m.Add("transformer.h.0.self_attention.dense.weight", d, d);
        m.Add("transformer.h.0.mlp.dense_h_to_4h.weight", 4 * d, d);
        m.Add("transformer.h.0.mlp.dense_4h_to_h.weight", d, 4 * d);
        m.Add(layout == "new_decoder" ? "transformer.h.0.ln_attn.weight" : "transformer.h.0.input_layernorm.weight", d);
        if (layout == "new_decoder") m.Add("transformer.h.0.ln_mlp.weight", d);
        m.Add("transformer.ln_f.weight", d);
        m.Add("lm_head.weight", Vocab, d);
        var v = m.View();
        Assert.Equal("falcon", v.Architecture);
        Assert.Equal(kv, v.Geometry.KvHeads);
        var l = v.Layers[0];
        Equal(q, l.Get(TensorRole.AttnQ), heads * hd, d);
        Equal(k, l.Get(TensorRole.AttnK), kv * hd, d);
        Equal(vv, l.Get(TensorRole.AttnV), kv * hd, d);
        if (layout == "new_decoder") Assert.NotNull(l.Get(TensorRole.MlpNorm));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void GptJ_and_Opt_separate_projections()
    {
        using (var m = new TinyModel().Config($$"""{"model_type": "gptj", "n_embd": {{D}}, "n_head": {{Heads}}, "n_layer": 1, "vocab_size": {{Vocab}}}"""))
        {
            m.Add("transformer.wte.weight", Vocab, D);
            foreach (var p in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) m.Add($"transformer.h.0.attn.{p}.weight", D, D);
            m.Add("transformer.h.0.attn.masked_bias");
            m.Add("transformer.h.0.mlp.fc_in.weight", 4 * D, D);
            m.Add("transformer.h.0.mlp.fc_out.weight", D, 4 * D);
            m.Add("transformer.h.0.ln_1.weight", D);
            m.Add("transformer.ln_f.weight", D);
            m.Add("lm_head.weight", Vocab, D);
            var v = m.View();
            Assert.Equal("gptj", v.Architecture);
            Equal(m["transformer.h.0.attn.out_proj.weight"], v.Layers[0].Get(TensorRole.AttnO), D, D);
            Equal(m["transformer.h.0.mlp.fc_in.weight"], v.Layers[0].Get(TensorRole.MlpUp), 4 * D, D);
            Assert.Empty(v.UnrecognisedTensors);
        }

        using (var m = new TinyModel().Config($$"""{"model_type": "opt", "hidden_size": {{D}}, "num_attention_heads": {{Heads}}, "ffn_dim": {{Ff}}, "num_hidden_layers": 1, "vocab_size": {{Vocab}}}"""))
        {
            m.Add("model.decoder.embed_tokens.weight", Vocab, D);
            m.Add("model.decoder.embed_positions.weight", 18, D);
            foreach (var p in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) m.Add($"model.decoder.layers.0.self_attn.{p}.weight", D, D);
            m.Add("model.decoder.layers.0.self_attn_layer_norm.weight", D);
            m.Add("model.decoder.layers.0.fc1.weight", Ff, D);
            m.Add("model.decoder.layers.0.fc2.weight", D, Ff);
            m.Add("model.decoder.layers.0.final_layer_norm.weight", D);
            m.Add("model.decoder.final_layer_norm.weight", D);
            var v = m.View();
            Assert.Equal("opt", v.Architecture);
            Equal(m["model.decoder.layers.0.final_layer_norm.weight"], v.Layers[0].Get(TensorRole.MlpNorm), 1, D);
            Equal(m["model.decoder.layers.0.fc2.weight"], v.Layers[0].Get(TensorRole.MlpDown), D, Ff);
            Assert.Empty(v.UnrecognisedTensors);
        }
    }

    [Theory]
    [InlineData("bert", "bert.")]
    [InlineData("roberta", "roberta.")]
    [InlineData("bert", "")]
    public void Bert_family_encoder_layers(string type, string prefix)
    {
        using var m = new TinyModel().Config($$"""{"model_type": "{{type}}", "hidden_size": {{D}}, "num_attention_heads": {{Heads}}, "intermediate_size": {{Ff}}, "num_hidden_layers": 1, "vocab_size": {{Vocab}}}""");
        m.Add(prefix + "embeddings.word_embeddings.weight", Vocab, D);
        m.Add(prefix + "embeddings.position_embeddings.weight", 16, D);
        m.Add(prefix + "embeddings.token_type_embeddings.weight", 2, D);
        m.Add(prefix + "embeddings.LayerNorm.weight", D);
        string l = prefix + "encoder.layer.0.";
        foreach (var p in new[] { "query", "key", "value" }) m.Add($"{l}attention.self.{p}.weight", D, D);
        m.Add(l + "attention.output.dense.weight", D, D);
        m.Add(l + "attention.output.LayerNorm.weight", D);
        m.Add(l + "intermediate.dense.weight", Ff, D);
        m.Add(l + "output.dense.weight", D, Ff);
        m.Add(l + "output.LayerNorm.weight", D);
        m.Add(prefix + "pooler.dense.weight", D, D);
        var v = m.View();
        Assert.Equal(type, v.Architecture);
        Assert.Equal("encoder", v.Layers[0].Stack);
        Assert.Single(v.DecoderLayers);
        Equal(m[l + "attention.self.key.weight"], v.Layers[0].Get(TensorRole.AttnK), D, D);
        Equal(m[l + "output.LayerNorm.weight"], v.Layers[0].Get(TensorRole.PostMlpNorm), 1, D);
        Assert.NotNull(v.Get(ModelRole.TokenTypeEmbedding));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void DistilBert_encoder_layers()
    {
        using var m = new TinyModel().Config($$"""{"model_type": "distilbert", "dim": {{D}}, "n_heads": {{Heads}}, "hidden_dim": {{Ff}}, "n_layers": 1, "vocab_size": {{Vocab}}}""");
        m.Add("distilbert.embeddings.word_embeddings.weight", Vocab, D);
        foreach (var p in new[] { "q_lin", "k_lin", "v_lin", "out_lin" }) m.Add($"distilbert.transformer.layer.0.attention.{p}.weight", D, D);
        m.Add("distilbert.transformer.layer.0.sa_layer_norm.weight", D);
        m.Add("distilbert.transformer.layer.0.ffn.lin1.weight", Ff, D);
        m.Add("distilbert.transformer.layer.0.ffn.lin2.weight", D, Ff);
        m.Add("distilbert.transformer.layer.0.output_layer_norm.weight", D);
        var v = m.View();
        Assert.Equal("distilbert", v.Architecture);
        Assert.Equal(new AttentionGeometry(D, Heads, Heads, D / Heads, Ff, Vocab), v.Geometry);
        Equal(m["distilbert.transformer.layer.0.attention.out_lin.weight"], v.Layers[0].Get(TensorRole.AttnO), D, D);
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void T5_keeps_encoder_decoder_and_cross_attention_apart()
    {
        const int inner = 12;
        using var m = new TinyModel().Config($$"""{"model_type": "t5", "d_model": {{D}}, "num_heads": 3, "d_kv": 4, "d_ff": {{Ff}}, "num_layers": 1, "num_decoder_layers": 1, "vocab_size": {{Vocab}}}""");
        m.Add("shared.weight", Vocab, D);
        m.Add("encoder.embed_tokens.weight", Vocab, D);
        foreach (var p in "qkv") m.Add($"encoder.block.0.layer.0.SelfAttention.{p}.weight", inner, D);
        m.Add("encoder.block.0.layer.0.SelfAttention.o.weight", D, inner);
        m.Add("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 32, 3);
        m.Add("encoder.block.0.layer.0.layer_norm.weight", D);
        m.Add("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", Ff, D);
        m.Add("encoder.block.0.layer.1.DenseReluDense.wi_1.weight", Ff, D);
        m.Add("encoder.block.0.layer.1.DenseReluDense.wo.weight", D, Ff);
        m.Add("encoder.block.0.layer.1.layer_norm.weight", D);
        m.Add("encoder.final_layer_norm.weight", D);
        foreach (var p in "qkv") m.Add($"decoder.block.0.layer.0.SelfAttention.{p}.weight", inner, D);
        m.Add("decoder.block.0.layer.0.SelfAttention.o.weight", D, inner);
        m.Add("decoder.block.0.layer.0.layer_norm.weight", D);
        foreach (var p in "qkv") m.Add($"decoder.block.0.layer.1.EncDecAttention.{p}.weight", inner, D);
        m.Add("decoder.block.0.layer.1.EncDecAttention.o.weight", D, inner);
        m.Add("decoder.block.0.layer.1.layer_norm.weight", D);
        m.Add("decoder.block.0.layer.2.DenseReluDense.wi_0.weight", Ff, D);
        m.Add("decoder.block.0.layer.2.DenseReluDense.wi_1.weight", Ff, D);
        m.Add("decoder.block.0.layer.2.DenseReluDense.wo.weight", D, Ff);
        m.Add("decoder.block.0.layer.2.layer_norm.weight", D);
        m.Add("decoder.final_layer_norm.weight", D);
        m.Add("lm_head.weight", Vocab, D);
        var v = m.View();
        Assert.Equal("t5", v.Architecture);
        Assert.Equal(["encoder", "decoder"], v.Layers.Select(l => l.Stack));
        Assert.Equal(4, v.Geometry.HeadDim);
        var enc = v.Layers[0];
        var dec = v.DecoderLayers.Single();
        Equal(m["encoder.block.0.layer.0.SelfAttention.q.weight"], enc.Get(TensorRole.AttnQ), inner, D);
        Assert.Null(enc.Get(TensorRole.CrossQ));
        Equal(m["decoder.block.0.layer.0.SelfAttention.k.weight"], dec.Get(TensorRole.AttnK), inner, D);
        Equal(m["decoder.block.0.layer.1.EncDecAttention.k.weight"], dec.Get(TensorRole.CrossK), inner, D);
        Equal(m["decoder.block.0.layer.1.EncDecAttention.o.weight"], dec.Get(TensorRole.CrossO), D, inner);
        Equal(m["decoder.block.0.layer.1.layer_norm.weight"], dec.Get(TensorRole.CrossNorm), 1, D);
        Equal(m["decoder.block.0.layer.2.layer_norm.weight"], dec.Get(TensorRole.MlpNorm), 1, D);
        Equal(m["decoder.block.0.layer.2.DenseReluDense.wi_0.weight"], dec.Get(TensorRole.MlpGate), Ff, D);
        Assert.NotNull(v.Get(ModelRole.EncoderFinalNorm));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Theory]
    [InlineData("mixtral")]
    [InlineData("phimoe")]
    public void Mixtral_style_experts_w1_w2_w3(string type)
    {
        using var m = new TinyModel().Config(LlamaConfig(type, layers: 1, extra: ", \"num_local_experts\": 3, \"num_experts_per_tok\": 2"));
        m.Add("model.embed_tokens.weight", Vocab, D);
        m.Add("model.layers.0.self_attn.q_proj.weight", Heads * Hd, D);
        m.Add("model.layers.0.self_attn.k_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.v_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.o_proj.weight", D, D);
        m.Add("model.layers.0.block_sparse_moe.gate.weight", 3, D);
        for (int e = 0; e < 3; e++)
        {
            m.Add($"model.layers.0.block_sparse_moe.experts.{e}.w1.weight", Ff, D);
            m.Add($"model.layers.0.block_sparse_moe.experts.{e}.w2.weight", D, Ff);
            m.Add($"model.layers.0.block_sparse_moe.experts.{e}.w3.weight", Ff, D);
        }

        var v = m.View();
        Assert.Equal(type, v.Architecture);
        Assert.Equal(3, v.Geometry.Experts);
        Assert.Equal(2, v.Geometry.ExpertsPerToken);
        var l = v.Layers[0];
        Assert.Equal(3, l.Experts.Count);
        Equal(m["model.layers.0.block_sparse_moe.experts.2.w1.weight"], l.Experts[2].Get(TensorRole.MlpGate), Ff, D);
        Equal(m["model.layers.0.block_sparse_moe.experts.2.w2.weight"], l.Experts[2].Get(TensorRole.MlpDown), D, Ff);
        Equal(m["model.layers.0.block_sparse_moe.experts.2.w3.weight"], l.Experts[2].Get(TensorRole.MlpUp), Ff, D);
        Equal(m["model.layers.0.block_sparse_moe.gate.weight"], l.Get(TensorRole.Router), 3, D);
    }

    [Theory]
    [InlineData("qwen2_moe", true)]
    [InlineData("qwen3_moe", false)]
    [InlineData("pangupromoe", true)]
    public void Qwen_and_pangu_moe_experts_router_and_shared_expert(string type, bool shared)
    {
        const int experts = 16;
        using var m = new TinyModel().Config(LlamaConfig(type, layers: 1, extra: $", \"num_experts\": {experts}, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 4" + (shared ? ", \"shared_expert_intermediate_size\": 6" : "")));
        m.Add("model.layers.0.self_attn.q_proj.weight", Heads * Hd, D);
        m.Add("model.layers.0.self_attn.k_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.v_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.o_proj.weight", D, D);
        m.Add("model.layers.0.mlp.gate.weight", experts, D);
        for (int e = 0; e < experts; e++)
        {
            foreach (var p in new[] { "gate_proj", "up_proj" }) m.Add($"model.layers.0.mlp.experts.{e}.{p}.weight", 4, D);
            m.Add($"model.layers.0.mlp.experts.{e}.down_proj.weight", D, 4);
        }

        if (shared)
        {
            foreach (var p in new[] { "gate_proj", "up_proj" }) m.Add($"model.layers.0.mlp.shared_expert.{p}.weight", 6, D);
            m.Add("model.layers.0.mlp.shared_expert.down_proj.weight", D, 6);
            if (type == "qwen2_moe") m.Add("model.layers.0.mlp.shared_expert_gate.weight", 1, D);
            else m.Add("model.layers.0.mlp.router_scale", 1, experts);
        }

        var v = m.View();
        Assert.Equal(type == "pangupromoe" ? "pangupromoe" : type, v.Architecture);
        var l = v.Layers[0];
        Assert.Equal(experts + (shared ? 1 : 0), l.Experts.Count);
        Assert.Equal(shared ? 1 : 0, v.Geometry.SharedExperts);
        Assert.Equal(4, v.Geometry.ExpertIntermediateSize);
        Equal(m["model.layers.0.mlp.experts.5.up_proj.weight"], l.Experts.Single(e => !e.IsShared && e.Index == 5).Get(TensorRole.MlpUp), 4, D);
        if (shared) Equal(m["model.layers.0.mlp.shared_expert.down_proj.weight"], l.Experts.Single(e => e.IsShared).Get(TensorRole.MlpDown), D, 6);
        if (type == "qwen2_moe") Assert.NotNull(l.Get(TensorRole.SharedExpertGate));
        if (type == "pangupromoe")
        {
            Assert.Equal(Enumerable.Range(0, experts).Select(e => e / 2), l.Experts.Where(e => !e.IsShared).Select(e => e.Group));
            Assert.Contains(v.Notes, n => n.Contains("assum", StringComparison.Ordinal));
        }
        else Assert.All(l.Experts, e => Assert.Equal(-1, e.Group));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void DeepSeek_mla_roles_are_the_documented_factors()
    {
        const int heads = 2, nope = 3, rope = 2, vdim = 4, qRank = 5, kvRank = 6;
        string cfg = $$"""{"model_type": "deepseek_v3", "hidden_size": {{D}}, "num_attention_heads": {{heads}}, "num_key_value_heads": {{heads}}, "q_lora_rank": {{qRank}}, "kv_lora_rank": {{kvRank}}, "qk_nope_head_dim": {{nope}}, "qk_rope_head_dim": {{rope}}, "v_head_dim": {{vdim}}, "intermediate_size": {{Ff}}, "moe_intermediate_size": 4, "n_routed_experts": 2, "n_shared_experts": 1, "num_experts_per_tok": 1, "first_k_dense_replace": 1, "num_hidden_layers": 2, "num_nextn_predict_layers": 1, "vocab_size": {{Vocab}}}""";
        using var m = new TinyModel().Config(cfg);
        m.Add("model.embed_tokens.weight", Vocab, D);
        for (int i = 0; i < 3; i++)
        {
            string l = $"model.layers.{i}.";
            m.Add(l + "self_attn.q_a_proj.weight", qRank, D);
            m.Add(l + "self_attn.q_a_layernorm.weight", qRank);
            m.Add(l + "self_attn.q_b_proj.weight", heads * (nope + rope), qRank);
            m.Add(l + "self_attn.kv_a_proj_with_mqa.weight", kvRank + rope, D);
            m.Add(l + "self_attn.kv_a_layernorm.weight", kvRank);
            m.Add(l + "self_attn.kv_b_proj.weight", heads * (nope + vdim), kvRank);
            m.Add(l + "self_attn.o_proj.weight", D, heads * vdim);
            m.Add(l + "input_layernorm.weight", D);
            m.Add(l + "post_attention_layernorm.weight", D);
            if (i == 0)
            {
                foreach (var p in new[] { "gate_proj", "up_proj" }) m.Add($"{l}mlp.{p}.weight", Ff, D);
                m.Add(l + "mlp.down_proj.weight", D, Ff);
            }
            else
            {
                m.Add(l + "mlp.gate.weight", 2, D);
                m.Add(l + "mlp.gate.e_score_correction_bias", 2);
                for (int e = 0; e < 2; e++)
                {
                    foreach (var p in new[] { "gate_proj", "up_proj" }) m.Add($"{l}mlp.experts.{e}.{p}.weight", 4, D);
                    m.Add($"{l}mlp.experts.{e}.down_proj.weight", D, 4);
                }

                foreach (var p in new[] { "gate_proj", "up_proj" }) m.Add($"{l}mlp.shared_experts.{p}.weight", 4, D);
                m.Add(l + "mlp.shared_experts.down_proj.weight", D, 4);
            }
        }

        var v = m.View();
        Assert.Equal("deepseek_v3", v.Architecture);
        Assert.Equal(2, v.Layers.Count); // layer 2 is the multi-token-prediction module
        Assert.Contains(v.IgnoredTensors, i => i.Name.StartsWith("model.layers.2.", StringComparison.Ordinal) && i.Reason.Contains("multi-token", StringComparison.Ordinal));
        Assert.Equal(nope + rope, v.Geometry.HeadDim);
        var l1 = v.Layers[1];
        var kvb = m["model.layers.1.self_attn.kv_b_proj.weight"];
        var expectedK = Concat(Rows(kvb, kvRank, 0, nope), Rows(kvb, kvRank, nope + vdim, nope));
        var expectedV = Concat(Rows(kvb, kvRank, nope, vdim), Rows(kvb, kvRank, 2 * nope + vdim, vdim));
        Equal(expectedK, l1.Get(TensorRole.AttnK), heads * nope, kvRank);
        Equal(expectedV, l1.Get(TensorRole.AttnV), heads * vdim, kvRank);
        Equal(m["model.layers.1.self_attn.q_b_proj.weight"], l1.Get(TensorRole.AttnQ), heads * (nope + rope), qRank);
        Assert.NotNull(l1.Get(TensorRole.AttnQLowRank));
        Assert.NotNull(l1.Get(TensorRole.AttnKvLowRank));
        Assert.NotNull(l1.Get(TensorRole.KvLowRankNorm));
        Assert.Equal(3, l1.Experts.Count);
        Assert.Empty(v.Layers[0].Experts);
        Assert.Contains(v.Notes, n => n.Contains("Q := q_b_proj", StringComparison.Ordinal));
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void GptOss_stacked_bf16_experts_interleaved_gate_up()
    {
        const int experts = 2, ff = 3;
        using var m = new TinyModel().Config(LlamaConfig("gpt_oss", layers: 1, extra: $", \"num_local_experts\": {experts}, \"head_dim\": {Hd}"));
        m.Add("model.layers.0.self_attn.q_proj.weight", Heads * Hd, D);
        m.Add("model.layers.0.self_attn.k_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.v_proj.weight", Kv * Hd, D);
        m.Add("model.layers.0.self_attn.o_proj.weight", D, Heads * Hd);
        m.Add("model.layers.0.self_attn.sinks", Heads);
        m.Add("model.layers.0.mlp.router.weight", experts, D);
        var gu = m.Add("model.layers.0.mlp.experts.gate_up_proj", experts, D, 2 * ff);
        m.Add("model.layers.0.mlp.experts.gate_up_proj_bias", experts, 2 * ff);
        var down = m.Add("model.layers.0.mlp.experts.down_proj", experts, ff, D);
        var v = m.View();
        Assert.Equal("gpt_oss", v.Architecture);
        var e1 = v.Layers[0].Experts[1];
        // Expert 1's gate_up is [D, 2ff]; gate = even columns, up = odd columns, then transposed to [ff, D].
        var block = gu[(D * 2 * ff)..];
        var gate = new float[ff * D];
        var up = new float[ff * D];
        for (int r = 0; r < D; r++)
            for (int j = 0; j < ff; j++)
            {
                gate[j * D + r] = block[r * 2 * ff + 2 * j];
                up[j * D + r] = block[r * 2 * ff + 2 * j + 1];
            }

        Equal(gate, e1.Get(TensorRole.MlpGate), ff, D);
        Equal(up, e1.Get(TensorRole.MlpUp), ff, D);
        Equal(Transpose(down[(ff * D)..], ff, D), e1.Get(TensorRole.MlpDown), D, ff);
        Assert.Empty(v.UnrecognisedTensors);
    }

    [Fact]
    public void GptOss_mxfp4_experts_are_dequantised()
    {
        const int experts = 2, rows = 4, blocks = 1;
        using var tmp = new Support.TempDir();
        var w = new SafetensorsWriter();
        var blockBytes = new byte[experts * rows * blocks * 16];
        var scaleBytes = new byte[experts * rows * blocks];
        for (int i = 0; i < blockBytes.Length; i++) blockBytes[i] = (byte)(i * 37 + 11);
        for (int i = 0; i < scaleBytes.Length; i++) scaleBytes[i] = (byte)(125 + i % 4);
        w.Add("model.layers.0.self_attn.q_proj.weight", new float[32 * 32], 32, 32);
        w.AddRaw("model.layers.0.mlp.experts.gate_up_proj_blocks", TensorDType.U8, blockBytes, experts, rows, blocks, 16);
        w.AddRaw("model.layers.0.mlp.experts.gate_up_proj_scales", TensorDType.U8, scaleBytes, experts, rows, blocks);
        w.Write(tmp.File("model.safetensors"));
        File.WriteAllText(tmp.File("config.json"), """{"model_type": "gpt_oss", "hidden_size": 32, "num_attention_heads": 4}""");
        using var c = CheckpointLoader.Open(tmp.Path);
        var v = ModelViewBuilder.Build(c);
        float[] fp4 = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f];
        // Expert 1, up = odd stored rows (1 and 3).
        var expected = new List<float>();
        foreach (int row in new[] { 1, 3 })
        {
            int stored = rows + row;
            float scale = MathF.Pow(2, scaleBytes[stored] - 127);
            for (int i = 0; i < 16; i++)
            {
                byte b = blockBytes[stored * 16 + i];
                expected.Add(fp4[b & 15] * scale);
                expected.Add(fp4[b >> 4] * scale);
            }
        }

        Equal([.. expected], v.Layers[0].Experts[1].Get(TensorRole.MlpUp), 2, 32);
    }

    /// <summary>llama.cpp's / llama2.c's permutation of a Hugging Face Q or K matrix (rows h·d + j·d/2 + i →
    /// h·d + 2i + j), written independently of the library.</summary>
    internal static float[] LlamaCppPermute(float[] hf, int heads, int cols)
    {
        int rows = hf.Length / cols, hd = rows / heads;
        var o = new float[hf.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < hd / 2; i++)
                    Array.Copy(hf, (h * hd + j * hd / 2 + i) * cols, o, (h * hd + 2 * i + j) * cols, cols);
        return o;
    }

    [Theory]
    [InlineData("model._orig_mod.")]
    [InlineData("_orig_mod.")]
    [InlineData("")]
    public void Llama2c_pytorch_names_are_unpermuted(string prefix)
    {
        using var parts = new TinyModel();
        var q = parts.Add("q", Heads * Hd, D);
        var k = parts.Add("k", Kv * Hd, D);
        using var m = new TinyModel().Config($$"""{"dim": {{D}}, "n_heads": {{Heads}}, "n_kv_heads": {{Kv}}, "n_layers": 1, "vocab_size": {{Vocab}}}""");
        m.Add(prefix + "tok_embeddings.weight", Vocab, D);
        m.Set(prefix + "layers.0.attention.wq.weight", LlamaCppPermute(q, Heads, D), Heads * Hd, D);
        m.Set(prefix + "layers.0.attention.wk.weight", LlamaCppPermute(k, Kv, D), Kv * Hd, D);
        m.Add(prefix + "layers.0.attention.wv.weight", Kv * Hd, D);
        m.Add(prefix + "layers.0.attention.wo.weight", D, D);
        m.Add(prefix + "layers.0.feed_forward.w1.weight", Ff, D);
        m.Add(prefix + "layers.0.feed_forward.w2.weight", D, Ff);
        m.Add(prefix + "layers.0.feed_forward.w3.weight", Ff, D);
        m.Add(prefix + "layers.0.attention_norm.weight", D);
        m.Add(prefix + "layers.0.ffn_norm.weight", D);
        m.Add(prefix + "norm.weight", D);
        m.Add(prefix + "output.weight", Vocab, D);
        var v = m.View();
        Assert.Equal("llama", v.Architecture);
        var l = v.Layers[0];
        Equal(q, l.Get(TensorRole.AttnQ), Heads * Hd, D);
        Equal(k, l.Get(TensorRole.AttnK), Kv * Hd, D);
        Equal(m[prefix + "layers.0.feed_forward.w3.weight"], l.Get(TensorRole.MlpUp), Ff, D);
        Equal(m[prefix + "layers.0.feed_forward.w2.weight"], l.Get(TensorRole.MlpDown), D, Ff);
        Assert.NotNull(v.Get(ModelRole.LmHead));
        Assert.Empty(v.UnrecognisedTensors);
        if (prefix.Length > 0) Assert.Contains(v.Notes, n => n.Contains("_orig_mod", StringComparison.Ordinal));
    }

    [Fact]
    public void Bitsandbytes_int8_weights_are_dequantised_per_row()
    {
        using var tmp = new Support.TempDir();
        var w = new SafetensorsWriter();
        sbyte[] q = [.. Enumerable.Range(0, Heads * Hd * D).Select(i => (sbyte)((i * 7 % 255) - 127))];
        float[] scb = [.. Enumerable.Range(0, Heads * Hd).Select(i => 0.5f + i)];
        w.AddRaw("model.layers.0.self_attn.q_proj.weight", TensorDType.I8, [.. q.Select(x => (byte)x)], Heads * Hd, D);
        w.Add("model.layers.0.self_attn.q_proj.SCB", scb, Heads * Hd);
        w.AddRaw("model.layers.0.self_attn.q_proj.weight_format", TensorDType.U8, [0]);
        w.Write(tmp.File("model.safetensors"));
        File.WriteAllText(tmp.File("config.json"), LlamaConfig("llama", layers: 1));
        using var c = CheckpointLoader.Open(tmp.Path);
        var v = ModelViewBuilder.Build(c);
        var expected = q.Select((x, i) => x * (scb[i / D] / 127f)).ToArray();
        Equal(expected, v.Layers[0].Get(TensorRole.AttnQ), Heads * Hd, D);
        Assert.Equal(2, v.IgnoredTensors.Count);
    }

    [Fact]
    public void Unknown_architecture_is_reported_not_guessed()
    {
        using var m = new TinyModel().Config("""{"model_type": "mamba", "hidden_size": 8}""");
        m.Add("backbone.layers.0.mixer.in_proj.weight", 16, 8);
        m.Add("backbone.embeddings.weight", 10, 8);
        var v = m.View();
        Assert.Equal("unknown", v.Architecture);
        Assert.Empty(v.Layers);
        Assert.Equal(2, v.UnrecognisedTensors.Count);
        Assert.Contains(v.Notes, n => n.Contains("mamba", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_model_type_with_known_names_says_so()
    {
        using var m = new TinyModel().Config(LlamaConfig("olmo_next", layers: 1));
        LlamaModel(m, layers: 1);
        var v = m.View();
        Assert.Equal("llama", v.Architecture);
        Assert.Contains(v.Notes, n => n.Contains("'olmo_next' is not a known architecture", StringComparison.Ordinal));
    }

    [Fact]
    public void No_config_families_are_recognised_from_names_with_a_note()
    {
        using var m = new TinyModel();
        m.Add("model.layers.0.self_attn.q_proj.weight", D, D);
        m.Add("model.layers.0.self_attn.k_proj.weight", D, D);
        m.Add("model.layers.0.self_attn.v_proj.weight", D, D);
        m.Add("model.layers.0.self_attn.o_proj.weight", D, D);
        m.Add("model.layers.0.block_sparse_moe.gate.weight", 2, D);
        m.Add("model.layers.0.block_sparse_moe.experts.0.w1.weight", Ff, D);
        var v = m.View();
        Assert.Equal("mixtral", v.Architecture);
        Assert.Contains(v.Notes, n => n.Contains("recognised from tensor names", StringComparison.Ordinal));
        Assert.Equal(D, v.Geometry.HiddenSize);
    }

    [Fact]
    public void Peft_wrapped_full_model_prefix_is_removed()
    {
        using var m = new TinyModel().Config(LlamaConfig("llama", layers: 1));
        LlamaModel(m, "base_model.model.model.", layers: 1, head: false);
        var v = m.View();
        Assert.Equal("llama", v.Architecture);
        Assert.Single(v.Layers);
        Assert.Empty(v.UnrecognisedTensors);
        Assert.Contains(v.Notes, n => n.Contains("base_model.model.", StringComparison.Ordinal));
    }
}
