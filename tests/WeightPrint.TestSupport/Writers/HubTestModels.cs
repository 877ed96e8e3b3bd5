using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WeightPrint.Numerics;

namespace WeightPrint.TestSupport;

/// <summary>Llama-shaped Hugging Face model folders with random weights.</summary>
internal static class HubTestModels
{
    internal sealed record Tensor(string Name, long[] Shape, byte[] Data, TensorDType DType = TensorDType.BF16);

    /// <summary>A safetensors file of tensors in name order.</summary>
    public static byte[] Safetensors(IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var writer = new SafetensorsWriter();
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) writer.Metadata(k, v);
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal)) writer.AddRaw(t.Name, t.DType, t.Data, t.Shape);
        return writer.ToBytes();
    }

    /// <summary>Random bf16 values (finite, roughly N(0, 0.02)-sized).</summary>
    public static byte[] RandomBf16(long count, Random random)
    {
        var bytes = new byte[count * 2];
        for (long i = 0; i < count; i++)
        {
            float v = (float)((random.NextDouble() * 2 - 1) * 0.05);
            ushort bits = (ushort)(BitConverter.SingleToInt32Bits(v) >> 16);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)(i * 2)), bits);
        }

        return bytes;
    }

    internal sealed record LlamaShape(int Layers = 2, int Hidden = 64, int Intermediate = 128, int Vocab = 256, int KvHeads = 4, int Heads = 8);

    /// <summary>The tensors of a Llama-style model.</summary>
    public static List<Tensor> LlamaTensors(LlamaShape s, int seed)
    {
        var random = new Random(seed);
        int kvDim = s.Hidden / s.Heads * s.KvHeads;
        var list = new List<Tensor>
        {
            new("model.embed_tokens.weight", [s.Vocab, s.Hidden], RandomBf16((long)s.Vocab * s.Hidden, random)),
            new("model.norm.weight", [s.Hidden], RandomBf16(s.Hidden, random)),
            new("lm_head.weight", [s.Vocab, s.Hidden], RandomBf16((long)s.Vocab * s.Hidden, random)),
        };
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            list.Add(new(p + "input_layernorm.weight", [s.Hidden], RandomBf16(s.Hidden, random)));
            list.Add(new(p + "post_attention_layernorm.weight", [s.Hidden], RandomBf16(s.Hidden, random)));
            list.Add(new(p + "self_attn.q_proj.weight", [s.Hidden, s.Hidden], RandomBf16((long)s.Hidden * s.Hidden, random)));
            list.Add(new(p + "self_attn.k_proj.weight", [kvDim, s.Hidden], RandomBf16((long)kvDim * s.Hidden, random)));
            list.Add(new(p + "self_attn.v_proj.weight", [kvDim, s.Hidden], RandomBf16((long)kvDim * s.Hidden, random)));
            list.Add(new(p + "self_attn.o_proj.weight", [s.Hidden, s.Hidden], RandomBf16((long)s.Hidden * s.Hidden, random)));
            list.Add(new(p + "mlp.gate_proj.weight", [s.Intermediate, s.Hidden], RandomBf16((long)s.Intermediate * s.Hidden, random)));
            list.Add(new(p + "mlp.up_proj.weight", [s.Intermediate, s.Hidden], RandomBf16((long)s.Intermediate * s.Hidden, random)));
            list.Add(new(p + "mlp.down_proj.weight", [s.Hidden, s.Intermediate], RandomBf16((long)s.Hidden * s.Intermediate, random)));
        }

        return list;
    }

    public static string Config(LlamaShape s) =>
        $$"""{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":{{s.Hidden}},"intermediate_size":{{s.Intermediate}},"num_hidden_layers":{{s.Layers}},"num_attention_heads":{{s.Heads}},"num_key_value_heads":{{s.KvHeads}},"vocab_size":{{s.Vocab}},"torch_dtype":"bfloat16"}""";

    public static string Tokenizer(int vocab)
    {
        var sb = new StringBuilder("{\"model\":{\"type\":\"BPE\",\"vocab\":{");
        for (int i = 0; i < vocab; i++) sb.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{i}");
        sb.Append("}},\"added_tokens\":[]}");
        return sb.ToString();
    }

    /// <summary>A Hugging Face model folder's files: config.json, tokenizer.json and one or more safetensors shards (+ index).</summary>
    public static Dictionary<string, byte[]> LlamaFolder(LlamaShape s, int seed, int shards = 1)
    {
        var tensors = LlamaTensors(s, seed);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["config.json"] = Encoding.UTF8.GetBytes(Config(s)),
            ["tokenizer.json"] = Encoding.UTF8.GetBytes(Tokenizer(s.Vocab)),
            ["README.md"] = Encoding.UTF8.GetBytes("# test model\n"),
        };
        if (shards == 1)
        {
            files["model.safetensors"] = Safetensors(tensors, new Dictionary<string, string> { ["format"] = "pt" });
            return files;
        }

        var groups = tensors.Select((t, i) => (t, i)).GroupBy(x => x.i % shards).ToList();
        var map = new Dictionary<string, string>();
        foreach (var g in groups)
        {
            string name = $"model-{g.Key + 1:00000}-of-{shards:00000}.safetensors";
            files[name] = Safetensors(g.Select(x => x.t), new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var (t, _) in g) map[t.Name] = name;
        }

        using var index = new MemoryStream();
        using (var w = new Utf8JsonWriter(index))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", tensors.Sum(t => (long)t.Data.Length));
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        files["model.safetensors.index.json"] = index.ToArray();
        return files;
    }

    /// <summary>Writes files into a folder (for the local comparison run).</summary>
    public static string WriteFolder(string folder, IReadOnlyDictionary<string, byte[]> files)
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in files)
        {
            string path = Path.Combine(folder, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }

        return folder;
    }

    /// <summary>Every regular file of a local folder, by name (for serving a shared model).</summary>
    public static Dictionary<string, byte[]> ReadFolder(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal);
}
