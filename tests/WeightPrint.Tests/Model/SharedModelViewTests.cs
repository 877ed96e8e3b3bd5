using System.Buffers.Binary;
using System.Text;
using WeightPrint.Formats;
using WeightPrint.Formats.Peft;
using WeightPrint.IO;
using WeightPrint.Model;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Model;

/// <summary>Model views of the real small checkpoints in shared/models.</summary>
public class SharedModelViewTests
{
    private static readonly TensorRole[] Attention = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO];

    [SkippableTheory]
    [InlineData("derived-stories260K-hf-f32")]
    [InlineData("derived-stories260K-hf-sharded")]
    [InlineData("derived-stories260K-hf-bf16")]
    public void Stories260K_containers_give_identical_canonical_attention(string folder)
    {
        using var l2c = CheckpointLoader.Open(SharedModels.Require("l2c-stories260K/stories260K.bin"));
        using var other = CheckpointLoader.Open(SharedModels.Require(folder));
        var reference = ModelViewBuilder.Build(l2c);
        var view = ModelViewBuilder.Build(other);
        Assert.Equal("llama", reference.Architecture);
        Assert.Equal("llama", view.Architecture);
        Assert.Equal(5, view.Layers.Count);
        Assert.Equal(reference.Geometry with { }, view.Geometry with { });
        bool bf16 = folder.EndsWith("bf16", StringComparison.Ordinal);
        for (int i = 0; i < 5; i++)
        {
            foreach (var role in Attention.Append(TensorRole.MlpGate).Append(TensorRole.MlpDown))
            {
                var expected = reference.Layers[i].Get(role)!.ReadAll();
                if (bf16) expected = [.. expected.Select(SafetensorsWriter.RoundToBf16)];
                Assert.Equal(expected, view.Layers[i].Get(role)!.ReadAll());
            }
        }
    }

    [SkippableFact]
    public void Stories260K_gguf_f32_unpermutes_to_the_llama2c_weights()
    {
        string path = SharedModels.Require("derived-stories260K-gguf-f32/model-f32.gguf");
        using var l2c = CheckpointLoader.Open(SharedModels.Require("l2c-stories260K/stories260K.bin"));
        using var gguf = MiniGguf.Open(path);
        var reference = ModelViewBuilder.Build(l2c);
        var view = ModelViewBuilder.Build(gguf);
        Assert.Equal("llama", view.Architecture);
        Assert.Equal(reference.Geometry, view.Geometry);
        Assert.Empty(view.UnrecognisedTensors);
        for (int i = 0; i < 5; i++)
        {
            foreach (var role in Attention.Append(TensorRole.MlpUp))
                Assert.Equal(reference.Layers[i].Get(role)!.ReadAll(), view.Layers[i].Get(role)!.ReadAll());
        }
    }

    [SkippableTheory]
    [InlineData("lora-bert-base-haresh", "peft-lora(bert)", 12, "AttnQ,AttnV", "")]
    [InlineData("lora-distilbert-imdb-tashu", "peft-lora(distilbert)", 6, "AttnQ,AttnV", "")]
    [InlineData("lora-gemma3-270m-0112ly-ckpt55", "peft-lora(llama)", 18, "AttnQ,AttnV", "")]
    [InlineData("lora-gemma3-270m-0112ly-v1", "peft-lora(llama)", 18, "AttnQ,AttnV", "")]
    [InlineData("lora-gemma3-270m-aowei-final", "peft-lora(llama)", 18, "AttnQ,AttnK,AttnV,AttnO", "")]
    [InlineData("lora-gemma3-270m-aowei-seed123", "peft-lora(llama)", 18, "AttnQ,AttnK,AttnV,AttnO", "")]
    [InlineData("lora-gemma3-270m-aowei-stage1", "peft-lora(llama)", 18, "AttnQ,AttnK,AttnV,AttnO", "")]
    [InlineData("lora-gpt2-chessgpt", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV", "")]
    [InlineData("lora-gpt2-chessgpt-penalized", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV", "")]
    [InlineData("lora-gpt2-tigrinya-v1", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV,AttnO,MlpDown", "")]
    [InlineData("lora-gpt2-tigrinya-v2", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV,AttnO,MlpDown", "")]
    [InlineData("lora-gpt2-udacity-anirudh", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV", "")]
    [InlineData("lora-gpt2-udacity-stathopoan", "peft-lora(gpt2)", 12, "AttnQ,AttnK,AttnV", "")]
    [InlineData("lora-qwen2.5-0.5b-instruct-muzammel", "peft-lora(llama)", 24, "AttnQ,AttnV", "")]
    [InlineData("lora-t5-small-rajpreet", "peft-lora(t5)", 12, "AttnQ,AttnV", "AttnQ,AttnV,CrossQ,CrossV")]
    public void Real_lora_adapters_describe_their_updates(string folder, string arch, int layers, string roles, string decoderRoles)
    {
        using var c = CheckpointLoader.Open(SharedModels.Require(folder));
        var view = ModelViewBuilder.Build(c);
        Assert.Equal(arch, view.Architecture);
        Assert.Equal(layers, view.Layers.Count);
        Assert.Empty(view.UnrecognisedTensors);
        foreach (var l in view.Layers)
        {
            string expected = l.Stack == "decoder" && decoderRoles.Length > 0 ? decoderRoles : roles;
            Assert.Equal(expected, string.Join(",", l.Tensors.Keys.Order()));
            Assert.All(l.Tensors.Values, t => Assert.IsAssignableFrom<TensorView>(t));
        }

        // Every update is finite and of the module's shape; spot-check one against B·A.
        var first = view.Layers[0].Get(TensorRole.AttnQ)!;
        var m = first.ComputeMoments();
        Assert.Equal(first.ElementCount, m.Count);
        var adapter = PeftAdapter.Read(c);
        var module = adapter.Modules.First(x => x.Module.EndsWith(folder.Contains("gpt2") ? ".0.attn.c_attn" : folder.Contains("-t5-") ? "encoder.block.0.layer.0.SelfAttention.q" : ".0." + (folder.Contains("bert-base") ? "attention.self.query" : folder.Contains("distil") ? "attention.q_lin" : "self_attn.q_proj"), StringComparison.Ordinal));
        var a = TestTensors.ReadAll(module.A);
        var b = TestTensors.ReadAll(module.B);
        int r = module.Rank, inF = (int)module.A.Shape[1];
        var row0 = new float[first.Columns];
        first.ReadRows(0, 1, row0);
        for (int j = 0; j < inF; j += 37)
        {
            double s = 0;
            for (int k = 0; k < r; k++) s += (double)b[k] * a[k * inF + j];
            Assert.Equal(module.Scale * s, row0[j], 5);
        }

        if (folder.Contains("gpt2")) Assert.Equal(768, first.Rows);
        if (folder == "lora-t5-small-rajpreet") Assert.Contains(view.Notes, n => n.Contains("no adapter_config.json", StringComparison.Ordinal));
    }

    /// <summary>A minimal F32-only GGUF v3 reader for this test (the real reader lives in Formats/Gguf).</summary>
    private static class MiniGguf
    {
        public static Checkpoint Open(string path)
        {
            var bytes = File.ReadAllBytes(path);
            int pos = 0;
            uint U32() { uint v = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos)); pos += 4; return v; }
            ulong U64() { ulong v = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(pos)); pos += 8; return v; }
            string Str() { int n = (int)U64(); string s = Encoding.UTF8.GetString(bytes, pos, n); pos += n; return s; }
            object Value(uint type)
            {
                switch (type)
                {
                    case 0: case 1: case 7: pos += 1; return (long)bytes[pos - 1];
                    case 2: case 3: pos += 2; return (long)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(pos - 2));
                    case 4: return (long)U32();
                    case 5: return (long)(int)U32();
                    case 6: pos += 4; return (double)BitConverter.ToSingle(bytes, pos - 4);
                    case 8: return Str();
                    case 9:
                        uint at = U32();
                        ulong n = U64();
                        var arr = new object[n];
                        for (ulong i = 0; i < n; i++) arr[i] = Value(at);
                        return arr;
                    case 10: case 11: return (long)U64();
                    case 12: pos += 8; return BitConverter.ToDouble(bytes, pos - 8);
                    default: throw new InvalidDataException($"GGUF type {type}");
                }
            }

            Assert.Equal(0x46554747u, U32());
            U32();
            ulong tensors = U64(), kvs = U64();
            var meta = new Dictionary<string, object>();
            for (ulong i = 0; i < kvs; i++)
            {
                string key = Str();
                meta[key] = Value(U32());
            }

            var infos = new List<(string Name, long[] Shape, ulong Offset)>();
            for (ulong i = 0; i < tensors; i++)
            {
                string name = Str();
                uint nd = U32();
                var ne = new long[nd];
                for (int d = 0; d < nd; d++) ne[d] = (long)U64();
                Assert.Equal(0u, U32()); // F32
                infos.Add((name, [.. ne.Reverse()], U64()));
            }

            long align = meta.TryGetValue("general.alignment", out var al) ? (long)al : 32;
            long dataStart = (pos + align - 1) / align * align;
            var source = new MemoryByteSource(path, bytes);
            var list = infos.Select(t => new TensorInfo(t.Name, TensorDType.F32, t.Shape, source, dataStart + (long)t.Offset)).ToList();
            return new Checkpoint(path, "gguf", list, meta);
        }
    }
}
