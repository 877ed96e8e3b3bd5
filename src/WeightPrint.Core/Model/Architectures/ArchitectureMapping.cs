using System.Text.RegularExpressions;
using WeightPrint.IO;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// One model family's naming: which tensor goes to which layer and role key, how its fused tensors are laid
/// out, and where its geometry comes from. A fresh instance is made for every build.
/// </summary>
internal abstract class ArchitectureMapping
{
    /// <summary>The family name reported when config.json does not name a more specific one.</summary>
    public abstract string Family { get; }

    /// <summary>config.json model_type values (lower case) this mapping handles.</summary>
    public virtual IReadOnlyCollection<string> ModelTypes => [];

    /// <summary>Whether the tensor names carry this family's signature (used to pick a family when no
    /// config.json names one). Families sharing a naming scheme check their distinguishing tensors.</summary>
    public virtual bool HasSignature(MappingContext ctx) => true;

    /// <summary>Reads what classification depends on (config flags, which names exist).</summary>
    public virtual void Prepare(MappingContext ctx)
    {
    }

    /// <summary>Where a (normalised) tensor goes; null when the name means nothing to this family.</summary>
    public abstract Target? Classify(string name);

    /// <summary>The architecture reported: the config's model_type when this mapping knows it, else <see cref="Family"/>.</summary>
    public virtual string ArchitectureName(MappingContext ctx)
        => ctx.Config.ModelType is { } mt && ModelTypes.Contains(mt) ? mt : Family;

    public virtual AttentionGeometry Geometry(MappingContext ctx) => CommonGeometry(ctx.Config);

    public virtual LayerLayout Layout(MappingContext ctx, AttentionGeometry g) => new();

    /// <summary>Layers the config promises (all stacks), to check against what was found.</summary>
    public virtual int? ConfiguredLayers(MappingContext ctx) => ctx.Config.Int("num_hidden_layers", "n_layer", "num_layers", "n_layers");

    /// <summary>Family notes added after the layers are built.</summary>
    public virtual void Finish(MappingContext ctx, AttentionGeometry g)
    {
    }

    /// <summary><see cref="CommonGeometry"/> with the MLP width defaulting to 4 × hidden, for configs that omit it
    /// (GPT-2, GPT-J, BLOOM).</summary>
    public static AttentionGeometry CommonGeometryWithFourfoldMlp(ModelConfig c)
    {
        var g = CommonGeometry(c);
        return g.IntermediateSize == 0 && g.HiddenSize > 0 ? g with { IntermediateSize = 4 * g.HiddenSize } : g;
    }

    /// <summary>Geometry from the usual config.json keys of Hugging Face configs.</summary>
    public static AttentionGeometry CommonGeometry(ModelConfig c)
    {
        int hidden = c.Int("hidden_size", "n_embd", "d_model", "n_embed", "dim") ?? 0;
        int heads = c.Int("num_attention_heads", "n_head", "num_heads", "n_heads") ?? 0;
        int kv = c.Int("num_key_value_heads", "n_kv_heads") ?? heads;
        int headDim = c.Int("head_dim", "d_kv") ?? (heads > 0 ? hidden / heads : 0);
        int ff = c.Int("intermediate_size", "n_inner", "ffn_dim", "d_ff", "hidden_dim", "ffn_hidden_size") ?? 0;
        int vocab = c.Int("vocab_size", "padded_vocab_size") ?? 0;
        int experts = c.Int("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts") ?? 0;
        int perToken = c.Int("num_experts_per_tok", "experts_per_token", "moe_top_k") ?? 0;
        int shared = c.Int("n_shared_experts", "num_shared_experts") ?? ((c.Int("shared_expert_intermediate_size") ?? 0) > 0 ? 1 : 0);
        int expertFf = c.Int("moe_intermediate_size", "expert_intermediate_size") ?? (experts > 0 ? ff : 0);
        return new AttentionGeometry(hidden, heads, kv, headDim, ff, vocab, experts, perToken, shared, expertFf);
    }

    /// <summary>Largest layer, block or expert number accepted in a tensor name (a bound on what the view allocates).</summary>
    public const int MaxIndex = 1 << 20;

    /// <summary>The decimal layer/block/expert number a name pattern captured; a number beyond <see cref="MaxIndex"/>
    /// (or beyond Int32) is an invalid file, not an overflow.</summary>
    protected static int Index(Group group, string tensorName)
    {
        if (!int.TryParse(group.ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) || value > MaxIndex)
            throw new InvalidModelFileException($"tensor {ErrorText.Quote(tensorName)}: index {ErrorText.Bound(group.Value, 24)} exceeds the limit of {MaxIndex}");
        return value;
    }

    /// <summary>Splits "prefix.N.rest.weight" with <paramref name="pattern"/> (groups: layer, rest, kind).</summary>
    protected static (int Layer, string Remainder, string Kind)? Split(Regex pattern, string name)
    {
        var m = pattern.Match(name);
        if (!m.Success) return null;
        int layer = Index(m.Groups["layer"], name);
        return (layer, m.Groups["rest"].Value, m.Groups["kind"].Success ? m.Groups["kind"].Value : "");
    }

    /// <summary>"a.b.weight" → ("a.b", "weight"); "a.b.bias" → ("a.b", "bias"); anything else → (rest, "").</summary>
    protected static (string Body, string Kind) SplitKind(string rest)
    {
        if (rest.EndsWith(".weight", StringComparison.Ordinal)) return (rest[..^7], "weight");
        if (rest.EndsWith(".bias", StringComparison.Ordinal)) return (rest[..^5], "bias");
        return (rest, "");
    }

    /// <summary>A layer target from a key table for ".weight" / ".bias" names.</summary>
    protected static Target? FromTable(IReadOnlyDictionary<string, string> table, string stack, int layer, string rest, string kind)
    {
        if (!table.TryGetValue(rest, out string? key)) return null;
        return kind switch
        {
            "weight" => new LayerTarget(stack, layer, key),
            "bias" => new LayerTarget(stack, layer, key, Bias: true),
            _ => null,
        };
    }

    /// <summary>Reason used for runtime buffers saved with the weights.</summary>
    protected const string BufferReason = "runtime buffer (causal mask, rotary frequencies), not a learned weight";

    protected const string TaskHeadReason = "task head (classifier, pooler or masked-LM head), not part of the transformer stack";
}
