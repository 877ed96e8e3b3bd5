using WeightPrint.Formats;

namespace WeightPrint.Model;

/// <summary>A tensor the view understood but gave no role (buffers, task heads, quantisation state, a vision
/// tower), with the reason.</summary>
internal sealed record IgnoredTensor(string Name, string Reason);

/// <summary>
/// The canonical view of a checkpoint: architecture, geometry, and per layer the Q, K, V, O, MLP and norm
/// tensors in Hugging Face orientation and element order, whatever the file calls or lays them out as.
/// </summary>
internal sealed class ModelView(Checkpoint checkpoint, string architecture, AttentionGeometry geometry, IReadOnlyList<LayerView> layers,
    IReadOnlyDictionary<ModelRole, TensorView> modelTensors, IReadOnlyList<string> unrecognised, IReadOnlyList<string> notes,
    IReadOnlyList<IgnoredTensor>? ignored = null)
{
    /// <summary>The checkpoint behind the view, for the layers above Signals (identity checks, summaries);
    /// methods read the view's own properties (<see cref="Vocabulary"/>), never file-format types.</summary>
    public Checkpoint Checkpoint { get; } = checkpoint;

    /// <summary>Token strings by id (tokenizer.json or GGUF tokens), or null when the model ships none.</summary>
    public IReadOnlyList<string>? Vocabulary => Checkpoint.Vocabulary;

    /// <summary>Detected family ("llama", "qwen2", "gpt2", "mixtral" …), "peft-lora(family)" for an adapter
    /// described on its own, or "unknown".</summary>
    public string Architecture { get; } = architecture;

    public AttentionGeometry Geometry { get; } = geometry;

    /// <summary>Transformer blocks in depth order (encoder blocks first for encoder-decoder models).</summary>
    public IReadOnlyList<LayerView> Layers { get; } = layers;

    public IReadOnlyDictionary<ModelRole, TensorView> ModelTensors { get; } = modelTensors;

    /// <summary>Tensors that map to no role and that the view does not understand (reported, never silently ignored).</summary>
    public IReadOnlyList<string> UnrecognisedTensors { get; } = unrecognised;

    /// <summary>Tensors understood but deliberately given no role, each with its reason.</summary>
    public IReadOnlyList<IgnoredTensor> IgnoredTensors { get; } = ignored ?? [];

    /// <summary>Plain-language notes about how the view was built (fallbacks, un-permutations, assumptions).</summary>
    public IReadOnlyList<string> Notes { get; } = notes;

    /// <summary>Layers of the main stack: the decoder for decoder-only and encoder-decoder models, the encoder
    /// for encoder-only models (BERT), which have no decoder.</summary>
    public IReadOnlyList<LayerView> DecoderLayers
    {
        get
        {
            var decoder = Layers.Where(l => l.Stack == "decoder").ToList();
            return decoder.Count > 0 ? decoder : [.. Layers];
        }
    }

    public TensorView? Get(ModelRole role) => ModelTensors.GetValueOrDefault(role);
}
