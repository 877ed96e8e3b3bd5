using System.Diagnostics;
using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Model;

/// <summary>
/// Header-only checkpoints built from the real config.json and weight index of 30 public models
/// (shared/realnames): every tensor gets the shape its family's layout implies, each shard is a valid
/// safetensors header followed by a sparse hole (no disk used), and the model view must find the
/// architecture, every layer, Q/K/V/O in every layer and the experts of MoE layers.
/// </summary>
public class RealNamesTests
{
    private static readonly Dictionary<string, (string Arch, int Experts)> Expected = new(StringComparer.Ordinal)
    {
        ["OpenAssistant--oasst-rm-2.1-pythia-1.4b-epoch-2.5"] = ("gpt_neox", 0),
        ["OpenAssistant--oasst-sft-1-pythia-12b"] = ("gpt_neox", 0),
        ["PygmalionAI--pygmalion-6b"] = ("gptj", 0),
        ["Qwen--Qwen2-7B-Instruct"] = ("qwen2", 0),
        ["Qwen--Qwen2.5-3B"] = ("qwen2", 0),
        ["Qwen--Qwen3-1.7B-MLX-bf16"] = ("qwen3", 0),
        ["SakuraLLM--Sakura-14B-Qwen2.5-v1.0"] = ("qwen2", 0),
        ["alpindale--WizardLM-2-8x22B"] = ("mixtral", 8),
        ["bigscience--bloom"] = ("bloom", 0),
        ["google--flan-t5-xl"] = ("t5", 0),
        ["google--gemma-2b-it"] = ("gemma", 0),
        ["google--gemma-3-4b-text"] = ("gemma3", 0),
        ["google--medgemma-27b-it"] = ("gemma3", 0),
        ["huawei--openPangu-Embedded-7B"] = ("panguembedded", 0),
        ["lowkb--codeai-qwen2.5-32b"] = ("qwen2", 0),
        ["mattshumer--Reflection-Llama-3.1-70B"] = ("llama", 0),
        ["meta-llama--Llama-2-7b-hf"] = ("llama", 0),
        ["meta-llama--Llama-3.1-8B-Instruct-bnb-int8"] = ("llama", 0),
        ["meta-llama--Llama-3.2-3B-Instruct"] = ("llama", 0),
        ["meta-llama--Meta-Llama-3-8B-Instruct"] = ("llama", 0),
        ["microsoft--Phi-3-mini-128k-instruct"] = ("phi3", 0),
        ["microsoft--Phi-tiny-MoE-instruct"] = ("phimoe", 16),
        ["microsoft--phi-4"] = ("phi3", 0),
        ["mistralai--Mistral-7B-v0.3"] = ("mistral", 0),
        ["mistralai--Mixtral-8x7B-v0.1"] = ("mixtral", 8),
        ["openai--gpt-oss-20b"] = ("gpt_oss", 32),
        ["tiiuae--falcon-180B-chat"] = ("falcon", 0),
        ["tiiuae--falcon-40b"] = ("falcon", 0),
        ["tiiuae--falcon-7b-instruct"] = ("falcon", 0),
        ["togethercomputer--RedPajama-INCITE-7B-Base"] = ("gpt_neox", 0),
    };

    private static string? Root
    {
        get
        {
            string p = Path.GetFullPath(Path.Combine(SharedModels.RepoRoot, "..", "shared", "realnames", "json"));
            return Directory.Exists(p) ? p : null;
        }
    }

    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var name in Expected.Keys.Order(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [SkippableFact]
    public void Every_realnames_folder_has_an_expectation()
    {
        Skip.If(Root == null);
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), Directory.GetDirectories(Root!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public void Header_only_checkpoint_maps_every_layer(string folder)
    {
        Skip.If(Root == null, "shared/realnames is not present");
        string src = Path.Combine(Root!, folder);
        Skip.If(!Directory.Exists(src), $"{folder} is not present");
        using var cfgDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(src, "config.json")));
        var cfg = new Cfg(cfgDoc.RootElement);
        string indexFile = Directory.GetFiles(src, "*.index.json").Single();
        using var idx = JsonDocument.Parse(File.ReadAllText(indexFile));
        var writer = new SafetensorsWriter();
        var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in idx.RootElement.GetProperty("weight_map").EnumerateObject())
        {
            var (dtype, shape) = cfg.ShapeOf(p.Name);
            writer.AddRaw(p.Name, dtype, null, shape);
            string shard = p.Value.GetString()!;
            shardOf[p.Name] = shard.EndsWith(".bin", StringComparison.Ordinal) ? shard[..^4] + ".safetensors" : shard;
        }

