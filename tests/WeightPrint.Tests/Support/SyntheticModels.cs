using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.Formats.Safetensors;
using WeightPrint.IO;
using WeightPrint.Model;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Support;

/// <summary>One MLP (dense or one MoE expert): gate and up [ff, d], down [d, ff].</summary>
public sealed class SyntheticMlp
{
    public required float[] Gate { get; set; }

    public required float[] Up { get; set; }

    public required float[] Down { get; set; }

    public required int Intermediate { get; set; }

    public SyntheticMlp Clone() => new() { Gate = (float[])Gate.Clone(), Up = (float[])Up.Clone(), Down = (float[])Down.Clone(), Intermediate = Intermediate };
}

/// <summary>One Llama block in Hugging Face orientation: Q [H·hd, d], K and V [G·hd, d], O [d, H·hd], norms [d].</summary>
public sealed class SyntheticLayer
{
    public required float[] Q { get; set; }

    public required float[] K { get; set; }

    public required float[] V { get; set; }

    public required float[] O { get; set; }

    public required float[] AttnNorm { get; set; }

    public required float[] MlpNorm { get; set; }

    /// <summary>The dense MLP; null for an MoE block.</summary>
    public SyntheticMlp? Mlp { get; set; }

    /// <summary>MoE experts (empty for a dense block) and the router [experts, d].</summary>
    public List<SyntheticMlp> Experts { get; set; } = [];

    public float[]? Router { get; set; }

    public SyntheticLayer Clone() => new()
    {
        Q = (float[])Q.Clone(), K = (float[])K.Clone(), V = (float[])V.Clone(), O = (float[])O.Clone(),
        AttnNorm = (float[])AttnNorm.Clone(), MlpNorm = (float[])MlpNorm.Clone(), Mlp = Mlp?.Clone(),
        Experts = Experts.Select(e => e.Clone()).ToList(), Router = (float[]?)Router?.Clone(),
    };
}

/// <summary>A small Llama-shaped model held in memory, written to safetensors bytes on demand.</summary>
internal sealed class SyntheticModel
{
    public required int Hidden { get; init; }

    public required int Heads { get; init; }

    public required int KvHeads { get; init; }

    public required int HeadDim { get; init; }

    public required int VocabSize { get; init; }

    public required float[] Embedding { get; set; }

    public required float[] LmHead { get; set; }

    public required float[] FinalNorm { get; set; }

    public required List<SyntheticLayer> Layers { get; set; }

    /// <summary>Token strings by id (attached as <see cref="Checkpoint.Vocabulary"/>); null for none.</summary>
    public string[]? Vocabulary { get; set; }

    /// <summary>False writes MLPs without gate_proj (a GELU-style MLP: up and down only).</summary>
    public bool GatedMlp { get; set; } = true;

    public int Intermediate => Layers[0].Mlp?.Intermediate ?? Layers[0].Experts[0].Intermediate;

    public SyntheticModel Clone() => new()
    {
        Hidden = Hidden, Heads = Heads, KvHeads = KvHeads, HeadDim = HeadDim, VocabSize = VocabSize,
        Embedding = (float[])Embedding.Clone(), LmHead = (float[])LmHead.Clone(), FinalNorm = (float[])FinalNorm.Clone(),
        Layers = Layers.Select(l => l.Clone()).ToList(), Vocabulary = (string[]?)Vocabulary?.Clone(), GatedMlp = GatedMlp,
    };

