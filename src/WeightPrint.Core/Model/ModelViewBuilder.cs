using System.Text.Json;
using System.Text.RegularExpressions;
using WeightPrint.Formats;

namespace WeightPrint.Model;

/// <summary>
/// Builds the canonical <see cref="ModelView"/> of a checkpoint from config.json / GGUF metadata and tensor
/// name patterns.
/// </summary>
public static partial class ModelViewBuilder
{
    public static ModelView Build(Checkpoint checkpoint)
    {
        var notes = new List<string>();
        bool interleavedRope = checkpoint.Format is "llama2c" || checkpoint.Format.EndsWith("gguf", StringComparison.Ordinal);
        string modelType = ConfigString(checkpoint, "model_type") ?? MetadataString(checkpoint, "general.architecture")
            ?? (checkpoint.Format == "llama2c" ? "llama" : "unknown");

        var perLayer = new SortedDictionary<int, Dictionary<TensorRole, TensorInfo>>();
        var model = new Dictionary<ModelRole, TensorView>();
        var unrecognised = new List<string>();
        foreach (var t in checkpoint.Tensors)
        {
            var m = HfLayerPattern().Match(t.Name);
            if (m.Success)
            {
                int layer = int.Parse(m.Groups[1].Value);
                TensorRole? role = m.Groups[2].Value switch
                {
                    "self_attn.q_proj" => TensorRole.AttnQ,
                    "self_attn.k_proj" => TensorRole.AttnK,
                    "self_attn.v_proj" => TensorRole.AttnV,
                    "self_attn.o_proj" => TensorRole.AttnO,
                    "mlp.gate_proj" => TensorRole.MlpGate,
                    "mlp.up_proj" => TensorRole.MlpUp,
                    "mlp.down_proj" => TensorRole.MlpDown,
                    "input_layernorm" => TensorRole.AttnNorm,
                    "post_attention_layernorm" => TensorRole.MlpNorm,
                    _ => null,
                };
                if (role is { } r)
                {
                    if (!perLayer.TryGetValue(layer, out var d)) perLayer[layer] = d = [];
                    d[r] = t;
                    continue;
                }
            }

            var g = GgufLayerPattern().Match(t.Name);
            if (g.Success)
            {
                int layer = int.Parse(g.Groups[1].Value);
                TensorRole? role = g.Groups[2].Value switch
                {
                    "attn_q" => TensorRole.AttnQ,
                    "attn_k" => TensorRole.AttnK,
                    "attn_v" => TensorRole.AttnV,
                    "attn_output" => TensorRole.AttnO,
                    "ffn_gate" => TensorRole.MlpGate,
                    "ffn_up" => TensorRole.MlpUp,
                    "ffn_down" => TensorRole.MlpDown,
                    "attn_norm" => TensorRole.AttnNorm,
                    "ffn_norm" => TensorRole.MlpNorm,
                    _ => null,
                };
                if (role is { } r)
                {
                    if (!perLayer.TryGetValue(layer, out var d)) perLayer[layer] = d = [];
                    d[r] = t;
                    continue;
                }
            }

            switch (t.Name)
            {
                case "model.embed_tokens.weight" or "token_embd.weight":
                    model[ModelRole.Embedding] = new StoredTensorView(t);
                    break;
                case "lm_head.weight" or "output.weight":
                    model[ModelRole.LmHead] = new StoredTensorView(t);
                    break;
                case "model.norm.weight" or "output_norm.weight":
                    model[ModelRole.FinalNorm] = new StoredTensorView(t);
                    break;
                default:
                    unrecognised.Add(t.Name);
                    break;
            }
        }

        var geometry = InferGeometry(checkpoint, perLayer, model);
        if (interleavedRope) notes.Add($"Q and K rows were stored in interleaved RoPE order ({checkpoint.Format}); they are un-permuted to Hugging Face's rotate-half order.");
        var layers = new List<LayerView>();
        foreach (var (index, roles) in perLayer)
        {
            var views = new Dictionary<TensorRole, TensorView>();
            foreach (var (role, t) in roles)
            {
                if (interleavedRope && role is TensorRole.AttnQ or TensorRole.AttnK && geometry.HeadDim > 0 && geometry.HeadDim % 2 == 0)
                {
                    int heads = (int)(t.Rows / geometry.HeadDim);
                    views[role] = new RowSelectionView(t, RowSelectionView.RopeUnpermutation(heads, geometry.HeadDim), "RoPE un-permuted");
                }
                else views[role] = new StoredTensorView(t);
            }

            layers.Add(new LayerView(index, "decoder", views));
        }

        if (layers.Count == 0) notes.Add("No transformer layers were recognised.");
        return new ModelView(checkpoint, layers.Count == 0 ? "unknown" : modelType, geometry, layers, model, unrecognised, notes);
    }

    private static AttentionGeometry InferGeometry(Checkpoint c, SortedDictionary<int, Dictionary<TensorRole, TensorInfo>> perLayer, Dictionary<ModelRole, TensorView> model)
    {
        string? arch = MetadataString(c, "general.architecture");
        int hidden = ConfigInt(c, "hidden_size") ?? MetaInt(c, arch + ".embedding_length") ?? MetaInt(c, "llama2c.dim") ?? 0;
        int heads = ConfigInt(c, "num_attention_heads") ?? MetaInt(c, arch + ".attention.head_count") ?? MetaInt(c, "llama2c.n_heads") ?? 0;
        int kvHeads = ConfigInt(c, "num_key_value_heads") ?? MetaInt(c, arch + ".attention.head_count_kv") ?? MetaInt(c, "llama2c.n_kv_heads") ?? heads;
        int ff = ConfigInt(c, "intermediate_size") ?? MetaInt(c, arch + ".feed_forward_length") ?? MetaInt(c, "llama2c.hidden_dim") ?? 0;
        int vocab = ConfigInt(c, "vocab_size") ?? MetaInt(c, "llama2c.vocab_size") ?? 0;
        var first = perLayer.Values.FirstOrDefault();
        if (hidden == 0 && first != null && first.TryGetValue(TensorRole.AttnQ, out var q)) hidden = (int)q.Columns;
        if (vocab == 0 && model.TryGetValue(ModelRole.Embedding, out var e)) vocab = (int)e.Rows;
        if (ff == 0 && first != null && first.TryGetValue(TensorRole.MlpUp, out var up)) ff = (int)up.Rows;
        int headDim = ConfigInt(c, "head_dim") ?? MetaInt(c, arch + ".attention.key_length") ?? (heads > 0 ? hidden / heads : 0);
        return new AttentionGeometry(hidden, heads, kvHeads, headDim, ff, vocab);
    }

    internal static string? ConfigString(Checkpoint c, string key)
        => c.Config is { ValueKind: JsonValueKind.Object } cfg && cfg.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static int? ConfigInt(Checkpoint c, string key)
        => c.Config is { ValueKind: JsonValueKind.Object } cfg && cfg.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    internal static string? MetadataString(Checkpoint c, string key) => c.Metadata.TryGetValue(key, out var v) ? v as string : null;

    internal static int? MetaInt(Checkpoint c, string key) => c.Metadata.TryGetValue(key, out var v) ? v switch
    {
        long l => (int)l,
        ulong u => (int)u,
        int i => i,
        uint u32 => (int)u32,
        _ => null,
    } : null;

    [GeneratedRegex(@"^(?:model\.)?layers\.(\d+)\.(.+)\.weight$")]
    private static partial Regex HfLayerPattern();

    [GeneratedRegex(@"^blk\.(\d+)\.([a-z_]+)\.weight$")]
    private static partial Regex GgufLayerPattern();
}
