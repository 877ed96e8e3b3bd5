using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.Gguf;

public class GgufCliTests
{
    private static string WriteModel(TempDir dir)
    {
        string path = dir.File("tiny.gguf");
        var x = Enumerable.Range(0, 2 * 256).Select(i => (float)Math.Sin(i)).ToArray();
        new GgufWriter()
            .Add("general.architecture", GgufValue.Str("llama"))
            .Add("general.name", GgufValue.Str("tiny test model"))
            .Add("llama.block_count", GgufValue.U32(1))
            .Add("llama.attention.layer_norm_rms_epsilon", GgufValue.F32(0.5f))
            .Add("tokenizer.ggml.tokens", GgufValue.Strings("<unk>", "\n<s>\n", "b"))
            .Add("custom.nested", GgufValue.Array(GgufValueType.Array, GgufValue.Ints(1, 2), GgufValue.Ints(3)))
            .AddQuantized("blk.0.attn_q.weight", TensorDType.Q4_K, x, 2, 256)
            .AddF32("blk.0.attn_norm.weight", [1, 1], 2)
            .Write(path);
        return path;
    }

    [Fact]
    public void Inspect_shows_gguf_metadata_tensors_and_vocabulary()
    {
        using var dir = new TempDir();
        string path = WriteModel(dir);
        var r = CliRunner.Run("inspect", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("gguf", r.Stdout);
        Assert.Contains("general.name", r.Stdout);
        Assert.Contains("tiny test model", r.Stdout);
        Assert.Contains("llama.block_count", r.Stdout);
        Assert.Contains("3 tokens", r.Stdout);
        Assert.Contains("blk.0.attn_q.weight", r.Stdout);
        Assert.Contains("Q4_K", r.Stdout);
        Assert.Contains("[2, 256]", r.Stdout);
        Assert.Contains("[<unk>, \\n<s>\\n, b]", r.Stdout); // control characters escaped: one value, one line
        Assert.Contains("[[1, 2], [3]]", r.Stdout);
    }

    [Fact]
    public void Inspect_json_carries_typed_metadata_values()
    {
        using var dir = new TempDir();
        string path = WriteModel(dir);
        var r = CliRunner.Run("inspect", "--json", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("gguf", root.GetProperty("format").GetString());
        var meta = root.GetProperty("metadata");
        Assert.Equal(1, meta.GetProperty("llama.block_count").GetInt64());
        Assert.Equal(0.5, meta.GetProperty("llama.attention.layer_norm_rms_epsilon").GetDouble());
        Assert.Equal("\n<s>\n", meta.GetProperty("tokenizer.ggml.tokens")[1].GetString());
        Assert.Equal(3, meta.GetProperty("custom.nested")[1][0].GetInt64());
        Assert.Equal(3, root.GetProperty("vocabulary_size").GetInt32());
        var q = root.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "blk.0.attn_q.weight");
        Assert.Equal("Q4_K", q.GetProperty("dtype").GetString());
        Assert.Equal(2 * 144, q.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public void Inspect_of_a_hostile_gguf_exits_2_with_one_line()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.gguf");
        File.WriteAllBytes(path, new GgufBytes().Header(1, 0, 0).ToArray());
        var r = CliRunner.Run("inspect", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unsupported GGUF version 1", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [SkippableFact]
    public void Inspect_roles_of_the_shared_gguf_shows_llama_hyperparameters_and_layers()
    {
        string path = SharedModels.Require("derived-stories260K-gguf-q8_0/model-q8_0.gguf");
        var r = CliRunner.Run("inspect", "--roles", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("llama.attention.head_count_kv", r.Stdout);
        Assert.Contains("Q8_0", r.Stdout);
        Assert.Contains("architecture llama: 5 layers, hidden 64, heads 8, kv heads 4, head dim 8, mlp 172, vocab 512", r.Stdout);
        Assert.Contains("RoPE un-permuted", r.Stdout);
    }
}