    /// <summary>Writes the model as a safetensors file in memory (dtype "F32" or "BF16"), reads it back with the
    /// project's reader and builds its <see cref="ModelView"/>. MoE experts (which the view builder does not map)
    /// are attached to the layers from the checkpoint's own tensors.</summary>
    public ModelView ToView(string dtype = "F32", string name = "synthetic")
    {
        var tensors = new List<(string Name, long[] Shape, float[] Data)>
        {
            ("model.embed_tokens.weight", [VocabSize, Hidden], Embedding),
            ("lm_head.weight", [VocabSize, Hidden], LmHead),
            ("model.norm.weight", [Hidden], FinalNorm),
        };
        int qRows = Heads * HeadDim, kvRows = KvHeads * HeadDim;
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            string p = $"model.layers.{i}.";
            tensors.Add((p + "self_attn.q_proj.weight", [qRows, Hidden], l.Q));
            tensors.Add((p + "self_attn.k_proj.weight", [kvRows, Hidden], l.K));
            tensors.Add((p + "self_attn.v_proj.weight", [kvRows, Hidden], l.V));
            tensors.Add((p + "self_attn.o_proj.weight", [Hidden, qRows], l.O));
            tensors.Add((p + "input_layernorm.weight", [Hidden], l.AttnNorm));
            tensors.Add((p + "post_attention_layernorm.weight", [Hidden], l.MlpNorm));
            if (l.Mlp is { } m)
            {
                if (GatedMlp) tensors.Add((p + "mlp.gate_proj.weight", [m.Intermediate, Hidden], m.Gate));
                tensors.Add((p + "mlp.up_proj.weight", [m.Intermediate, Hidden], m.Up));
                tensors.Add((p + "mlp.down_proj.weight", [Hidden, m.Intermediate], m.Down));
            }

            for (int e = 0; e < l.Experts.Count; e++)
            {
                var x = l.Experts[e];
                string q = $"{p}block_sparse_moe.experts.{e}.";
                tensors.Add((q + "w1.weight", [x.Intermediate, Hidden], x.Gate));
                tensors.Add((q + "w3.weight", [x.Intermediate, Hidden], x.Up));
                tensors.Add((q + "w2.weight", [Hidden, x.Intermediate], x.Down));
            }

            if (l.Router != null) tensors.Add((p + "block_sparse_moe.gate.weight", [l.Experts.Count, Hidden], l.Router));
        }

        var bytes = SafetensorsBytes(tensors, dtype);
        var checkpoint = SafetensorsReader.Open(new MemoryByteSource(name, bytes), name);
        bool moe = Layers.Any(l => l.Experts.Count > 0);
        string config = $$"""
            {"model_type": "{{(moe ? "mixtral" : "llama")}}", "hidden_size": {{Hidden}}, "num_attention_heads": {{Heads}},
             "num_key_value_heads": {{KvHeads}}, "intermediate_size": {{Intermediate}}, "vocab_size": {{VocabSize}},
             "num_hidden_layers": {{Layers.Count}}, "head_dim": {{HeadDim}}}
            """;
        using (var doc = JsonDocument.Parse(config)) checkpoint.Config = doc.RootElement.Clone();
        checkpoint.Vocabulary = Vocabulary;
        var view = ModelViewBuilder.Build(checkpoint);
        if (!moe) return view;

        var layers = new List<LayerView>();
        foreach (var lv in view.Layers)
        {
            var experts = new List<ExpertView>();
            for (int e = 0; e < Layers[lv.Index].Experts.Count; e++)
            {
                string q = $"model.layers.{lv.Index}.block_sparse_moe.experts.{e}.";
                experts.Add(new ExpertView(e, false, new Dictionary<TensorRole, TensorView>
                {
                    [TensorRole.MlpGate] = new StoredTensorView(checkpoint.Find(q + "w1.weight")!),
                    [TensorRole.MlpUp] = new StoredTensorView(checkpoint.Find(q + "w3.weight")!),
                    [TensorRole.MlpDown] = new StoredTensorView(checkpoint.Find(q + "w2.weight")!),
                }));
            }

            var t = new Dictionary<TensorRole, TensorView>(lv.Tensors);
            if (Layers[lv.Index].Router != null)
                t[TensorRole.Router] = new StoredTensorView(checkpoint.Find($"model.layers.{lv.Index}.block_sparse_moe.gate.weight")!);
            layers.Add(new LayerView(lv.Index, lv.Stack, t, experts));
        }

