using System.Text.Json;
using WeightPrint.Formats.Gguf;
using WeightPrint.Formats.Llama2c;
using WeightPrint.Formats.PyTorch;
using WeightPrint.Formats.Safetensors;
using WeightPrint.Formats.Tokenizers;
using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Formats;

/// <summary>
/// Opens what a user points at: a file (detected by content, not extension) or a Hugging Face folder
/// (single or sharded safetensors, torch .bin, PEFT adapter, GGUF), with config.json and tokenizer.json,
/// Local only: <c>hf:</c> references are opened one layer up, by <c>WeightPrint.Loading.ModelSource</c>.
/// </summary>
internal static class CheckpointLoader
{
    /// <summary>Largest config.json / adapter_config.json accepted.</summary>
    public const long MaxConfigBytes = 16L << 20;

    private static readonly string[] AdapterWeightFiles = ["adapter_model.safetensors", "adapter_model.bin"];

    /// <summary>Opens a local model file or folder.
    /// Throws <see cref="InvalidModelFileException"/> for anything unreadable.</summary>
    public static Checkpoint Open(string path, Func<string, IByteSource>? openFile = null)
    {
        openFile ??= p => new MemoryMappedFileSource(p);
        if (Directory.Exists(path)) return OpenFolder(new LocalModelFolder(path, openFile));
        if (!File.Exists(path))
            throw new InvalidModelFileException(path, "no such file or folder" + (WeightPrint.IO.Hub.HubReference.LooksLikeBareRepoId(path) ? $"; for a model on the Hugging Face Hub write hf:{path}" : ""));
        var source = openFile(path);
        try
        {
            var checkpoint = OpenFile(source, path);
            checkpoint.Own(source);
            AttachSidecars(checkpoint, new LocalModelFolder(Path.GetDirectoryName(Path.GetFullPath(path))!, openFile), configName: "config.json");
            return checkpoint;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Detects the format of one file by its first bytes.</summary>
    public static Checkpoint OpenFile(IByteSource source, string location)
    {
        if (source.Length == 0) throw new InvalidModelFileException(location, "file is empty");
        if (GgufReader.LooksLikeGguf(source)) return GgufReader.Open(source, location);
        if (TorchArchiveReader.LooksLikeZip(source)) return TorchArchiveReader.Open(source, location);
        if (TorchArchiveReader.LooksLikeLegacyPickle(source))
            throw new InvalidModelFileException(location, "legacy torch format (a bare pickle, saved before PyTorch 1.6) is not supported; re-save it with torch.save in the zip format");
        if (SafetensorsReader.LooksLikeSafetensors(source)) return SafetensorsReader.Open(source, location);
        if (Llama2cReader.LooksLikeLlama2c(source)) return Llama2cReader.Open(source, location);
        if (Llama2cReader.TruncatedHeaderReason(source) is { } truncated)
            throw new InvalidModelFileException(location, "truncated llama2.c checkpoint: " + truncated);
        if (source.Length >= 8)
        {
            Span<byte> head = stackalloc byte[8];
            source.Read(0, head);
            ulong n = BitConverter.ToUInt64(head);
            if (n > (ulong)source.Length - 8 && n < 1UL << 40)
                return SafetensorsReader.Open(source, location); // reports the truncation precisely
        }

        throw new InvalidModelFileException(location, "unrecognised format: not safetensors, GGUF, a torch zip archive or a llama2.c checkpoint");
    }

    /// <summary>Opens a model folder (local or remote), choosing the weights by which files exist.</summary>
    public static Checkpoint OpenFolder(IModelFolder folder)
    {
        string location = folder.Location;
        Checkpoint checkpoint;
        string configName = "config.json";
        if (folder.Exists("adapter_config.json"))
        {
            configName = "adapter_config.json";
            string? weights = AdapterWeightFiles.FirstOrDefault(folder.Exists)
                ?? throw new InvalidModelFileException(location, "PEFT adapter folder has adapter_config.json but no adapter_model.safetensors or adapter_model.bin");
            checkpoint = OpenSingle(folder, weights);
            checkpoint.Format = "peft-" + checkpoint.Format;
        }
        else if (folder.Exists("model.safetensors.index.json"))
            checkpoint = OpenSharded(folder, "model.safetensors.index.json", "safetensors");
        else if (folder.Exists("model.safetensors"))
            checkpoint = OpenSingle(folder, "model.safetensors");
        else if (folder.Exists("pytorch_model.bin.index.json"))
            checkpoint = OpenSharded(folder, "pytorch_model.bin.index.json", "torch");
        else if (folder.Exists("pytorch_model.bin"))
            checkpoint = OpenSingle(folder, "pytorch_model.bin");
        else
        {
            var candidates = folder.FileNames.Where(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            if (candidates.Count == 0)
            {
                // A folder holding a single llama2.c checkpoint (a .bin that is not a torch archive) is that checkpoint.
                var bins = folder.FileNames.Where(f => f.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
                if (bins.Count == 1) candidates = bins;
                else if (bins.Count > 1)
                    throw new InvalidModelFileException(location, $"folder holds {bins.Count} .bin files and no index; name one of them: {string.Join(", ", bins)}");
            }

            if (candidates.Count == 1) checkpoint = OpenSingle(folder, candidates[0]);
            else if (candidates.Count > 1)
                throw new InvalidModelFileException(location, $"folder holds {candidates.Count} weight files and no index; name one of them: {string.Join(", ", candidates)}");
            else throw new InvalidModelFileException(location, "no weights found (expected model.safetensors, a shard index, pytorch_model.bin, a PEFT adapter, a .gguf file or a llama2.c .bin)");
        }

        try
        {
            AttachSidecars(checkpoint, folder, configName);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }

        return checkpoint;
    }

    private static Checkpoint OpenSingle(IModelFolder folder, string name)
    {
        var source = folder.Open(name);
        try
        {
            var c = OpenFile(source, folder.PathOf(name));
            var result = new Checkpoint(folder.Location, c.Format, c.Tensors, c.Metadata) { Vocabulary = c.Vocabulary };
            result.Own(source);
            return result;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static Checkpoint OpenSharded(IModelFolder folder, string indexName, string kind)
    {
        string indexPath = folder.PathOf(indexName);
        var (weightMap, shards) = ShardedIndex.Parse(indexPath, folder.ReadAllBytes(indexName, ShardedIndex.MaxIndexBytes, "index file"), folder.Exists);
        var sources = new List<IByteSource>();
        try
        {
            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, object>();
            foreach (string shard in shards)
            {
                var source = folder.Open(shard);
                sources.Add(source);
                List<TensorInfo> shardTensors;
                if (kind == "safetensors")
                {
                    var (t, m) = SafetensorsReader.ReadTensors(source);
                    shardTensors = t;
                    foreach (var (k, v) in m) metadata.TryAdd(k, v);
                }
                else shardTensors = TorchArchiveReader.ReadTensors(source);

                foreach (var t in shardTensors)
                {
                    if (!weightMap.TryGetValue(t.Name, out string? expected))
                        throw new InvalidModelFileException(indexPath, $"shard {shard} holds tensor {t.Name} which the index does not list");
                    if (expected != shard)
                        throw new InvalidModelFileException(indexPath, $"tensor {t.Name} is in shard {shard} but the index places it in {expected}");
                    tensors.Add(t);
                }
            }

            if (tensors.Count != weightMap.Count)
            {
                var found = tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
                string missing = weightMap.Keys.First(k => !found.Contains(k));
                throw new InvalidModelFileException(indexPath, $"tensor {missing} is listed in the index but missing from shard {weightMap[missing]}");
            }

            var checkpoint = new Checkpoint(folder.Location, kind + "-sharded", tensors, metadata);
            foreach (var s in sources) checkpoint.Own(s);
            return checkpoint;
        }
        catch
        {
            foreach (var s in sources) s.Dispose();
            throw;
        }
    }

    private static void AttachSidecars(Checkpoint checkpoint, IModelFolder folder, string configName)
    {
        if (checkpoint.Config == null && folder.Exists(configName))
            checkpoint.Config = ParseJson(folder.PathOf(configName), configName, folder.ReadAllBytes(configName, MaxConfigBytes, configName));
        if (checkpoint.Vocabulary == null && folder.Exists("tokenizer.json"))
            checkpoint.Vocabulary = TokenizerJson.Parse(folder.PathOf("tokenizer.json"), folder.ReadAllBytes("tokenizer.json", TokenizerJson.MaxBytes, "tokenizer.json"));
    }

    /// <summary>Reads a small JSON file (config.json) with a size cap.</summary>
    public static JsonElement ReadJson(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxConfigBytes) throw new InvalidModelFileException(path, $"{info.Name} of {info.Length} bytes exceeds the {MaxConfigBytes}-byte limit");
        return ParseJson(path, info.Name, File.ReadAllBytes(path));
    }

    private static JsonElement ParseJson(string path, string name, byte[] bytes)
    {
        using var doc = UntrustedJson.Parse(path, name, bytes);
        return doc.RootElement.Clone();
    }
}
