using System.IO.Compression;
using WeightPrint.Formats;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.PyTorch;

/// <summary>Real torch.save files from shared/models (skipped when absent).</summary>
public class TorchSharedModelTests
{
    /// <summary>
    /// Checks every tensor against the storage bytes that System.IO.Compression's independent zip reader
    /// returns: each tensor of these state dicts owns a whole storage (or shares one with a tied tensor).
    /// </summary>
    private static void AssertTensorsMatchZipEntries(string path, Checkpoint c)
    {
        using var zip = ZipFile.OpenRead(path);
        var storages = zip.Entries.Where(e => e.FullName.Contains("/data/", StringComparison.Ordinal)).Select(e =>
        {
            using var s = e.Open();
            var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        }).ToList();
        foreach (var t in c.Tensors)
        {
            Assert.True(t.IsContiguous, t.Name);
            var bytes = new byte[t.ByteLength];
            t.Source.Read(t.DataOffset, bytes);
            Assert.True(storages.Any(s => s.AsSpan().SequenceEqual(bytes)), $"{t.Name}: bytes match no zip entry");
            var floats = TestTensors.ReadAll(t);
            Assert.All(floats, f => Assert.True(float.IsFinite(f)));
        }
    }

    [SkippableFact]
    public void Tinypellm_pytorch_model_bin_folder_reads()
    {
        string folder = SharedModels.Require("tinypellm-herutriana");
        using var c = CheckpointLoader.Open(folder);
        Assert.Equal("torch", c.Format);
        Assert.NotNull(c.Config);
        var embed = c.Find("model.embed_tokens.weight")!;
        Assert.Equal(TensorDType.F32, embed.DType);
        Assert.Equal([3000L, 128L], embed.Shape);
        Assert.Equal(24, c.Tensors.Count);
        Assert.Contains(TestTensors.ReadAll(embed), f => f != 0);
        AssertTensorsMatchZipEntries(Path.Combine(folder, "pytorch_model.bin"), c);
    }

    [SkippableFact]
    public void Tinypellm_model_pt_reads()
    {
        string path = SharedModels.Require("tinypellm-herutriana/tinypellm_model.pt");
        using var c = CheckpointLoader.Open(path);
        Assert.Equal("torch", c.Format);
        Assert.Equal([3000L, 128L], c.Find("token_embedding.weight")!.Shape);
        Assert.Equal(36, c.Tensors.Count);
        AssertTensorsMatchZipEntries(path, c);
    }

    [SkippableFact]
    public void Llama2c_ckpt_pt_model_tensors_equal_the_exported_model_bin()
    {
        string ckptPath = SharedModels.Require("l2c-llama2xs-saltyduckegg/ckpt.pt");
        using var ckpt = CheckpointLoader.Open(ckptPath);
        using var bin = CheckpointLoader.Open(SharedModels.Require("l2c-llama2xs-saltyduckegg/model.bin"));
        Assert.Equal("llama2c", bin.Format);
        AssertTensorsMatchZipEntries(ckptPath, ckpt);

        // Hyper-parameters pickled in ckpt.pt agree with the llama2.c header.
        Assert.Equal(bin.Metadata["llama2c.dim"], ckpt.Metadata["model_args.dim"]);
        Assert.Equal(bin.Metadata["llama2c.n_layers"], ckpt.Metadata["model_args.n_layers"]);
        Assert.Equal(bin.Metadata["llama2c.n_heads"], ckpt.Metadata["model_args.n_heads"]);
        Assert.Equal(bin.Metadata["llama2c.n_kv_heads"], ckpt.Metadata["model_args.n_kv_heads"]);
        Assert.Equal(bin.Metadata["llama2c.vocab_size"], ckpt.Metadata["model_args.vocab_size"]);
        Assert.Equal(bin.Metadata["llama2c.seq_len"], ckpt.Metadata["model_args.max_seq_len"]);

        var pairs = new List<(string Ckpt, string Bin)>
        {
            ("model.tok_embeddings.weight", "model.embed_tokens.weight"),
            ("model.norm.weight", "model.norm.weight"),
        };
        int layers = (int)(long)ckpt.Metadata["model_args.n_layers"];
        for (int l = 0; l < layers; l++)
        {
            string c = $"model.layers.{l}.", b = $"model.layers.{l}.";
            pairs.Add((c + "attention.wq.weight", b + "self_attn.q_proj.weight"));
            pairs.Add((c + "attention.wk.weight", b + "self_attn.k_proj.weight"));
            pairs.Add((c + "attention.wv.weight", b + "self_attn.v_proj.weight"));
            pairs.Add((c + "attention.wo.weight", b + "self_attn.o_proj.weight"));
            pairs.Add((c + "feed_forward.w1.weight", b + "mlp.gate_proj.weight"));
            pairs.Add((c + "feed_forward.w2.weight", b + "mlp.down_proj.weight"));
            pairs.Add((c + "feed_forward.w3.weight", b + "mlp.up_proj.weight"));
            pairs.Add((c + "attention_norm.weight", b + "input_layernorm.weight"));
            pairs.Add((c + "ffn_norm.weight", b + "post_attention_layernorm.weight"));
        }

        foreach (var (c, b) in pairs)
        {
            var tc = ckpt.Find(c) ?? throw new Xunit.Sdk.XunitException($"ckpt.pt has no {c}");
            var tb = bin.Find(b) ?? throw new Xunit.Sdk.XunitException($"model.bin has no {b}");
            Assert.Equal(tb.Shape, tc.Shape);
            Assert.True(TestTensors.ReadAll(tb).AsSpan().SequenceEqual(TestTensors.ReadAll(tc)), $"{c} differs from {b}");
        }

        // llama2.c ties the classifier to the embedding: the state dict holds both names on one storage.
        var output = ckpt.Find("model.output.weight")!;
        Assert.Equal(ckpt.Find("model.tok_embeddings.weight")!.DataOffset, output.DataOffset);
        Assert.Equal(true, bin.Metadata["llama2c.shared_classifier"]);

        // The optimizer state is flattened too; its moments have the parameters' shapes.
        Assert.Equal([512L, 64L], ckpt.Find("optimizer.state.0.exp_avg")!.Shape);
        Assert.Equal(500L, ckpt.Metadata["iter_num"]);
    }
}
