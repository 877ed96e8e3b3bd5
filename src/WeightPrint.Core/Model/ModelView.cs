using WeightPrint.Formats;

namespace WeightPrint.Model;

/// <summary>
/// The canonical view of a checkpoint: architecture, geometry, and per layer the Q, K, V, O, MLP and norm
/// tensors in Hugging Face orientation and element order, whatever the file calls or lays them out as.
/// </summary>
public sealed class ModelView(Checkpoint checkpoint, string architecture, AttentionGeometry geometry, IReadOnlyList<LayerView> layers,
    IReadOnlyDictionary<ModelRole, TensorView> modelTensors, IReadOnlyList<string> unrecognised, IReadOnlyList<string> notes)
{
    public Checkpoint Checkpoint { get; } = checkpoint;

    /// <summary>Detected family ("llama", "qwen2", "gpt2", "mixtral" …) or "unknown".</summary>
    public string Architecture { get; } = architecture;

    public AttentionGeometry Geometry { get; } = geometry;

    /// <summary>Transformer blocks in depth order (encoder blocks first for encoder-decoder models).</summary>
    public IReadOnlyList<LayerView> Layers { get; } = layers;

    public IReadOnlyDictionary<ModelRole, TensorView> ModelTensors { get; } = modelTensors;

    /// <summary>Tensors that map to no role (reported, never silently ignored).</summary>
    public IReadOnlyList<string> UnrecognisedTensors { get; } = unrecognised;

    /// <summary>Plain-language notes about how the view was built (fallbacks, un-permutations, assumptions).</summary>
    public IReadOnlyList<string> Notes { get; } = notes;

    /// <summary>Layers of the main (decoder) stack; for decoder-only models, all layers.</summary>
    public IReadOnlyList<LayerView> DecoderLayers => Layers.Where(l => l.Stack == "decoder").ToList();

    public TensorView? Get(ModelRole role) => ModelTensors.GetValueOrDefault(role);
}
