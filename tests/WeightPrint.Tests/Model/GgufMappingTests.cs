using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Model;
using static WeightPrint.Tests.Model.TinyModel;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Model;

/// <summary>GGUF names and layouts, on in-memory checkpoints (the builder only needs names, shapes,
/// Checkpoint.Format "gguf" and the metadata; the GGUF reader is tested elsewhere).</summary>
public class GgufMappingTests
{
    private const int D = 8, Heads = 4, Kv = 2, Hd = 2, Ff = 6;

    internal static Checkpoint InMemory(string format, Dictionary<string, object> meta, params (string Name, float[] Values, long[] Shape)[] tensors)
    {
        var bytes = new List<byte>();
        var offsets = new List<long>();
        foreach (var t in tensors)
        {
            offsets.Add(bytes.Count);
            bytes.AddRange(SafetensorsWriter.Encode(TensorDType.F32, t.Values));
        }

        var source = new MemoryByteSource("memory." + format, bytes.ToArray());
        var infos = tensors.Select((t, i) => new TensorInfo(t.Name, TensorDType.F32, t.Shape, source, offsets[i])).ToList();
        return new Checkpoint("memory." + format, format, infos, meta);
    }

    private static float[] Rand(int n, int seed)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)Math.Round(r.NextDouble() * 2 - 1, 3))];
    }

    private static Dictionary<string, object> Meta(string arch) => new()
    {
        ["general.architecture"] = arch,
        [arch + ".embedding_length"] = (uint)D,
        [arch + ".block_count"] = (uint)1,
        [arch + ".attention.head_count"] = (uint)Heads,
        [arch + ".attention.head_count_kv"] = (uint)Kv,
        [arch + ".feed_forward_length"] = (uint)Ff,
    };

    [Fact]
    public void Llama_q_and_k_are_unpermuted_exactly()
    {
        var q = Rand(Heads * Hd * D, 1);
        var k = Rand(Kv * Hd * D, 2);
        using var c = InMemory("gguf", Meta("llama"),
            ("token_embd.weight", Rand(10 * D, 3), [10, D]),
            ("blk.0.attn_q.weight", FamilyMappingTests.LlamaCppPermute(q, Heads, D), [Heads * Hd, D]),
            ("blk.0.attn_k.weight", FamilyMappingTests.LlamaCppPermute(k, Kv, D), [Kv * Hd, D]),
            ("blk.0.attn_v.weight", Rand(Kv * Hd * D, 4), [Kv * Hd, D]),
            ("blk.0.attn_output.weight", Rand(D * D, 5), [D, D]),
            ("blk.0.attn_norm.weight", Rand(D, 6), [D]),
            ("blk.0.ffn_norm.weight", Rand(D, 7), [D]),
            ("blk.0.ffn_gate.weight", Rand(Ff * D, 8), [Ff, D]),
            ("blk.0.ffn_up.weight", Rand(Ff * D, 9), [Ff, D]),
            ("blk.0.ffn_down.weight", Rand(Ff * D, 10), [D, Ff]),
            ("output_norm.weight", Rand(D, 11), [D]),
            ("output.weight", Rand(10 * D, 12), [10, D]));
        var v = ModelViewBuilder.Build(c);
        Assert.Equal("llama", v.Architecture);
        Assert.Equal(new AttentionGeometry(D, Heads, Kv, Hd, Ff, 10), v.Geometry);
        Equal(q, v.Layers[0].Get(TensorRole.AttnQ), Heads * Hd, D);
        Equal(k, v.Layers[0].Get(TensorRole.AttnK), Kv * Hd, D);
        Assert.Empty(v.UnrecognisedTensors);
        Assert.Contains(v.Notes, n => n.Contains("un-permuted", StringComparison.Ordinal));
    }

    [Fact]
    public void Fused_attn_qkv_is_split_and_its_q_k_unpermuted()
    {
        var q = Rand(Heads * Hd * D, 1);
        var k = Rand(Kv * Hd * D, 2);
        var vv = Rand(Kv * Hd * D, 3);
        var fused = Concat(FamilyMappingTests.LlamaCppPermute(q, Heads, D), FamilyMappingTests.LlamaCppPermute(k, Kv, D), vv);
        using var c = InMemory("gguf", Meta("llama"), ("blk.0.attn_qkv.weight", fused, [(Heads + 2 * Kv) * Hd, D]), ("blk.0.attn_output.weight", Rand(D * D, 5), [D, D]));
        var v = ModelViewBuilder.Build(c);
        Equal(q, v.Layers[0].Get(TensorRole.AttnQ), Heads * Hd, D);
        Equal(k, v.Layers[0].Get(TensorRole.AttnK), Kv * Hd, D);
        Equal(vv, v.Layers[0].Get(TensorRole.AttnV), Kv * Hd, D);
    }

    [Fact]
    public void Qwen2_is_not_unpermuted_and_phi3_fused_up_holds_the_gate()
    {
        var q = Rand(Heads * Hd * D, 1);
        using (var c = InMemory("gguf", Meta("qwen2"), ("blk.0.attn_q.weight", q, [Heads * Hd, D]), ("blk.0.attn_q.bias", Rand(Heads * Hd, 2), [Heads * Hd])))
        {
            var v = ModelViewBuilder.Build(c);
            Assert.Equal("qwen2", v.Architecture);
            Equal(q, v.Layers[0].Get(TensorRole.AttnQ), Heads * Hd, D);
            Assert.NotNull(v.Layers[0].GetBias(TensorRole.AttnQ));
        }

        var gate = Rand(Ff * D, 3);
        var up = Rand(Ff * D, 4);
        using (var c = InMemory("gguf", Meta("phi3"), ("blk.0.ffn_up.weight", Concat(gate, up), [2 * Ff, D]), ("blk.0.ffn_down.weight", Rand(D * Ff, 5), [D, Ff])))
        {
            var v = ModelViewBuilder.Build(c);
            Equal(gate, v.Layers[0].Get(TensorRole.MlpGate), Ff, D);
            Equal(up, v.Layers[0].Get(TensorRole.MlpUp), Ff, D);
        }
    }

    [Fact]
    public void Stacked_and_per_index_experts_are_sliced()
    {
        const int e = 3;
        var meta = Meta("qwen2moe");
        meta["qwen2moe.expert_count"] = (uint)e;
        var gateExps = Rand(e * Ff * D, 1);
        var downExps = Rand(e * D * Ff, 2);
        using var c = InMemory("gguf", meta,
            ("blk.0.ffn_gate_inp.weight", Rand(e * D, 3), [e, D]),
            ("blk.0.ffn_gate_exps.weight", gateExps, [e, Ff, D]),
            ("blk.0.ffn_down_exps.weight", downExps, [e, D, Ff]),
            ("blk.0.ffn_up_shexp.weight", Rand(Ff * D, 4), [Ff, D]),
            ("blk.0.ffn_gate_inp_shexp.weight", Rand(D, 5), [1, D]),
            ("blk.1.ffn_gate.2.weight", Rand(Ff * D, 6), [Ff, D]));
        var v = ModelViewBuilder.Build(c);
        var l = v.Layers[0];
        Assert.Equal(e + 1, l.Experts.Count);
        Equal(Rows(gateExps, D, 2 * Ff, Ff), l.Experts.Single(x => x.Index == 2 && !x.IsShared).Get(TensorRole.MlpGate), Ff, D);
        Equal(Rows(downExps, Ff, D, D), l.Experts.Single(x => x.Index == 1 && !x.IsShared).Get(TensorRole.MlpDown), D, Ff);
        Assert.NotNull(l.Experts.Single(x => x.IsShared).Get(TensorRole.MlpUp));
        Assert.NotNull(l.Get(TensorRole.SharedExpertGate));
        Assert.NotNull(v.Layers[1].Experts.Single(x => x.Index == 2).Get(TensorRole.MlpGate));
    }
}
