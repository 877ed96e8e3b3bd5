using System.Text.Json;
using WeightPrint.IO;

namespace WeightPrint.Formats.Safetensors;

/// <summary>
/// A Hugging Face shard index (<c>model.safetensors.index.json</c> or <c>pytorch_model.bin.index.json</c>):
/// <c>weight_map</c> from tensor name to a shard file inside the same folder.
/// </summary>
internal static class ShardedIndex
{
    /// <summary>Largest index file accepted.</summary>
    public const long MaxIndexBytes = 64L << 20;

    /// <summary>Reads and validates the index: every shard a plain file name inside <paramref name="folder"/>
    /// that exists. Returns tensor name → shard file name, and the ordered distinct shard names.</summary>
    public static (Dictionary<string, string> WeightMap, List<string> Shards) Read(string indexPath, string folder)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > MaxIndexBytes) throw new InvalidModelFileException(indexPath, $"index file of {info.Length} bytes exceeds the {MaxIndexBytes}-byte limit");
        return Parse(indexPath, File.ReadAllBytes(indexPath), s => File.Exists(Path.Combine(folder, s)));
    }

    /// <summary>Validates index bytes already read (at most <see cref="MaxIndexBytes"/>); <paramref name="shardExists"/>
    /// says whether a shard file is present beside the index.</summary>
    public static (Dictionary<string, string> WeightMap, List<string> Shards) Parse(string indexPath, byte[] json, Func<string, bool> shardExists)
    {
        var doc = UntrustedJson.Parse(indexPath, "index", json);

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidModelFileException(indexPath, "index has no weight_map object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            var shards = new List<string>();
            var shardSet = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new InvalidModelFileException(indexPath, $"weight_map entry for {p.Name} is not a string");
                string shard = p.Value.GetString()!;
                ValidateShardName(indexPath, shard);
                if (!weightMap.TryAdd(p.Name, shard)) throw new InvalidModelFileException(indexPath, $"tensor {p.Name} appears twice in weight_map");
                if (shardSet.Add(shard)) shards.Add(shard);
            }

            foreach (var s in shards)
            {
                if (!shardExists(s)) throw new InvalidModelFileException(indexPath, $"shard {s} named in the index does not exist");
            }

            return (weightMap, shards);
        }
    }

    /// <summary>Rejects anything but a plain file name: no separators, no '..', not absolute, no NUL.</summary>
    public static void ValidateShardName(string indexPath, string shard)
    {
        if (shard.Length == 0 || shard.Length > 255 || shard == "." || shard == ".." || shard.Contains('/') || shard.Contains('\\')
            || shard.Contains('\0') || shard.Contains(':') || Path.IsPathRooted(shard))
            throw new InvalidModelFileException(indexPath, $"shard name '{shard}' is not a plain file name inside the folder");
    }
}
