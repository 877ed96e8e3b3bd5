namespace WeightPrint.Model;

/// <summary>One transformer block: its canonical tensors and, for MoE blocks, its experts.</summary>
internal sealed class LayerView(int index, string stack, IReadOnlyDictionary<TensorRole, TensorView> tensors, IReadOnlyList<ExpertView>? experts = null,
    IReadOnlyDictionary<TensorRole, TensorView>? biases = null)
{
    /// <summary>Index within its stack.</summary>
    public int Index { get; } = index;

    /// <summary>"decoder" for decoder-only models; "encoder" or "decoder" for encoder-decoder models; "encoder"
    /// for encoder-only models (BERT).</summary>
    public string Stack { get; } = stack;

    public IReadOnlyDictionary<TensorRole, TensorView> Tensors { get; } = tensors;

    public IReadOnlyList<ExpertView> Experts { get; } = experts ?? [];

    /// <summary>Bias vectors ([1, n]) of the roles that have one (Qwen2's q/k/v, GPT-2, BERT …), split like
    /// their weights.</summary>
    public IReadOnlyDictionary<TensorRole, TensorView> Biases { get; } = biases ?? new Dictionary<TensorRole, TensorView>();

    public TensorView? Get(TensorRole role) => Tensors.GetValueOrDefault(role);

    public TensorView? GetBias(TensorRole role) => Biases.GetValueOrDefault(role);
}

/// <summary>One MoE expert's MLP (gate, up, down); <see cref="IsShared"/> for always-on shared experts.</summary>
internal sealed class ExpertView(int index, bool isShared, IReadOnlyDictionary<TensorRole, TensorView> tensors, int group = -1)
{
    public int Index { get; } = index;

    public bool IsShared { get; } = isShared;

    public IReadOnlyDictionary<TensorRole, TensorView> Tensors { get; } = tensors;

    /// <summary>Expert group for grouped-expert models (Pangu Pro MoE's MoGE); -1 when experts are not grouped.</summary>
    public int Group { get; } = group;

    public TensorView? Get(TensorRole role) => Tensors.GetValueOrDefault(role);
}