        int experts0 = Layers[0].Experts.Count;
        var g = view.Geometry with { Experts = experts0, ExpertsPerToken = Math.Min(2, experts0) };
        var recognised = layers.SelectMany(l => l.Experts.SelectMany(e => e.Tensors.Values).Concat(l.Tensors.Values))
            .SelectMany(t => t.Sources).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return new ModelView(checkpoint, "mixtral", g, layers, view.ModelTensors,
            view.UnrecognisedTensors.Where(n => !recognised.Contains(n)).ToList(), view.Notes);
    }

    /// <summary>
    /// Writes the model as a llama.cpp-style GGUF in memory — Q and K rows in llama.cpp's interleaved RoPE order,
    /// matrices quantised to <paramref name="quantisation"/> with the project's test quantiser (matrices whose rows
    /// are not a whole number of blocks stay F32, as llama.cpp keeps them in a float type), vocabulary as
    /// tokenizer.ggml.tokens — and reads it back through the GGUF reader, dequantiser and view builder.
    /// </summary>
    public ModelView ToGgufView(TensorDType quantisation = TensorDType.Q8_0, string name = "synthetic.gguf")
    {
        if (Layers.Any(l => l.Experts.Count > 0)) throw new NotSupportedException("GGUF export of MoE synthetic models is not implemented");
        var w = new GgufWriter()
            .Add("general.architecture", GgufValue.Str("llama"))
            .Add("llama.embedding_length", GgufValue.U32((uint)Hidden))
            .Add("llama.block_count", GgufValue.U32((uint)Layers.Count))
            .Add("llama.attention.head_count", GgufValue.U32((uint)Heads))
            .Add("llama.attention.head_count_kv", GgufValue.U32((uint)KvHeads))
            .Add("llama.feed_forward_length", GgufValue.U32((uint)Intermediate));
        if (Vocabulary != null) w.Add("tokenizer.ggml.tokens", GgufValue.Strings(Vocabulary));
        void Matrix(string tensor, float[] values, long rows, long cols)
        {
            if (cols % quantisation.BlockElements() == 0) w.AddQuantized(tensor, quantisation, values, rows, cols);
            else w.AddF32(tensor, values, rows, cols);
        }

        Matrix("token_embd.weight", Embedding, VocabSize, Hidden);
        Matrix("output.weight", LmHead, VocabSize, Hidden);
        w.AddF32("output_norm.weight", FinalNorm, Hidden);
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            string p = $"blk.{i}.";
            Matrix(p + "attn_q.weight", LlamaCppRopeOrder(l.Q, Heads, Hidden), Heads * HeadDim, Hidden);
            Matrix(p + "attn_k.weight", LlamaCppRopeOrder(l.K, KvHeads, Hidden), KvHeads * HeadDim, Hidden);
            Matrix(p + "attn_v.weight", l.V, KvHeads * HeadDim, Hidden);
            Matrix(p + "attn_output.weight", l.O, Hidden, Heads * HeadDim);
            w.AddF32(p + "attn_norm.weight", l.AttnNorm, Hidden);
            w.AddF32(p + "ffn_norm.weight", l.MlpNorm, Hidden);
            var m = l.Mlp!;
            if (GatedMlp) Matrix(p + "ffn_gate.weight", m.Gate, m.Intermediate, Hidden);
            Matrix(p + "ffn_up.weight", m.Up, m.Intermediate, Hidden);
            Matrix(p + "ffn_down.weight", m.Down, Hidden, m.Intermediate);
        }

        var checkpoint = GgufReader.Open(new MemoryByteSource(name, w.ToArray()), name);
        return ModelViewBuilder.Build(checkpoint);
    }

    /// <summary>Hugging Face (rotate-half) row order → llama.cpp's interleaved order, per head: interleaved row
    /// 2i + j of a head is rotate-half row j·hd/2 + i.</summary>
    private static float[] LlamaCppRopeOrder(float[] hf, int heads, int cols)
    {
        int hd = hf.Length / cols / heads;
        var o = new float[hf.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int j = 0; j < 2; j++)
            {
                for (int i = 0; i < hd / 2; i++) Array.Copy(hf, (h * hd + j * hd / 2 + i) * cols, o, (h * hd + 2 * i + j) * cols, cols);
            }
        }

        return o;
    }

    private static byte[] SafetensorsBytes(List<(string Name, long[] Shape, float[] Data)> tensors, string dtype)
    {
        int size = dtype switch { "F32" => 4, "BF16" => 2, _ => throw new ArgumentException("dtype must be F32 or BF16", nameof(dtype)) };
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, shape, data) in tensors)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (count != data.Length) throw new InvalidOperationException($"{name}: shape [{string.Join(",", shape)}] does not match {data.Length} values");
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + count * size}]}}");
            offset += count * size;
        }

        header.Append('}');
        while ((header.Length + 8) % 8 != 0) header.Append(' ');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var bytes = new byte[8 + headerBytes.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        long pos = 8 + headerBytes.Length;
        foreach (var (_, _, data) in tensors)
        {
            foreach (float v in data)
            {
                if (size == 4) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)pos), v);
                else BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)pos), ToBf16(v));
                pos += size;
            }
        }

        return bytes;
    }

    /// <summary>Round-to-nearest-even float → bf16 bits.</summary>
    public static ushort ToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return 0x7FC0;
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}