        using var tmp = new TempDir();
        writer.WriteSharded(tmp.Path, n => shardOf[n], headerOnly: true);
        File.Copy(Path.Combine(src, "config.json"), tmp.File("config.json"));
        AssertSparse(tmp.Path);

        using var checkpoint = CheckpointLoader.Open(tmp.Path);
        var view = ModelViewBuilder.Build(checkpoint);
        var (arch, experts) = Expected[folder];
        Assert.Equal(arch, view.Architecture);
        Assert.Empty(view.UnrecognisedTensors);
        int layers = cfg.Layers;
        Assert.Equal(layers, view.Layers.Count);
        foreach (var l in view.Layers)
        {
            foreach (var role in new[] { TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO })
                Assert.True(l.Get(role) != null, $"{folder}: {l.Stack} layer {l.Index} has no {role}");
            var q = l.Get(TensorRole.AttnQ)!;
            var k = l.Get(TensorRole.AttnK)!;
            Assert.Equal(cfg.Heads * cfg.HeadDim, q.Rows);
            Assert.Equal(cfg.KvHeads * cfg.HeadDim, k.Rows);
            Assert.Equal(cfg.Hidden, q.Columns);
            if (l.Stack == "decoder" && arch == "t5") Assert.NotNull(l.Get(TensorRole.CrossK));
            Assert.Equal(experts, l.Experts.Count);
            if (experts > 0)
            {
                Assert.All(l.Experts, e => Assert.Equal(3, e.Tensors.Count));
                Assert.NotNull(l.Get(TensorRole.Router));
            }
        }

