using System.Buffers.Binary;
using WeightPrint.Formats;
using WeightPrint.Formats.Llama2c;
using WeightPrint.IO;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats;

public class CheckpointLoaderTests
{
    private static byte[] Tensor(string name, float[] values, out string header)
    {
        header = $$$"""{"{{{name}}}":{"dtype":"F32","shape":[{{{values.Length}}}],"data_offsets":[0,{{{values.Length * 4}}}]}}""";
        return values.SelectMany(BitConverter.GetBytes).ToArray();
    }

    private static void WriteShard(string path, string name, float[] values)
    {
        var data = Tensor(name, values, out string header);
        File.WriteAllBytes(path, SafetensorsReaderTests.Build(header, data));
    }

    private static string Index(params (string Tensor, string Shard)[] map)
        => "{\"metadata\":{},\"weight_map\":{" + string.Join(",", map.Select(m => $"\"{m.Tensor}\":\"{m.Shard.Replace("\\", "\\\\")}\"")) + "}}";

    [Fact]
    public void Sharded_folder_reads_every_shard_and_config()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("s1.safetensors"), "a", [1, 2]);
        WriteShard(dir.File("s2.safetensors"), "b", [3]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), Index(("a", "s1.safetensors"), ("b", "s2.safetensors")));
        File.WriteAllText(dir.File("config.json"), """{"model_type":"llama"}""");
        using var c = CheckpointLoader.Open(dir.Path);
        Assert.Equal("safetensors-sharded", c.Format);
        Assert.Equal(2, c.Files.Count);
        Assert.Equal([3f], TestTensors.ReadAll(c.Find("b")!));
        Assert.Equal("llama", c.Config!.Value.GetProperty("model_type").GetString());
    }

    [Theory]
    [InlineData("../s1.safetensors", "not a plain file name")]
    [InlineData("/etc/passwd", "not a plain file name")]
    [InlineData("sub/s1.safetensors", "not a plain file name")]
    [InlineData("..\\s1.safetensors", "not a plain file name")]
    [InlineData("missing.safetensors", "does not exist")]
    public void Index_entries_outside_the_folder_or_missing_are_rejected(string shard, string expected)
    {
        using var dir = new TempDir();
        WriteShard(dir.File("s1.safetensors"), "a", [1]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), Index(("a", shard)));
        var e = Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.Path));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_tensor_in_the_wrong_shard_or_missing_from_the_index_is_rejected()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("s1.safetensors"), "a", [1]);
        WriteShard(dir.File("s2.safetensors"), "b", [1]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), Index(("b", "s1.safetensors"), ("a", "s2.safetensors")));
        Assert.Contains("places it in", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.Path)).Message);
        File.WriteAllText(dir.File("model.safetensors.index.json"), Index(("a", "s1.safetensors"), ("b", "s2.safetensors"), ("c", "s2.safetensors")));
        Assert.Contains("tensor c is listed in the index but missing", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.Path)).Message);
    }

    [Fact]
    public void Empty_files_wrong_magic_and_empty_folders_fail_clearly()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("empty.bin"), []);
        Assert.Contains("empty", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.File("empty.bin"))).Message);
        File.WriteAllText(dir.File("notes.txt"), "hello world, not a model");
        Assert.Contains("unrecognised format", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.File("notes.txt"))).Message);
        var sub = Directory.CreateDirectory(dir.File("nothing")).FullName;
        Assert.Contains("no weights found", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(sub)).Message);
        File.WriteAllBytes(dir.File("legacy.pt"), [0x80, 0x02, 0x8a, 0x0a]);
        Assert.Contains("legacy torch format", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.File("legacy.pt"))).Message);
    }

    [Fact]
    public void Malformed_config_json_is_a_bad_input_error()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("model.safetensors"), "a", [1]);
        File.WriteAllText(dir.File("config.json"), "{not json");
        Assert.Contains("config.json is not valid JSON", Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(dir.Path)).Message);
    }

    [Fact]
    public void Config_json_with_a_byte_order_mark_is_read()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("model.safetensors"), "a", [1]);
        File.WriteAllBytes(dir.File("config.json"), [0xEF, 0xBB, 0xBF, .. "{\"model_type\":\"llama\"}"u8.ToArray()]);
        using var c = CheckpointLoader.Open(dir.Path);
        Assert.Equal("llama", c.Config!.Value.GetProperty("model_type").GetString());
    }

    /// <summary>Writes a llama2.c v0 file whose every float is its index, so the layout can be checked.</summary>
    private static byte[] Llama2c(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seq, bool shared)
    {
        var h = new Llama2cReader.Header(dim, hidden, layers, heads, kvHeads, vocab, shared, seq);
        long length = Llama2cReader.ExpectedLength(h);
        var file = new byte[length];
        int[] header = [dim, hidden, layers, heads, kvHeads, shared ? vocab : -vocab, seq];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(4 * i), header[i]);
        for (int i = 0; i < (length - 28) / 4; i++) BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(28 + 4 * i), i);
        return file;
    }

    [Fact]
    public void Llama2c_layout_follows_run_c_order_and_unshared_classifier_is_last()
    {
        var file = Llama2c(dim: 8, hidden: 12, layers: 2, heads: 2, kvHeads: 1, vocab: 10, seq: 4, shared: false);
        using var c = Llama2cReader.Open(new MemoryByteSource("m.bin", file));
        // embedding 10×8 = 80 floats, then rms_att 2×8 = 16, then wq starts at 96.
        Assert.Equal(96f, TestTensors.ReadAll(c.Find("model.layers.0.self_attn.q_proj.weight")!)[0]);
        Assert.Equal(96f + 64, TestTensors.ReadAll(c.Find("model.layers.1.self_attn.q_proj.weight")!)[0]);
        Assert.Equal([4L, 8L], c.Find("model.layers.0.self_attn.k_proj.weight")!.Shape);
        var lmHead = c.Find("lm_head.weight")!;
        Assert.Equal((file.Length - 28) / 4 - 80, TestTensors.ReadAll(lmHead)[0]);
        Assert.False((bool)c.Metadata["llama2c.shared_classifier"]);
    }

    [Fact]
    public void Llama2c_with_a_wrong_size_or_implausible_header_is_not_taken_for_one()
    {
        var file = Llama2c(8, 12, 2, 2, 1, 10, 4, shared: true);
        Assert.True(Llama2cReader.LooksLikeLlama2c(new MemoryByteSource("m.bin", file)));
        Assert.False(Llama2cReader.LooksLikeLlama2c(new MemoryByteSource("m.bin", file.AsMemory(0, file.Length - 4))));
        var bad = (byte[])file.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(12), 3); // 3 heads do not divide dim 8
        Assert.False(Llama2cReader.LooksLikeLlama2c(new MemoryByteSource("m.bin", bad)));
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(0), int.MaxValue);
        Assert.False(Llama2cReader.LooksLikeLlama2c(new MemoryByteSource("m.bin", bad)));
    }

    [SkippableFact]
    public void Every_shared_model_reads_or_fails_cleanly()
    {
        string root = SharedModels.Require(".");
        foreach (var folder in Directory.GetDirectories(root))
        {
            foreach (var path in Directory.GetFiles(folder).Append(folder))
            {
                string name = Path.GetFileName(path);
                if (name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith(".md", StringComparison.Ordinal)) continue;
                try
                {
                    using var c = CheckpointLoader.Open(path);
                    Assert.NotEmpty(c.Tensors);
                }
                catch (InvalidModelFileException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                }
            }
        }
    }
}
