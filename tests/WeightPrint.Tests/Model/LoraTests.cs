using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Formats.Peft;
using WeightPrint.Model;
using WeightPrint.Tests.Support;
using static WeightPrint.Tests.Model.TinyModel;
using WeightPrint.IO;

namespace WeightPrint.Tests.Model;

public class LoraTests
{
    private const int D = 8, R = 2;

    /// <summary>scale · B · A by the definition, in double.</summary>
    private static float[] Delta(float[] b, float[] a, int outF, int inF, int r, double scale)
    {
        var d = new float[outF * inF];
        for (int i = 0; i < outF; i++)
            for (int j = 0; j < inF; j++)
            {
                double s = 0;
                for (int k = 0; k < r; k++) s += (double)b[i * r + k] * a[k * inF + j];
                d[i * inF + j] = (float)(scale * s);
            }

        return d;
    }

    private static string AdapterConfig(double alpha, bool rslora = false, bool fanInFanOut = false, string targets = "\"q_proj\", \"v_proj\"")
        => $$"""{"peft_type": "LORA", "r": {{R}}, "lora_alpha": {{alpha}}, "use_rslora": {{(rslora ? "true" : "false")}}, "fan_in_fan_out": {{(fanInFanOut ? "true" : "false")}}, "target_modules": [{{targets}}], "base_model_name_or_path": "tiny"}""";

    [Theory]
    [InlineData(false, 2.0)]
    [InlineData(true, 4 / 1.4142135623730951)]
    public void Adapter_alone_holds_the_hand_computed_delta(bool rslora, double scale)
    {
        using var m = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(4, rslora));
        for (int i = 0; i < 2; i++)
        {
            m.Add($"base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight", R, D);
            m.Add($"base_model.model.model.layers.{i}.self_attn.q_proj.lora_B.weight", D, R);
            m.Add($"base_model.model.model.layers.{i}.self_attn.v_proj.lora_A.weight", R, D);
            m.Add($"base_model.model.model.layers.{i}.self_attn.v_proj.lora_B.weight", 4, R);
        }