        Assert.Equal(cfg.KvHeads, view.Geometry.KvHeads);
        Assert.Equal(cfg.Heads, view.Geometry.Heads);
    }

    /// <summary>The shards are sparse: their allocated size (du) is far below their logical size.</summary>
    private static void AssertSparse(string folder)
    {
        long logical = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
        if (!OperatingSystem.IsLinux() || logical < 1L << 30) return;
        try
        {
            var psi = new ProcessStartInfo("du", ["-sk", folder]) { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            long kb = long.Parse(output.Split('\t')[0]);
            Assert.True(kb * 1024 < 64L << 20, $"sparse shards use {kb} KiB of disk for {logical} logical bytes");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // du not available: nothing to measure.
        }
    }

    /// <summary>Config geometry and the shape each family's layout gives a tensor.</summary>
    private sealed class Cfg
    {
        private readonly JsonElement _root;
        private readonly JsonElement? _text;

        public Cfg(JsonElement root)
        {
            _root = root;
            if (root.TryGetProperty("text_config", out var t) && t.ValueKind == JsonValueKind.Object) _text = t;
            ModelType = Str("model_type")!.ToLowerInvariant();
            Hidden = Int("hidden_size", "n_embd", "n_embed", "d_model")!.Value;
            Heads = Int("num_attention_heads", "n_head", "num_heads")!.Value;
            bool falcon = ModelType is "falcon" or "refinedweb";
            bool newArch = Bool("new_decoder_architecture") ?? ModelType == "refinedweb";
            KvHeads = falcon ? (newArch ? Int("num_kv_heads", "n_head_kv") ?? Heads : Bool("multi_query") == true ? 1 : Heads) : Int("num_key_value_heads") ?? Heads;
            HeadDim = Int("head_dim", "d_kv") ?? Hidden / Heads;
            Ff = Int("intermediate_size", "d_ff", "n_inner") ?? 4 * Hidden;
            Vocab = Int("vocab_size")!.Value;
            Experts = Int("num_local_experts", "num_experts") ?? 0;
            Layers = ModelType == "t5" ? Int("num_layers")!.Value + (Int("num_decoder_layers") ?? Int("num_layers")!.Value) : Int("num_hidden_layers", "n_layer", "num_layers")!.Value;
            DType = Str("torch_dtype") switch { "bfloat16" => TensorDType.BF16, "float16" => TensorDType.F16, _ => TensorDType.F32 };
            Int8 = _root.TryGetProperty("quantization_config", out var q) && q.TryGetProperty("load_in_8bit", out var l8) && l8.ValueKind == JsonValueKind.True;
        }

        public string ModelType { get; }

        public int Hidden { get; }

        public int Heads { get; }

        public int KvHeads { get; }

        public int HeadDim { get; }

        public int Ff { get; }

        public int Vocab { get; }

        public int Experts { get; }

        public int Layers { get; }

        public TensorDType DType { get; }

        public bool Int8 { get; }

        public (TensorDType, long[]) ShapeOf(string name)
        {
            long h = Hidden, q = (long)Heads * HeadDim, kv = (long)KvHeads * HeadDim, ff = Ff;
            var t = DType;
            bool bias = name.EndsWith(".bias", StringComparison.Ordinal);
            string n = bias ? name[..^5] : name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^7] : name;
            string last = n[(n.LastIndexOf('.') + 1)..];
            if (n.Contains("vision_tower", StringComparison.Ordinal) || n.Contains("multi_modal_projector", StringComparison.Ordinal)) return (t, [4]);
            if (n.EndsWith(".SCB", StringComparison.Ordinal)) return (TensorDType.F32, [ShapeOf(n[..^4] + ".weight").Item2[0]]);
            if (n.EndsWith(".weight_format", StringComparison.Ordinal)) return (TensorDType.U8, []);
            if (last is "inv_freq") return (TensorDType.F32, [HeadDim / 2]);
            if (last is "masked_bias") return (TensorDType.F32, []);
            if (n.EndsWith("attn.bias", StringComparison.Ordinal) || n.EndsWith("attention.bias", StringComparison.Ordinal) || (name.EndsWith("attention.bias", StringComparison.Ordinal) && !n.Contains("query_key_value", StringComparison.Ordinal)))
                return (TensorDType.Bool, [1, 1, 4, 4]);
            if (last == "sinks") return (t, [Heads]);
            if (n.EndsWith("gate_up_proj_blocks", StringComparison.Ordinal)) return (TensorDType.U8, [Experts, 2 * ff, h / 32, 16]);
            if (n.EndsWith("gate_up_proj_scales", StringComparison.Ordinal)) return (TensorDType.U8, [Experts, 2 * ff, h / 32]);
            if (n.EndsWith("down_proj_blocks", StringComparison.Ordinal)) return (TensorDType.U8, [Experts, h, ff / 32, 16]);
            if (n.EndsWith("down_proj_scales", StringComparison.Ordinal)) return (TensorDType.U8, [Experts, h, ff / 32]);
            if (n.EndsWith("gate_up_proj_bias", StringComparison.Ordinal)) return (t, [Experts, 2 * ff]);
            if (n.EndsWith("down_proj_bias", StringComparison.Ordinal)) return (t, [Experts, h]);
            if (n is "out_proj") return (t, bias ? [1] : [1, h]);
            if (last is "embed_tokens" or "wte" or "word_embeddings" or "embed_in" or "shared" or "embed_out" or "lm_head")
                return (t, bias ? [Vocab] : [Vocab, h]);
            if (n.Contains("relative_attention_bias", StringComparison.Ordinal)) return (t, [32, Heads]);
            long[] Mat(long rows, long cols) => bias ? [rows] : [rows, cols];
            TensorDType W() => Int8 && !bias && n.Contains(".layers.", StringComparison.Ordinal) && n.EndsWith("_proj", StringComparison.Ordinal) ? TensorDType.I8 : t;
            switch (last)
            {
                case "q_proj": case "q": return (W(), Mat(q, h));
                case "k_proj" or "v_proj" or "k" or "v" when !n.Contains("EncDecAttention", StringComparison.Ordinal): return (W(), Mat(kv, h));
                case "k" or "v": return (t, Mat(q, h));
                case "o_proj" or "o": return (W(), Mat(h, q));
                case "out_proj": return (t, Mat(h, h));
                case "q_norm" or "k_norm": return (t, [HeadDim]);
                case "qkv_proj": return (t, Mat(q + 2 * kv, h));
                case "gate_up_proj": return (t, Mat(2 * ff, h));
                case "gate_proj" or "up_proj" or "w1" or "w3" or "fc_in" or "dense_h_to_4h" or "wi_0" or "wi_1" or "wi": return (W(), Mat(ff, h));
                case "down_proj" or "w2" or "fc_out" or "dense_4h_to_h" or "wo": return (W(), Mat(h, ff));
                case "query_key_value":
                    return (t, ModelType is "falcon" or "refinedweb" ? Mat(q + 2 * kv, h) : Mat(3 * h, h));
                case "dense": return (t, Mat(h, h));
                case "gate" or "router": return (t, Mat(Experts, h));
            }

            if (last.Contains("norm", StringComparison.Ordinal) || last.StartsWith("ln_", StringComparison.Ordinal) || last == "layer_norm") return (t, [h]);
            return (t, [1]);
        }

        private JsonElement? Find(string key)
        {
            if (_text is { } x && x.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) return v;
            return _root.TryGetProperty(key, out var w) && w.ValueKind != JsonValueKind.Null ? w : null;
        }

        private int? Int(params string[] keys)
        {
            foreach (var k in keys)
                if (Find(k) is { ValueKind: JsonValueKind.Number } v) return v.GetInt32();
            return null;
        }

        private bool? Bool(string key) => Find(key) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.ValueKind == JsonValueKind.True : null;

        private string? Str(string key) => Find(key) is { ValueKind: JsonValueKind.String } v ? v.GetString() : _root.TryGetProperty(key, out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
    }
}
