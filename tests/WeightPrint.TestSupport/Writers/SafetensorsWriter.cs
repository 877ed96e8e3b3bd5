using System.Buffers.Binary;
using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.TestSupport;

/// <summary>
/// Test-side safetensors writer: F32 / F16 / BF16 from floats (or any dtype from raw bytes), any shapes,
/// <c>__metadata__</c>, and a header-only mode whose data region is a sparse hole made with
/// <see cref="FileStream.SetLength"/> (the file has its full logical size but uses no disk for data).
/// Also writes sharded folders with a <c>model.safetensors.index.json</c>.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<Entry> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, TensorDType DType, long[] Shape, byte[]? Data);

    public IReadOnlyList<string> Names => _tensors.Select(t => t.Name).ToList();

    /// <summary>Adds a float tensor stored as <paramref name="dtype"/> (F32, F16 or BF16, rounded to nearest even);
    /// <paramref name="values"/> null means zeros (or nothing, in header-only mode).</summary>
    public SafetensorsWriter Add(string name, float[]? values, params long[] shape) => Add(name, TensorDType.F32, values, shape);

    public SafetensorsWriter Add(string name, TensorDType dtype, float[]? values, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (values != null && values.Length != count) throw new ArgumentException($"{name}: {values.Length} values for shape [{string.Join(", ", shape)}]");
        _tensors.Add(new Entry(name, dtype, shape, values == null ? null : Encode(dtype, values)));
        return this;
    }

    /// <summary>Adds a tensor from raw little-endian bytes of any dtype (null: header only / zeros).</summary>
    public SafetensorsWriter AddRaw(string name, TensorDType dtype, byte[]? bytes, params long[] shape)
    {
        _tensors.Add(new Entry(name, dtype, shape, bytes));
        return this;
    }

    public SafetensorsWriter Metadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>Writes the file. <paramref name="headerOnly"/>: the data region is a hole (no tensor bytes written).</summary>
    public long Write(string path, bool headerOnly = false)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        return Write(fs, headerOnly);
    }

    /// <summary>The whole file as bytes.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Write(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the file to a seekable stream (a hole where data is null or <paramref name="headerOnly"/>).</summary>
    public long Write(Stream fs, bool headerOnly = false)
    {
        long dataLength = WriteHeader(fs, _tensors.Select(t => (t.Name, t.DType, t.Shape)), _metadata);
        long headerEnd = fs.Position;
        if (headerOnly)
        {
            fs.SetLength(headerEnd + dataLength);
            return fs.Length;
        }

        foreach (var t in _tensors)
        {
            long bytes = ByteLength(t);
            if (t.Data != null)
            {
                if (t.Data.Length != bytes) throw new InvalidOperationException($"{t.Name}: {t.Data.Length} bytes for {bytes}");
                fs.Write(t.Data);
            }
            else fs.Seek(bytes, SeekOrigin.Current);
        }

        fs.SetLength(headerEnd + dataLength);
        return fs.Length;
    }

    /// <summary>Writes the tensors into shards (tensor name → shard file name) plus model.safetensors.index.json.</summary>
    public void WriteSharded(string folder, Func<string, string> shardOf, bool headerOnly = false)
    {
        var groups = _tensors.GroupBy(t => shardOf(t.Name)).ToList();
        foreach (var g in groups)
        {
            var w = new SafetensorsWriter();
            foreach (var (k, v) in _metadata) w.Metadata(k, v);
            foreach (var t in g) w._tensors.Add(t);
            w.Write(Path.Combine(folder, g.Key), headerOnly);
        }

        using var stream = File.Create(Path.Combine(folder, "model.safetensors.index.json"));
        using var j = new Utf8JsonWriter(stream);
        j.WriteStartObject();
        j.WriteStartObject("metadata");
        j.WriteNumber("total_size", _tensors.Sum(ByteLength));
        j.WriteEndObject();
        j.WriteStartObject("weight_map");
        foreach (var t in _tensors) j.WriteString(t.Name, shardOf(t.Name));
        j.WriteEndObject();
        j.WriteEndObject();
    }

    /// <summary>
    /// Writes a safetensors prefix (8-byte little-endian header length, then the JSON header padded with spaces to a
    /// multiple of 8) for tensors stored back to back in the given order, and returns the data region's length. The
    /// caller writes the tensor bytes after it, in the same order (bench's generator streams them).
    /// </summary>
    public static long WriteHeader(Stream output, IEnumerable<(string Name, TensorDType DType, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        long offset = 0;
        using (var j = new Utf8JsonWriter(ms))
        {
            j.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                j.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) j.WriteString(k, v);
                j.WriteEndObject();
            }

            foreach (var (name, dtype, shape) in tensors)
            {
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * dtype.BlockBytes();
                j.WriteStartObject(name);
                j.WriteString("dtype", dtype.Name());
                j.WriteStartArray("shape");
                foreach (long d in shape) j.WriteNumberValue(d);
                j.WriteEndArray();
                j.WriteStartArray("data_offsets");
                j.WriteNumberValue(offset);
                j.WriteNumberValue(offset + bytes);
                j.WriteEndArray();
                j.WriteEndObject();
                offset += bytes;
            }

            j.WriteEndObject();
        }

        while (ms.Length % 8 != 0) ms.WriteByte((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)ms.Length);
        output.Write(len);
        ms.Position = 0;
        ms.CopyTo(output);
        return offset;
    }

    private static long ByteLength(Entry t) => t.Shape.Aggregate(1L, (a, b) => a * b) * t.DType.BlockBytes();

    /// <summary>Floats encoded as F32, F16 or BF16 (round to nearest even) little-endian bytes.</summary>
    public static byte[] Encode(TensorDType dtype, float[] values)
    {
        switch (dtype)
        {
            case TensorDType.F32:
            {
                var b = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
                return b;
            }

            case TensorDType.F16:
            {
                var b = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(2 * i), (Half)values[i]);
                return b;
            }

            case TensorDType.BF16:
            {
                var b = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2 * i), ToBf16Bits(values[i]));
                return b;
            }

            default:
                throw new ArgumentException($"floats cannot be encoded as {dtype}; use AddRaw", nameof(dtype));
        }
    }

    /// <summary>bfloat16 bits of <paramref name="f"/>, rounded to nearest even (NaN kept quiet).</summary>
    public static ushort ToBf16Bits(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary><paramref name="f"/> rounded to bfloat16 and back.</summary>
    public static float RoundToBf16(float f) => BitConverter.Int32BitsToSingle(ToBf16Bits(f) << 16);
}