/// <summary>
/// Generates tiny Llama-shaped models and the derived variants the methods must see through: function-preserving
/// permutations (MLP neurons, heads, residual dimensions), per-layer Q/K and V/O rescaling, a residual rotation
/// with the RMSNorm gains folded in, Gaussian noise, a LoRA-style low-rank update, BF16 and simulated Q8_0 round
/// trips, layer removal, MLP neuron pruning and MoE upcycling.
/// </summary>
internal static class SyntheticModels
{
    /// <summary>A freshly initialised model: Gaussian weights (std 0.02, like Hugging Face's Llama init), RMSNorm
    /// gains drawn around 1 (log-normal, σ = 0.3, as trained gains spread) and a synthetic vocabulary.</summary>
    public static SyntheticModel Generate(int seed, int layers = 4, int hidden = 64, int heads = 8, int kvHeads = 4, int intermediate = 172,
        int vocab = 256, bool withVocabulary = true)
    {
        var rnd = new Random(Scramble(seed));
        int hd = hidden / heads;
        float[] M(int rows, int cols, double std = 0.02) => Gaussian(rnd, rows * cols, std);
        float[] Gains(int n) => Enumerable.Range(0, n).Select(_ => (float)Math.Exp(0.3 * NextGaussian(rnd))).ToArray();
        var model = new SyntheticModel
        {
            Hidden = hidden, Heads = heads, KvHeads = kvHeads, HeadDim = hd, VocabSize = vocab,
            Embedding = M(vocab, hidden), LmHead = M(vocab, hidden), FinalNorm = Gains(hidden),
            Layers = Enumerable.Range(0, layers).Select(_ => new SyntheticLayer
            {
                Q = M(heads * hd, hidden), K = M(kvHeads * hd, hidden), V = M(kvHeads * hd, hidden), O = M(hidden, heads * hd),
                AttnNorm = Gains(hidden), MlpNorm = Gains(hidden),
                Mlp = new SyntheticMlp { Gate = M(intermediate, hidden), Up = M(intermediate, hidden), Down = M(hidden, intermediate), Intermediate = intermediate },
            }).ToList(),
        };
        if (withVocabulary) model.Vocabulary = SyntheticVocabulary(vocab);
        return model;
    }

