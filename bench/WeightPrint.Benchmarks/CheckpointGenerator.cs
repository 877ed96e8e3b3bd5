using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WeightPrint.Numerics;
using WeightPrint.TestSupport;

namespace WeightPrint.Benchmarks;

/// <summary>
/// Writes a Llama-shaped BF16 sharded safetensors checkpoint (config.json, model.safetensors.index.json, shards)
/// of normal-ish random values with a different std per layer and role, sequentially with bounded memory.
/// With <c>--noise X</c> and the same seed it writes the same base values plus X·std Gaussian noise: a
/// "fine-tuned" copy for compare runs.
/// <code>generate DIR [--layers 32] [--hidden 4096] [--ff 11008] [--vocab 32000] [--seed 1] [--noise 0]
///                    [--shard-bytes 5000000000]</code>
/// </summary>
internal static class CheckpointGenerator
{
    private const int BlockElements = 1 << 20;

    public static int Run(string[] args)
    {
        if (args.Length < 1 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("usage: generate DIR [--layers N] [--hidden D] [--ff F] [--vocab V] [--seed S] [--noise X] [--shard-bytes B]");
            return 2;
        }

        string dir = args[0];
        int layers = 32, hidden = 4096, ff = 11008, vocab = 32000;
        ulong seed = 1;
        double noise = 0;
        long shardBytes = 5_000_000_000;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--layers": layers = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--hidden": hidden = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--ff": ff = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--vocab": vocab = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(v, CultureInfo.InvariantCulture); break;
                case "--noise": noise = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--shard-bytes": shardBytes = long.Parse(v, CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        Directory.CreateDirectory(dir);
        var tensors = Plan(layers, hidden, ff, vocab);
        var shards = Shard(tensors, shardBytes);
        var started = DateTime.UtcNow;
        for (int s = 0; s < shards.Count; s++)
        {
            string name = $"model-{s + 1:00000}-of-{shards.Count:00000}.safetensors";
            foreach (var t in shards[s]) t.File = name;
            WriteShard(Path.Combine(dir, name), shards[s], seed, noise);
            Console.Error.WriteLine($"  {name}: {shards[s].Count} tensors, {shards[s].Sum(t => t.Bytes) / 1e9:F2} GB ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
        }

        WriteIndex(Path.Combine(dir, "model.safetensors.index.json"), tensors);
        WriteConfig(Path.Combine(dir, "config.json"), layers, hidden, ff, vocab);
        Console.Error.WriteLine($"wrote {dir}: {tensors.Count} tensors, {tensors.Sum(t => t.Bytes) / 1e9:F2} GB in {shards.Count} shards");
        return 0;
    }

    private sealed class PlannedTensor(string name, long[] shape, double std, double mean, int index)
    {
        public string Name { get; } = name;

        public long[] Shape { get; } = shape;

        /// <summary>Std of the base values; norms are mean 1 with a small std.</summary>
        public double Std { get; } = std;

        public double Mean { get; } = mean;

        public int Index { get; } = index;

        public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

        public long Bytes => 2 * Elements;

        public string File { get; set; } = "";
    }

    private static List<PlannedTensor> Plan(int layers, int d, int ff, int vocab)
    {
        var list = new List<PlannedTensor>();
        void Add(string name, long[] shape, double std, double mean = 0) => list.Add(new PlannedTensor(name, shape, std, mean, list.Count));
        Add("model.embed_tokens.weight", [vocab, d], 0.02);
        for (int l = 0; l < layers; l++)
        {
            // A per-layer std profile, so per-layer statistics carry a signature.
            double s = 0.02 * (1 + 0.5 * Math.Sin(0.7 * l + 0.3)) * (1 + 0.02 * l);
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", [d], 0.05, 1);
            Add(p + "mlp.down_proj.weight", [d, ff], 0.8 * s);
            Add(p + "mlp.gate_proj.weight", [ff, d], 1.1 * s);
            Add(p + "mlp.up_proj.weight", [ff, d], 0.9 * s);
            Add(p + "post_attention_layernorm.weight", [d], 0.05, 1);
            Add(p + "self_attn.k_proj.weight", [d, d], 1.3 * s);
            Add(p + "self_attn.o_proj.weight", [d, d], 0.7 * s);
            Add(p + "self_attn.q_proj.weight", [d, d], 1.2 * s);
            Add(p + "self_attn.v_proj.weight", [d, d], 0.6 * s);
        }

        Add("model.norm.weight", [d], 0.05, 1);
        Add("lm_head.weight", [vocab, d], 0.02);
        return list;
    }

    private static List<List<PlannedTensor>> Shard(List<PlannedTensor> tensors, long shardBytes)
    {
        var shards = new List<List<PlannedTensor>> { new() };
        long used = 0;
        foreach (var t in tensors)
        {
            if (used > 0 && used + t.Bytes > shardBytes)
            {
                shards.Add([]);
                used = 0;
            }

            shards[^1].Add(t);
            used += t.Bytes;
        }

        return shards;
    }

    private static void WriteShard(string path, List<PlannedTensor> tensors, ulong seed, double noise)
    {
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        SafetensorsWriter.WriteHeader(f, tensors.Select(t => (t.Name, TensorDType.BF16, t.Shape)), new Dictionary<string, string> { ["format"] = "pt" });

        // Blocks of 1M elements generated in parallel (each block has its own seeded stream, so the output does
        // not depend on the thread count), written in order; at most `batch` blocks are held at once.
        int batch = 2 * Environment.ProcessorCount;
        var buffers = new byte[batch][];
        for (int i = 0; i < batch; i++) buffers[i] = new byte[2 * BlockElements];
        foreach (var t in tensors)
        {
            long blocks = (t.Elements + BlockElements - 1) / BlockElements;
            for (long b0 = 0; b0 < blocks; b0 += batch)
            {
                int nb = (int)Math.Min(batch, blocks - b0);
                Parallel.For(0, nb, k =>
                {
                    long block = b0 + k;
                    int n = (int)Math.Min(BlockElements, t.Elements - block * BlockElements);
                    FillBlock(buffers[k].AsSpan(0, 2 * n), t, block, seed, noise);
                });
                for (int k = 0; k < nb; k++)
                {
                    long block = b0 + k;
                    int n = (int)Math.Min(BlockElements, t.Elements - block * BlockElements);
                    f.Write(buffers[k], 0, 2 * n);
                }
            }
        }
    }

    private static void FillBlock(Span<byte> destination, PlannedTensor t, long block, ulong seed, double noise)
    {
        var baseRng = new SplitMix(seed * 0x9E3779B97F4A7C15UL ^ ((ulong)t.Index << 32) ^ (ulong)block);
        var noiseRng = new SplitMix(~seed * 0xD1B54A32D192ED03UL ^ ((ulong)t.Index << 32) ^ (ulong)block);
        float std = (float)t.Std, mean = (float)t.Mean, noiseStd = (float)(noise * t.Std);
        for (int i = 0; i < destination.Length; i += 2)
        {
            float v = mean + std * baseRng.NextNormalish();
            if (noise > 0) v += noiseStd * noiseRng.NextNormalish();
            uint bits = BitConverter.SingleToUInt32Bits(v);
            bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
            BinaryPrimitives.WriteUInt16LittleEndian(destination[i..], (ushort)(bits >> 16));
        }
    }

    private static void WriteIndex(string path, List<PlannedTensor> tensors)
    {
        using var f = File.Create(path);
        using var w = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("metadata");
        w.WriteNumber("total_size", tensors.Sum(t => t.Bytes));
        w.WriteEndObject();
        w.WriteStartObject("weight_map");
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal)) w.WriteString(t.Name, t.File);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteConfig(string path, int layers, int d, int ff, int vocab)
    {
        int heads = Math.Max(1, d / 128);
        string json = $$"""
            {
              "architectures": ["LlamaForCausalLM"],
              "model_type": "llama",
              "hidden_size": {{d}},
              "intermediate_size": {{ff}},
              "num_hidden_layers": {{layers}},
              "num_attention_heads": {{heads}},
              "num_key_value_heads": {{heads}},
              "vocab_size": {{vocab}},
              "max_position_embeddings": 4096,
              "hidden_act": "silu",
              "rms_norm_eps": 1e-05,
              "rope_theta": 10000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16"
            }
            """;
        File.WriteAllText(path, json + "\n", new UTF8Encoding(false));
    }

    /// <summary>SplitMix64; a normal-ish value is the scaled sum of four 16-bit uniforms (Irwin–Hall, n = 4).</summary>
    private struct SplitMix(ulong state)
    {
        private ulong _state = state;

        public float NextNormalish()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            int sum = (int)(z & 0xFFFF) + (int)((z >> 16) & 0xFFFF) + (int)((z >> 32) & 0xFFFF) + (int)(z >> 48);
            // Four U(0,1) sum to mean 2, variance 4/12: centre and scale to unit variance.
            return (sum * (1f / 65536f) - 2f) * 1.7320508f;
        }
    }
}
