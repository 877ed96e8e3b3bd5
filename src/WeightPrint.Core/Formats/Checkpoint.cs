using System.Text.Json;
using WeightPrint.IO;

namespace WeightPrint.Formats;

/// <summary>
/// What a format reader returns: the tensor index of a model (one file or a sharded folder), its metadata,
/// its config.json and vocabulary when present. Owns and disposes its byte sources.
/// </summary>
internal sealed class Checkpoint : IDisposable
{
    private readonly Dictionary<string, TensorInfo> _byName;
    private readonly List<IDisposable> _owned = [];

    /// <summary>Most tensors one checkpoint may hold, in every format (the largest public checkpoints hold about
    /// 10⁵). Readers check it while parsing, before the per-tensor work; this constructor checks it for all.</summary>
    public const int MaxTensors = 1 << 20;

    public Checkpoint(string location, string format, IReadOnlyList<TensorInfo> tensors,
        IReadOnlyDictionary<string, object>? metadata = null)
    {
        CheckTensorCount(location, tensors.Count);
        Location = location;
        Format = format;
        Tensors = tensors;
        Metadata = metadata ?? new Dictionary<string, object>();
        _byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!_byName.TryAdd(t.Name, t))
                throw new InvalidModelFileException(location, $"duplicate tensor name '{t.Name}'");
        }
    }

    /// <summary>Throws the one clear error for a tensor count beyond <see cref="MaxTensors"/>.</summary>
    public static void CheckTensorCount(string location, long count)
    {
        if (count > MaxTensors) throw new InvalidModelFileException(location, $"the file declares {count} tensors, more than the limit of {MaxTensors}");
    }

    /// <summary>The path (file or folder) or URL the user gave.</summary>
    public string Location { get; }

    /// <summary>Container format: safetensors, gguf, torch, llama2c, with a qualifier where useful.</summary>
    public string Format { get; set; }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>Format metadata: safetensors <c>__metadata__</c> (strings), GGUF key/values (string, long, ulong,
    /// double, bool, or object[] for arrays), or derived facts (llama2c header fields).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>The parsed config.json beside the weights (or adapter_config.json for a PEFT adapter).</summary>
    public JsonElement? Config { get; set; }

    /// <summary>Token strings by id, from tokenizer.json or GGUF <c>tokenizer.ggml.tokens</c>.</summary>
    public IReadOnlyList<string>? Vocabulary { get; set; }

    /// <summary>The files the tensors come from, for reporting (path and size).</summary>
    public IReadOnlyList<IByteSource> Files => _owned.OfType<IByteSource>().ToList();

    public long TotalBytes => Files.Sum(f => f.Length);

    /// <summary>Number of stored values over all tensors (the parameter count users see).</summary>
    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    public TensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Hands a resource (usually a byte source) to the checkpoint to dispose.</summary>
    public void Own(IDisposable resource) => _owned.Add(resource);

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}
