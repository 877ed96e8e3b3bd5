using WeightPrint.Formats;

namespace WeightPrint.Model.Architectures;

/// <summary>
/// A weight the mappings can place: a stored tensor, or a LoRA update ΔW standing in for a module's weight.
/// <see cref="Name"/> is normalised (wrapper prefixes such as <c>_orig_mod.</c>, <c>base_model.model.</c> and a
/// multimodal <c>language_model.</c> removed).
/// </summary>
internal sealed class WeightSource
{
    public WeightSource(string name, TensorInfo tensor)
    {
        Name = name;
        OriginalName = tensor.Name;
        Tensor = tensor;
    }

    public WeightSource(string name, TensorView delta, string originalName)
    {
        Name = name;
        OriginalName = originalName;
        Delta = delta;
    }

    public string Name { get; }

    public string OriginalName { get; }

    public TensorInfo? Tensor { get; }

    /// <summary>A LoRA ΔW (already canonical [out, in]).</summary>
    public TensorView? Delta { get; }

    /// <summary>bitsandbytes int8 per-row scales (SCB) for this weight.</summary>
    public TensorInfo? RowScales { get; set; }

    public bool IsDelta => Delta != null;

    /// <summary>Rows of the stored tensor (first dimension) or of the delta.</summary>
    public long StoredRows => Delta?.Rows ?? Tensor!.Rows;

    public IReadOnlyList<long> Shape => Tensor?.Shape ?? [Delta!.Rows, Delta.Columns];

    /// <summary>The whole module's weight in canonical [out, in] orientation. <paramref name="conv1D"/>: the
    /// stored tensor is [in, out] (GPT-2's Conv1D) and is transposed; a LoRA ΔW is canonical already.</summary>
    public TensorView Matrix(bool conv1D = false)
    {
        if (Delta != null) return Delta;
        var t = Tensor!;
        TensorView v = conv1D && t.Shape.Count == 2 ? new TransposedView(t) : new StoredTensorView(t);
        if (RowScales != null) v = new RowScaledView(v, RowScales, 127f, "int8 × SCB / 127");
        return v;
    }

    /// <summary>A vector (norm weight, bias) as [1, n].</summary>
    public TensorView Vector() => Delta ?? new StoredTensorView(Tensor!);

    /// <summary>A vector as a column [n, 1], to split like a fused weight.</summary>
    public TensorView Column() => Delta ?? new SliceView(Tensor!, 0, Tensor!.ElementCount, 1);
}

/// <summary>Where a tensor goes.</summary>
internal abstract record Target;

/// <summary>A per-layer tensor: its stack, layer, a canonical key (q, k, qkv, gate_up, attn_norm …), the expert
/// it belongs to (<see cref="NoExpert"/>, <see cref="SharedExpert"/> or a routed expert index) and whether it is a bias.</summary>
internal sealed record LayerTarget(string Stack, int Layer, string Key, int Expert = LayerTarget.NoExpert, bool Bias = false) : Target
{
    public const int NoExpert = -1;
    public const int SharedExpert = -2;
}

/// <summary>A model-level tensor.</summary>
internal sealed record ModelTarget(ModelRole Role) : Target;

/// <summary>A tensor understood but given no role.</summary>
internal sealed record IgnoreTarget(string Reason) : Target;

/// <summary>Fused qkv layouts (rows of the canonical [out, in] matrix).</summary>
internal enum QkvLayout
{
    /// <summary>[q (heads·d); k (kv·d); v (kv·d)]: Phi-3, GGUF attn_qkv, GPT-2 c_attn (thirds).</summary>
    Concatenated,

    /// <summary>[heads, 3, d]: per head q, k, v (GPT-NeoX/Pythia, BLOOM, Falcon-RW).</summary>
    PerHead,

    /// <summary>[heads q; 1 k; 1 v] (Falcon-7B multi-query).</summary>
    FalconMultiQuery,

    /// <summary>[kv groups, q-per-kv + 2, d]: each group's queries, then its key, then its value (Falcon-40B/180B).</summary>
    FalconGrouped,
}

/// <summary>MLA (DeepSeek-V2/V3) head sizes.</summary>
internal sealed record MlaGeometry(int QkNopeHeadDim, int QkRopeHeadDim, int VHeadDim, int QLoraRank, int KvLoraRank);

/// <summary>How a family stores its layer tensors.</summary>
internal sealed record LayerLayout
{
    public QkvLayout Qkv { get; init; } = QkvLayout.Concatenated;

    /// <summary>Matrices are stored [in, out] (GPT-2's Conv1D).</summary>
    public bool Conv1D { get; init; }

    /// <summary>Q and K rows are in interleaved RoPE order (llama2.c, Meta's original Llama, llama.cpp's llama
    /// conversion) and are un-permuted to Hugging Face's rotate-half order.</summary>
    public bool RopeInterleaved { get; init; }

    /// <summary>An up projection without a gate may hold [gate; up] (llama.cpp's Phi-3 ffn_up).</summary>
    public bool UpMayHoldGate { get; init; }

    /// <summary>Experts form this many groups of consecutive experts (Pangu Pro MoE); 0 when not grouped.</summary>
    public int ExpertGroups { get; init; }

    public MlaGeometry? Mla { get; init; }
}

/// <summary>The tensors of one layer, by canonical key, before they become views.</summary>
internal sealed class LayerParts(string stack, int index)
{
    public string Stack { get; } = stack;

    public int Index { get; } = index;

    public Dictionary<string, WeightSource> Weights { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, WeightSource> Biases { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-expert tensors: key <see cref="LayerTarget.SharedExpert"/> for the shared expert.</summary>
    public SortedDictionary<int, Dictionary<string, WeightSource>> Experts { get; } = [];
}

/// <summary>Everything a mapping may consult while building a view.</summary>
internal sealed class MappingContext(Checkpoint checkpoint, ModelConfig config, IReadOnlyList<WeightSource> sources)
{
    private readonly HashSet<string> _noteSet = new(StringComparer.Ordinal);

    public Checkpoint Checkpoint { get; } = checkpoint;

    public ModelConfig Config { get; } = config;

    public IReadOnlyList<WeightSource> Sources { get; } = sources;

    public List<string> Notes { get; } = [];

    public bool IsGguf => Checkpoint.Format.Contains("gguf", StringComparison.Ordinal);

    public string? GgufArchitecture => MetaString("general.architecture");

    /// <summary>Adds a note once.</summary>
    public void Note(string note)
    {
        if (_noteSet.Add(note)) Notes.Add(note);
    }

    public bool AnyName(Func<string, bool> predicate) => Sources.Any(s => predicate(s.Name));

    public string? MetaString(string key) => Checkpoint.Metadata.TryGetValue(key, out var v) ? v as string : null;

    public int? MetaInt(string key) => Checkpoint.Metadata.TryGetValue(key, out var v) ? v switch
    {
        long l when l is >= 0 and <= int.MaxValue => (int)l,
        ulong u when u <= int.MaxValue => (int)u,
        int i => i,
        uint u32 when u32 <= int.MaxValue => (int)u32,
        short s => s,
        ushort us => us,
        byte b => b,
        sbyte sb => sb,
        object[] { Length: > 0 } a => a.Select(x => x switch { long l => (int?)l, ulong u => (int)u, int i => i, uint u => (int)u, _ => null }).FirstOrDefault(x => x > 0),
        _ => null,
    } : null;
}
