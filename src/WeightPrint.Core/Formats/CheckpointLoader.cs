using System.Text.Json;
using WeightPrint.Formats.Gguf;
using WeightPrint.Formats.Llama2c;
using WeightPrint.Formats.PyTorch;
using WeightPrint.Formats.Safetensors;
using WeightPrint.Formats.Tokenizers;
using WeightPrint.IO;

namespace WeightPrint.Formats;

/// <summary>
/// Opens what a user points at: a file (detected by content, not extension) or a Hugging Face folder
/// (single or sharded safetensors, torch .bin, PEFT adapter, GGUF), with config.json and tokenizer.json.
/// </summary>
public static class CheckpointLoader
{
    /// <summary>Largest config.json / adapter_config.json accepted.</summary>
    public const long MaxConfigBytes = 16L << 20;

    private static readonly string[] AdapterWeightFiles = ["adapter_model.safetensors", "adapter_model.bin"];

    /// <summary>Opens a model file or folder. Throws <see cref="InvalidModelFileException"/> for anything unreadable.</summary>
    public static Checkpoint Open(string path, Func<string, IByteSource>? openFile = null)
    {
        openFile ??= p => new MemoryMappedFileSource(p);
        if (Directory.Exists(path)) return OpenFolder(path, openFile);
        if (!File.Exists(path)) throw new InvalidModelFileException(path, "no such file or folder");
        var source = openFile(path);
        try
        {
            var checkpoint = OpenFile(source, path);
            checkpoint.Own(source);
            AttachSidecars(checkpoint, Path.GetDirectoryName(Path.GetFullPath(path))!, configName: "config.json");
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

    private static Checkpoint OpenFolder(string folder, Func<string, IByteSource> openFile)
    {
        string F(string name) => Path.Combine(folder, name);
        Checkpoint checkpoint;
        string configName = "config.json";
        if (File.Exists(F("adapter_config.json")))
        {
            configName = "adapter_config.json";
            string? weights = AdapterWeightFiles.Select(F).FirstOrDefault(File.Exists)
                ?? throw new InvalidModelFileException(folder, "PEFT adapter folder has adapter_config.json but no adapter_model.safetensors or adapter_model.bin");
            checkpoint = OpenSingle(weights, folder, openFile);
            checkpoint.Format = "peft-" + checkpoint.Format;
        }
        else if (File.Exists(F("model.safetensors.index.json")))
            checkpoint = OpenSharded(F("model.safetensors.index.json"), folder, openFile, "safetensors");
        else if (File.Exists(F("model.safetensors")))
            checkpoint = OpenSingle(F("model.safetensors"), folder, openFile);
        else if (File.Exists(F("pytorch_model.bin.index.json")))
            checkpoint = OpenSharded(F("pytorch_model.bin.index.json"), folder, openFile, "torch");
        else if (File.Exists(F("pytorch_model.bin")))
            checkpoint = OpenSingle(F("pytorch_model.bin"), folder, openFile);
        else
        {
            var candidates = Directory.GetFiles(folder).Where(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            if (candidates.Count == 1) checkpoint = OpenSingle(candidates[0], folder, openFile);
            else if (candidates.Count > 1)
                throw new InvalidModelFileException(folder, $"folder holds {candidates.Count} weight files and no index; name one of them: {string.Join(", ", candidates.Select(Path.GetFileName))}");
            else throw new InvalidModelFileException(folder, "no weights found (expected model.safetensors, a shard index, pytorch_model.bin, a PEFT adapter or a .gguf file)");
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

    private static Checkpoint OpenSingle(string file, string location, Func<string, IByteSource> openFile)
    {
        var source = openFile(file);
        try
        {
            var c = OpenFile(source, file);
            var result = new Checkpoint(location, c.Format, c.Tensors, c.Metadata) { Vocabulary = c.Vocabulary };
            result.Own(source);
            return result;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static Checkpoint OpenSharded(string indexPath, string folder, Func<string, IByteSource> openFile, string kind)
    {
        var (weightMap, shards) = ShardedIndex.Read(indexPath, folder);
        var sources = new List<IByteSource>();
        try
        {
            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, object>();
            foreach (string shard in shards)
            {
                var source = openFile(Path.Combine(folder, shard));
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

            var checkpoint = new Checkpoint(folder, kind + "-sharded", tensors, metadata);
            foreach (var s in sources) checkpoint.Own(s);
            return checkpoint;
        }
        catch
        {
            foreach (var s in sources) s.Dispose();
            throw;
        }
    }

    private static void AttachSidecars(Checkpoint checkpoint, string folder, string configName)
    {
        string config = Path.Combine(folder, configName);
        if (checkpoint.Config == null && File.Exists(config)) checkpoint.Config = ReadJson(config);
        string tokenizer = Path.Combine(folder, "tokenizer.json");
        if (checkpoint.Vocabulary == null && File.Exists(tokenizer)) checkpoint.Vocabulary = TokenizerJson.Read(tokenizer);
    }

    /// <summary>Reads a small JSON file (config.json) with a size cap.</summary>
    public static JsonElement ReadJson(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxConfigBytes) throw new InvalidModelFileException(path, $"{info.Name} of {info.Length} bytes exceeds the {MaxConfigBytes}-byte limit");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidModelFileException(path, $"{info.Name} is not valid JSON: " + SafetensorsReader.FirstLine(e.Message));
        }
    }
}
