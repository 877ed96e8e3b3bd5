using System.Text.Json.Nodes;
using WeightPrint.Tests.Model;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

/// <summary>Issue 14, items 14 and 15: a LoRA adapter is an update; compare merges it onto --base, and says so when it does not.</summary>
public sealed class CompareAdapterTests : IDisposable
{
    private const int D = 8, R = 2;
    private readonly TinyModel _base = new();
    private readonly TinyModel _adapter = new();

    public CompareAdapterTests()
    {
        _base.Config("""{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": 2, "num_hidden_layers": 2}""");
        for (int l = 0; l < 2; l++)
        {
            foreach (var p in new[] { "q", "k", "v", "o" }) _base.Add($"model.layers.{l}.self_attn.{p}_proj.weight", D, D);
        }

        _adapter.FileName("adapter_model.safetensors").Config($$"""{"peft_type": "LORA", "r": {{R}}, "lora_alpha": 2, "target_modules": ["q_proj"], "base_model_name_or_path": "tiny"}""");
        _adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", R, D);
        _adapter.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", D, R);
        _base.Open();
        _adapter.Open();
    }

    public void Dispose()
    {
        _base.Dispose();
        _adapter.Dispose();
    }

    [Fact]
    public void An_adapter_without_base_is_compared_as_an_update_and_the_user_is_told()
    {
        var r = CliRunner.Run("compare", _adapter.Folder, _base.Folder, "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"note: {_adapter.Folder} is a LoRA adapter, an update (ΔW) rather than a model", r.Stderr);
    }

    [Fact]
    public void With_base_the_adapter_is_merged_onto_it_before_comparing()
    {
        var r = CliRunner.Run("compare", _adapter.Folder, _base.Folder, "--base", _base.Folder, "--methods", "pdf", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.DoesNotContain("is a LoRA adapter", r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal($"{_adapter.Folder} + {_base.Folder}", (string)json["models"]![0]!["path"]!);
        Assert.Equal("llama", (string)json["models"]![0]!["architecture"]!);
        Assert.Equal(2, (int)json["models"]![0]!["layers"]!);
    }

    [Fact]
    public void Base_without_any_adapter_is_a_usage_error()
    {
        var r = CliRunner.Run("compare", _base.Folder, _base.Folder, "--base", _base.Folder, "--methods", "pdf");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("none of the inputs is a LoRA adapter", r.Stderr);
    }

    [Fact]
    public void Inspect_with_base_and_without_roles_shows_the_merged_view()
    {
        var r = CliRunner.Run("inspect", _adapter.Folder, "--base", _base.Folder, "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("ΔW", JsonNode.Parse(r.Stdout)!["model_view"]!["layers"]![0]!["roles"]!["AttnQ"]!["source"]!.ToString());
    }
}
