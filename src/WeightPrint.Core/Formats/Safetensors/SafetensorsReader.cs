using System.Text.Json;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.Safetensors;

/// <summary>
/// Reads a safetensors file: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data.
/// Validates as the reference implementation does: header size cap, known dtypes, shapes whose byte size
/// matches the offsets, offsets contiguous from 0 and non-overlapping, header + data = file size.
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Most dimensions a tensor may have.</summary>
    public const int MaxRank = 16;

    /// <summary>True when the first bytes look like a safetensors header (length then '{').</summary>
    public static bool LooksLikeSafetensors(IByteSource source)
    {
        if (source.Length < 10) return false;
        Span<byte> head = stackalloc byte[9];
        source.Read(0, head);
        ulong n = BitConverter.ToUInt64(head);
        return n >= 2 && n <= MaxHeaderBytes && (long)n <= source.Length - 8 && head[8] == (byte)'{';
    }

    /// <summary>Parses the header and returns the tensor index (no tensor data is read).</summary>
    public static Checkpoint Open(IByteSource source, string? location = null)
    {
        var (tensors, metadata) = ReadTensors(source);
        return new Checkpoint(location ?? source.Name, "safetensors", tensors, metadata);
    }

    /// <summary>Parses one file's header into tensor infos and its <c>__metadata__</c>.</summary>
    public static (List<TensorInfo> Tensors, Dictionary<string, object> Metadata) ReadTensors(IByteSource source)
    {
        string file = source.Name;
        if (source.Length < 8) throw new InvalidModelFileException(file, $"file of {source.Length} bytes is too small to be safetensors (needs an 8-byte header length)");
        var cursor = new ByteCursor(source);
        ulong headerLength = cursor.ReadUInt64();
        if (headerLength > MaxHeaderBytes)
            throw new InvalidModelFileException(file, $"safetensors header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > source.Length - 8)
            throw new InvalidModelFileException(file, $"safetensors header claims {headerLength} bytes but the file has only {source.Length - 8} after the length field (truncated file)");
        byte[] json = cursor.ReadBytes((long)headerLength, MaxHeaderBytes, "safetensors header");
        long dataStart = 8 + (long)headerLength;
        long dataLength = source.Length - dataStart;

        var doc = UntrustedJson.Parse(file, "safetensors header", json, maxDepth: 16);

        var tensors = new List<TensorInfo>();
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        var spans = new List<(long Begin, long End, string Name)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidModelFileException(file, "safetensors header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                Checkpoint.CheckTensorCount(file, seen.Count + 1L);
                if (!seen.Add(prop.Name)) throw new InvalidModelFileException(file, $"duplicate tensor name '{prop.Name}' in safetensors header");
                if (prop.Name == "__metadata__")
                {
                    ReadMetadata(file, prop.Value, metadata);
                    continue;
                }

                var (dtype, shape, begin, end) = ParseEntry(file, prop.Name, prop.Value);
                long expected;
                try
                {
                    long count = 1;
                    foreach (long d in shape) count = checked(count * d);
                    expected = checked(count * dtype.BlockBytes());
                }
                catch (OverflowException)
                {
                    throw new InvalidModelFileException(file, $"tensor {prop.Name}: shape [{string.Join(", ", shape)}] overflows");
                }

                if (end - begin != expected)
                    throw new InvalidModelFileException(file, $"tensor {prop.Name}: shape [{string.Join(", ", shape)}] of {dtype.Name()} needs {expected} bytes but data_offsets [{begin}, {end}] give {end - begin}");
                if (end > dataLength)
                    throw new InvalidModelFileException(file, $"tensor {prop.Name}: data_offsets end {end} is past the end of the data ({dataLength} bytes): the file is truncated");
                spans.Add((begin, end, prop.Name));
                tensors.Add(new TensorInfo(prop.Name, dtype, shape, source, dataStart + begin));
            }
        }

        // Offsets must tile the data exactly: sorted, contiguous from 0, no gaps or overlaps, ending at the file end.
        spans.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        foreach (var (begin, end, name) in spans)
        {
            if (begin != position)
                throw new InvalidModelFileException(file, begin < position
                    ? $"tensor {name} overlaps the previous tensor (offset {begin} < {position})"
                    : $"tensor {name} starts at {begin}, leaving a gap after offset {position} (offsets must be contiguous)");
            position = end;
        }

        if (position != dataLength)
            throw new InvalidModelFileException(file, $"header describes {position} bytes of data but the file holds {dataLength} (header + data must equal the file size)");
        return (tensors, metadata);
    }

    private static (TensorDType DType, long[] Shape, long Begin, long End) ParseEntry(string file, string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(file, $"tensor {name}: entry is not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new InvalidModelFileException(file, $"tensor {name}: missing dtype");
        var dtype = ParseDType(dt.GetString()!) ?? throw new InvalidModelFileException(file, $"unsupported dtype {dt.GetString()} in tensor {name}");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new InvalidModelFileException(file, $"tensor {name}: missing shape");
        if (sh.GetArrayLength() > MaxRank) throw new InvalidModelFileException(file, $"tensor {name}: rank {sh.GetArrayLength()} exceeds {MaxRank}");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw new InvalidModelFileException(file, $"tensor {name}: shape entry {d} is not a non-negative integer");
            shape[i++] = v;
        }

        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidModelFileException(file, $"tensor {name}: data_offsets must be [begin, end]");
        long begin = ReadOffset(file, name, off[0]), end = ReadOffset(file, name, off[1]);
        if (end < begin) throw new InvalidModelFileException(file, $"tensor {name}: data_offsets end {end} is before begin {begin}");
        return (dtype, shape, begin, end);
    }

    private static long ReadOffset(string file, string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v) || v < 0)
            throw new InvalidModelFileException(file, $"tensor {name}: data offset {e} is not a non-negative integer");
        return v;
    }

    private static void ReadMetadata(string file, JsonElement e, Dictionary<string, object> metadata)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(file, "__metadata__ is not an object");
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new InvalidModelFileException(file, $"__metadata__ value for '{p.Name}' is not a string");
            metadata[p.Name] = p.Value.GetString()!;
        }
    }

    /// <summary>Maps a safetensors dtype string to a <see cref="TensorDType"/>; null when unsupported.</summary>
    public static TensorDType? ParseDType(string s) => s switch
    {
        "F64" => TensorDType.F64,
        "F32" => TensorDType.F32,
        "F16" => TensorDType.F16,
        "BF16" => TensorDType.BF16,
        "F8_E4M3" => TensorDType.F8_E4M3,
        "F8_E5M2" => TensorDType.F8_E5M2,
        "I64" => TensorDType.I64,
        "I32" => TensorDType.I32,
        "I16" => TensorDType.I16,
        "I8" => TensorDType.I8,
        "U8" => TensorDType.U8,
        "BOOL" => TensorDType.Bool,
        _ => null,
    };
}
