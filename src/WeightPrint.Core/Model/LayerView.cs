namespace WeightPrint.Model;

/// <summary>One transformer block: its canonical tensors and, for MoE blocks, its experts.</summary>
public sealed class LayerView(int index, string stack, IReadOnlyDictionary<TensorRole, TensorView> tensors, IReadOnlyList<ExpertView>? experts = null)
{
    /// <summary>Index within its stack.</summary>
    public int Index { get; } = index;

    /// <summary>"decoder" for decoder-only models; "encoder" or "decoder" for encoder-decoder models.</summary>
    public string Stack { get; } = stack;

    public IReadOnlyDictionary<TensorRole, TensorView> Tensors { get; } = tensors;

    public IReadOnlyList<ExpertView> Experts { get; } = experts ?? [];

    public TensorView? Get(TensorRole role) => Tensors.GetValueOrDefault(role);
}

/// <summary>One MoE expert's MLP (gate, up, down); <see cref="IsShared"/> for always-on shared experts.</summary>
public sealed class ExpertView(int index, bool isShared, IReadOnlyDictionary<TensorRole, TensorView> tensors)
{
    public int Index { get; } = index;

    public bool IsShared { get; } = isShared;

    public IReadOnlyDictionary<TensorRole, TensorView> Tensors { get; } = tensors;

    public TensorView? Get(TensorRole role) => Tensors.GetValueOrDefault(role);
}