    /// <summary>Distinct token strings: the same list for every model of the same size (a shared tokenizer).</summary>
    public static string[] SyntheticVocabulary(int size)
    {
        string[] syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "el", "an", "or", "is", "ut", "em", "av", "id"];
        return Enumerable.Range(0, size).Select(i =>
        {
            var sb = new StringBuilder(i % 3 == 0 ? "▁" : "");
            int x = i;
            do
            {
                sb.Append(syllables[x % 16]);
                x /= 16;
            }
            while (x > 0);
            return sb.ToString();
        }).ToArray();
    }

    /// <summary>Permutes every MLP's neurons (gate/up rows and down columns together): the function is unchanged.</summary>
    public static SyntheticModel PermuteNeurons(SyntheticModel m, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var l in r.Layers)
        {
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                var p = Permutation(mlp.Intermediate, rnd);
                mlp.Gate = PermuteRows(mlp.Gate, m.Hidden, p);
                mlp.Up = PermuteRows(mlp.Up, m.Hidden, p);
                mlp.Down = PermuteColumns(mlp.Down, mlp.Intermediate, p);
            }
        }

        return r;
    }

    /// <summary>Permutes attention heads: KV groups, and query heads within each group, moving Q/K/V row blocks and
    /// O column blocks together (the function is unchanged).</summary>
    public static SyntheticModel PermuteHeads(SyntheticModel m, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        int hd = m.HeadDim, rep = m.Heads / m.KvHeads;
        foreach (var l in r.Layers)
        {
            var groups = Permutation(m.KvHeads, rnd);
            var qHeads = new int[m.Heads];
            for (int g = 0; g < m.KvHeads; g++)
            {
                var within = Permutation(rep, rnd);
                for (int j = 0; j < rep; j++) qHeads[g * rep + j] = groups[g] * rep + within[j];
            }

            var qRows = Expand(qHeads, hd);
            var kvRows = Expand(groups, hd);
            l.Q = PermuteRows(l.Q, m.Hidden, qRows);
            l.K = PermuteRows(l.K, m.Hidden, kvRows);
            l.V = PermuteRows(l.V, m.Hidden, kvRows);
            l.O = PermuteColumns(l.O, m.Heads * hd, qRows);
        }

        return r;
    }

    /// <summary>Permutes the residual stream's dimensions everywhere (readers' columns, writers' rows, embeddings
    /// and norm gains): the function is unchanged.</summary>
    public static SyntheticModel PermuteResidual(SyntheticModel m, int seed)
    {
        var r = m.Clone();
        var p = Permutation(m.Hidden, new Random(seed));
        int d = m.Hidden;
        r.Embedding = PermuteColumns(r.Embedding, d, p);
        r.LmHead = PermuteColumns(r.LmHead, d, p);
        r.FinalNorm = PermuteVector(r.FinalNorm, p);
        foreach (var l in r.Layers)
        {
            l.Q = PermuteColumns(l.Q, d, p);
            l.K = PermuteColumns(l.K, d, p);
            l.V = PermuteColumns(l.V, d, p);
            l.O = PermuteRows(l.O, m.Heads * m.HeadDim, p);
            l.AttnNorm = PermuteVector(l.AttnNorm, p);
            l.MlpNorm = PermuteVector(l.MlpNorm, p);
            if (l.Router != null) l.Router = PermuteColumns(l.Router, d, p);
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                mlp.Gate = PermuteColumns(mlp.Gate, d, p);
                mlp.Up = PermuteColumns(mlp.Up, d, p);
                mlp.Down = PermuteRows(mlp.Down, mlp.Intermediate, p);
            }
        }

        return r;
    }

    /// <summary>Per layer: Q ← αQ, K ← K/α and V ← βV, O ← O/β with α, β log-uniform in [1/4, 4] (attention
    /// scores and outputs are unchanged).</summary>
    public static SyntheticModel RescaleAttention(SyntheticModel m, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var l in r.Layers)
        {
            float a = (float)Math.Pow(4, rnd.NextDouble() * 2 - 1), b = (float)Math.Pow(4, rnd.NextDouble() * 2 - 1);
            Scale(l.Q, a);
            Scale(l.K, 1 / a);
            Scale(l.V, b);
            Scale(l.O, 1 / b);
        }

        return r;
    }

    /// <summary>Folds every RMSNorm gain into the matrices that read the normalised stream, then rotates the residual
    /// stream by a random orthogonal R (readers W ← W Rᵀ, writers W ← R W, embeddings e ← R e): the function is
    /// unchanged because RMSNorm with unit gain commutes with rotations.</summary>
    public static SyntheticModel RotateResidual(SyntheticModel m, int seed)
    {
        var r = m.Clone();
        int d = m.Hidden;
        var rot = RandomOrthogonal(d, new Random(seed));
        foreach (var l in r.Layers)
        {
            l.Q = MultiplyColumns(l.Q, d, l.AttnNorm);
            l.K = MultiplyColumns(l.K, d, l.AttnNorm);
            l.V = MultiplyColumns(l.V, d, l.AttnNorm);
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                mlp.Gate = MultiplyColumns(mlp.Gate, d, l.MlpNorm);
                mlp.Up = MultiplyColumns(mlp.Up, d, l.MlpNorm);
            }

            if (l.Router != null) l.Router = MultiplyColumns(l.Router, d, l.MlpNorm);
            Array.Fill(l.AttnNorm, 1f);
            Array.Fill(l.MlpNorm, 1f);
        }

        r.LmHead = MultiplyColumns(r.LmHead, d, r.FinalNorm);
        Array.Fill(r.FinalNorm, 1f);

        float[] Readers(float[] w) => RightMultiplyTransposed(w, d, rot); // W Rᵀ
        float[] Writers(float[] w, int cols) => LeftMultiply(rot, d, w, cols); // R W
        r.Embedding = Readers(r.Embedding);
        r.LmHead = Readers(r.LmHead);
        foreach (var l in r.Layers)
        {
            l.Q = Readers(l.Q);
            l.K = Readers(l.K);
            l.V = Readers(l.V);
            l.O = Writers(l.O, m.Heads * m.HeadDim);
            if (l.Router != null) l.Router = Readers(l.Router);
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                mlp.Gate = Readers(mlp.Gate);
                mlp.Up = Readers(mlp.Up);
                mlp.Down = Writers(mlp.Down, mlp.Intermediate);
            }
        }

        return r;
    }

    /// <summary>Adds Gaussian noise of <paramref name="relative"/> × each matrix's standard deviation to every matrix.</summary>
    public static SyntheticModel AddNoise(SyntheticModel m, double relative, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var w in Matrices(r)) AddNoiseTo(w, relative, rnd);
        return r;
    }

    /// <summary>A LoRA-style fine-tune: every attention and MLP matrix gets W ← W + B·A of rank <paramref name="rank"/>,
    /// scaled so that ‖BA‖ = <paramref name="relative"/> ‖W‖.</summary>
    public static SyntheticModel LoraUpdate(SyntheticModel m, int rank, double relative, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var l in r.Layers)
        {
            int qRows = m.Heads * m.HeadDim, kvRows = m.KvHeads * m.HeadDim, d = m.Hidden;
            AddLowRank(l.Q, qRows, d);
            AddLowRank(l.K, kvRows, d);
            AddLowRank(l.V, kvRows, d);
            AddLowRank(l.O, d, qRows);
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                AddLowRank(mlp.Gate, mlp.Intermediate, d);
                AddLowRank(mlp.Up, mlp.Intermediate, d);
                AddLowRank(mlp.Down, d, mlp.Intermediate);
            }
        }

        return r;

        void AddLowRank(float[] w, int rows, int cols)
        {
            var b = Gaussian(rnd, rows * rank, 1);
            var a = Gaussian(rnd, rank * cols, 1);
            var delta = new double[w.Length];
            for (int i = 0; i < rows; i++)
            {
                for (int k = 0; k < rank; k++)
                {
                    double bik = b[i * rank + k];
                    for (int j = 0; j < cols; j++) delta[i * cols + j] += bik * a[k * cols + j];
                }
            }

            double scale = relative * Math.Sqrt(w.Sum(x => (double)x * x) / delta.Sum(x => x * x));
            for (int i = 0; i < w.Length; i++) w[i] += (float)(scale * delta[i]);
        }
    }

    /// <summary>Simulates a GGUF Q8_0 round trip on every matrix: blocks of 32 consecutive values share an f16 scale
    /// max|x|/127 and are stored as rounded int8 (ggml's quantize_row_q8_0 reference).</summary>
    public static SyntheticModel Q8RoundTrip(SyntheticModel m)
    {
        var r = m.Clone();
        foreach (var w in Matrices(r))
        {
            for (int start = 0; start < w.Length; start += 32)
            {
                int n = Math.Min(32, w.Length - start);
                float amax = 0;
                for (int i = 0; i < n; i++) amax = Math.Max(amax, Math.Abs(w[start + i]));
                float scale = (float)(Half)(amax / 127f);
                for (int i = 0; i < n; i++)
                {
                    float q = scale == 0 ? 0 : MathF.Round(w[start + i] / (amax / 127f));
                    w[start + i] = Math.Clamp(q, -127, 127) * scale;
                }
            }
        }

        return r;
    }

    /// <summary>Drops the given layers (the rest keep their order).</summary>
    public static SyntheticModel RemoveLayers(SyntheticModel m, params int[] layers)
    {
        var r = m.Clone();
        r.Layers = r.Layers.Where((_, i) => !layers.Contains(i)).ToList();
        return r;
    }

    /// <summary>Removes a random <paramref name="fraction"/> of every MLP's neurons (width pruning).</summary>
    public static SyntheticModel PruneNeurons(SyntheticModel m, double fraction, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var l in r.Layers)
        {
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                int keep = mlp.Intermediate - (int)Math.Round(fraction * mlp.Intermediate);
                var kept = Permutation(mlp.Intermediate, rnd).Take(keep).Order().ToArray();
                mlp.Gate = PermuteRows(mlp.Gate, m.Hidden, kept);
                mlp.Up = PermuteRows(mlp.Up, m.Hidden, kept);
                mlp.Down = PermuteColumns(mlp.Down, mlp.Intermediate, kept);
                mlp.Intermediate = keep;
            }
        }

        return r;
    }

    /// <summary>Sparse upcycling: each dense MLP becomes <paramref name="experts"/> experts, each a copy of it with
    /// its own Gaussian noise (<paramref name="relative"/> × std, standing in for continued training) and its own
    /// neuron order; a fresh random router. Attention is kept.</summary>
    public static SyntheticModel UpcycleMoE(SyntheticModel m, int experts, double relative, int seed)
    {
        var r = m.Clone();
        var rnd = new Random(seed);
        foreach (var l in r.Layers)
        {
            var dense = l.Mlp ?? throw new InvalidOperationException("already MoE");
            l.Experts = Enumerable.Range(0, experts).Select(_ =>
            {
                var e = dense.Clone();
                AddNoiseTo(e.Gate, relative, rnd);
                AddNoiseTo(e.Up, relative, rnd);
                AddNoiseTo(e.Down, relative, rnd);
                var p = Permutation(e.Intermediate, rnd);
                e.Gate = PermuteRows(e.Gate, m.Hidden, p);
                e.Up = PermuteRows(e.Up, m.Hidden, p);
                e.Down = PermuteColumns(e.Down, e.Intermediate, p);
                return e;
            }).ToList();
            l.Router = Gaussian(rnd, experts * m.Hidden, 0.02);
            l.Mlp = null;
        }

        return r;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>SplitMix64 finaliser: System.Random's legacy generator gives correlated streams for nearby seeds
    /// (measurably so for pcs, which sums millions of products), so seeds are scrambled first.</summary>
    public static int Scramble(int seed)
    {
        ulong z = (ulong)(uint)seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static IEnumerable<float[]> Matrices(SyntheticModel r)
    {
        yield return r.Embedding;
        yield return r.LmHead;
        foreach (var l in r.Layers)
        {
            yield return l.Q;
            yield return l.K;
            yield return l.V;
            yield return l.O;
            foreach (var mlp in l.Experts.Append(l.Mlp).OfType<SyntheticMlp>())
            {
                yield return mlp.Gate;
                yield return mlp.Up;
                yield return mlp.Down;
            }
        }
    }

    private static void AddNoiseTo(float[] w, double relative, Random rnd)
    {
        double mean = w.Average(x => (double)x);
        double std = Math.Sqrt(w.Sum(x => (x - mean) * (x - mean)) / w.Length);
        for (int i = 0; i < w.Length; i++) w[i] += (float)(relative * std * NextGaussian(rnd));
    }

    public static double NextGaussian(Random rnd)
    {
        double u1 = 1 - rnd.NextDouble(), u2 = rnd.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static float[] Gaussian(Random rnd, int n, double std)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(std * NextGaussian(rnd));
        return a;
    }

    public static int[] Permutation(int n, Random rnd)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rnd.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }

        return p;
    }

    private static int[] Expand(int[] blocks, int size) => blocks.SelectMany(b => Enumerable.Range(b * size, size)).ToArray();

    /// <summary>Rows in the order given: result row i = source row p[i].</summary>
    public static float[] PermuteRows(float[] w, int cols, int[] p)
    {
        var r = new float[p.Length * cols];
        for (int i = 0; i < p.Length; i++) Array.Copy(w, p[i] * cols, r, i * cols, cols);
        return r;
    }

    /// <summary>Columns in the order given: result column j = source column p[j].</summary>
    public static float[] PermuteColumns(float[] w, int cols, int[] p)
    {
        int rows = w.Length / cols;
        var r = new float[rows * p.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < p.Length; j++) r[i * p.Length + j] = w[i * cols + p[j]];
        }

        return r;
    }

    private static float[] PermuteVector(float[] v, int[] p) => p.Select(i => v[i]).ToArray();

    private static void Scale(float[] w, float s)
    {
        for (int i = 0; i < w.Length; i++) w[i] *= s;
    }

    private static float[] MultiplyColumns(float[] w, int cols, float[] g)
    {
        var r = (float[])w.Clone();
        for (int i = 0; i < r.Length; i++) r[i] *= g[i % cols];
        return r;
    }

    /// <summary>A random orthogonal d × d matrix (Gram–Schmidt of a Gaussian matrix), row-major.</summary>
    public static double[] RandomOrthogonal(int d, Random rnd)
    {
        var q = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            var v = new double[d];
            for (int k = 0; k < d; k++) v[k] = NextGaussian(rnd);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int j = 0; j < i; j++)
                {
                    double dot = 0;
                    for (int k = 0; k < d; k++) dot += v[k] * q[j * d + k];
                    for (int k = 0; k < d; k++) v[k] -= dot * q[j * d + k];
                }
            }

            double norm = Math.Sqrt(v.Sum(x => x * x));
            for (int k = 0; k < d; k++) q[i * d + k] = v[k] / norm;
        }

        return q;
    }

    // W (rows × d) · Rᵀ → rows × d.
    private static float[] RightMultiplyTransposed(float[] w, int d, double[] rot)
    {
        int rows = w.Length / d;
        var r = new float[w.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += w[i * d + k] * rot[j * d + k];
                r[i * d + j] = (float)s;
            }
        }

        return r;
    }

    // R (d × d) · W (d × cols).
    private static float[] LeftMultiply(double[] rot, int d, float[] w, int cols)
    {
        var r = new float[w.Length];
        for (int i = 0; i < d; i++)
        {
            for (int k = 0; k < d; k++)
            {
                double rik = rot[i * d + k];
                for (int j = 0; j < cols; j++) r[i * cols + j] += (float)(rik * w[k * cols + j]);
            }
        }

        return r;
    }
}