        m.Add("base_model.model.score.weight", 3, D);
        var v = m.View();
        Assert.Equal("peft-lora(llama)", v.Architecture);
        Assert.Equal(2, v.Layers.Count);
        var l = v.Layers[1];
        Assert.Equal([TensorRole.AttnQ, TensorRole.AttnV], l.Tensors.Keys.Order());
        var expected = Delta(m["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"], m["base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"], 4, D, R, scale);
        Close(expected, l.Get(TensorRole.AttnV)!.ReadAll(), 1e-6);
        Assert.Contains(v.IgnoredTensors, i => i.Name == "base_model.model.score.weight");
        Assert.Contains(v.Notes, n => n.Contains("ΔW", StringComparison.Ordinal));
        Assert.Equal(rslora, PeftAdapter.Read(v.Checkpoint).UseRsLora);
    }

    [Fact]
    public void Gpt2_fan_in_fan_out_adapter_merges_like_peft()
    {
        const int d = 6, vocab = 5;
        using var baseModel = new TinyModel().Config($$"""{"model_type": "gpt2", "n_embd": {{d}}, "n_head": 3, "n_layer": 1, "vocab_size": {{vocab}}}""");
        baseModel.Add("transformer.wte.weight", vocab, d);
        var w = baseModel.Add("transformer.h.0.attn.c_attn.weight", d, 3 * d);
        baseModel.Add("transformer.h.0.attn.c_proj.weight", d, d);
        baseModel.Add("transformer.h.0.mlp.c_fc.weight", d, 4 * d);
        baseModel.Add("transformer.h.0.mlp.c_proj.weight", 4 * d, d);
        using var adapter = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(8, fanInFanOut: true, targets: "\"c_attn\""));
        var a = adapter.Add("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", R, d);
        var b = adapter.Add("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", 3 * d, R);
        var bc = baseModel.Open();
        var ac = adapter.Open();

        // PEFT: W' = W + transpose(B·A) · scale on the stored [in, out] Conv1D weight.
        var delta = Delta(b, a, 3 * d, d, R, 8.0 / R);
        var merged = (float[])w.Clone();
        for (int i = 0; i < d; i++)
            for (int j = 0; j < 3 * d; j++) merged[i * 3 * d + j] += delta[j * d + i];
        var canonical = Transpose(merged, d, 3 * d);

        var v = ModelViewBuilder.Build(ac, bc);
        Assert.Equal("gpt2", v.Architecture);
        var l = v.Layers[0];
        Assert.IsType<LoraMergedView>(l.Get(TensorRole.AttnK));
        Close(Rows(canonical, d, 0, d), l.Get(TensorRole.AttnQ)!.ReadAll(), 1e-6);
        Close(Rows(canonical, d, d, d), l.Get(TensorRole.AttnK)!.ReadAll(), 1e-6);
        Close(Rows(canonical, d, 2 * d, d), l.Get(TensorRole.AttnV)!.ReadAll(), 1e-6);
        Assert.IsType<TransposedView>(l.Get(TensorRole.AttnO));

        var alone = ModelViewBuilder.Build(ac);
        Assert.Equal("peft-lora(gpt2)", alone.Architecture);
        Close(Rows(delta, d, d, d), alone.Layers[0].Get(TensorRole.AttnK)!.ReadAll(), 1e-6);
    }

    [Fact]
    public void Embedding_lora_is_transposed_product()
    {
        const int vocab = 7;
        using var m = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(2, targets: "\"embed_tokens\""));
        var a = m.Add("base_model.model.model.embed_tokens.lora_embedding_A", R, vocab);
        var b = m.Add("base_model.model.model.embed_tokens.lora_embedding_B", D, R);
        m.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", R, D);
        m.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", D, R);
        var v = m.View();
        var expected = Transpose(Delta(b, a, D, vocab, R, 1.0), D, vocab);
        Close(expected, v.Get(ModelRole.Embedding)!.ReadAll(), 1e-6);
    }

    [Fact]
    public void Adapter_for_another_model_is_refused()
    {
        using var baseModel = new TinyModel().Config("""{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1}""");
        foreach (var p in new[] { "q", "k", "v", "o" }) baseModel.Add($"model.layers.0.self_attn.{p}_proj.weight", D, D);
        using var adapter = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(2));
        adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", R, 16);
        adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", D, R);
        var bc = baseModel.Open();
        var ac = adapter.Open();
        var e = Assert.Throws<InvalidModelFileException>(() => ModelViewBuilder.Build(ac, bc));
        Assert.Contains("wrong base model", e.Message);
        Assert.Throws<InvalidModelFileException>(() => ModelViewBuilder.Build(bc, ac));
    }

    [Fact]
    public void Unpaired_or_mismatched_lora_tensors_are_invalid_files()
    {
        using var m = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(2));
        m.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", R, D);
        m.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", D, R + 1);
        m.Add("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", R, D);
        var c = m.Open();
        var e = Assert.Throws<InvalidModelFileException>(() => ModelViewBuilder.Build(c));
        Assert.Contains("lora", e.Message);
    }

    [Fact]
    public void Inspect_roles_with_base_prints_valid_json_of_the_merged_model()
    {
        using var baseModel = new TinyModel().Config("""{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": 2, "num_hidden_layers": 1}""");
        foreach (var p in new[] { "q", "k", "v", "o" }) baseModel.Add($"model.layers.0.self_attn.{p}_proj.weight", D, D);
        using var adapter = new TinyModel().FileName("adapter_model.safetensors").Config(AdapterConfig(2));
        adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", R, D);
        adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", D, R);
        baseModel.Open();
        adapter.Open();
        var r = CliRunner.Run("inspect", adapter.Folder, "--roles", "--base", baseModel.Folder, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var mv = doc.RootElement.GetProperty("model_view");
        Assert.Equal("llama", mv.GetProperty("architecture").GetString());
        string q = mv.GetProperty("layers")[0].GetProperty("roles").GetProperty("AttnQ").GetProperty("source").GetString()!;
        Assert.Contains("ΔW", q);
        var alone = CliRunner.Run("inspect", adapter.Folder, "--roles");
        Assert.Equal(0, alone.ExitCode);
        Assert.Contains("peft-lora(llama)", alone.Stdout);
    }
}
