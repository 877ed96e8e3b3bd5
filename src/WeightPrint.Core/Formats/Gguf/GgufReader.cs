using System.Buffers.Binary;
using System.Text;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.Gguf;

/// <summary>What a GGUF header holds: version, alignment, where the data section starts, the metadata (with each
/// key's declared value type) and the tensor index (with each tensor's ggml type).</summary>
internal sealed record GgufHeader(
    uint Version,
    uint Alignment,
    long DataStart,
    IReadOnlyDictionary<string, object> Metadata,
    IReadOnlyDictionary<string, GgufValueType> MetadataTypes,
    IReadOnlyList<TensorInfo> Tensors,
    IReadOnlyList<GgmlType> TensorTypes);

/// <summary>
/// Reads GGUF v2/v3 files (little-endian): magic, version, tensor and metadata counts, metadata key/values,
/// tensor infos, then the data section at the aligned end of the tensor infos. Validates as gguf-py and
/// llama.cpp do: named limits on every count and length (checked against the bytes left in the file before
/// anything is allocated), unique keys and tensor names, at most <see cref="MaxDimensions"/> positive
/// dimensions whose element count and byte size do not overflow, quantised rows made of whole blocks, a
/// power-of-two <c>general.alignment</c>, and tensor data that is aligned, inside the file and non-overlapping.
/// GGUF dimensions list the fastest-varying one first (ne[0]); <see cref="TensorInfo.Shape"/> is outermost
/// first, so the dimensions are reversed.
/// </summary>
internal static class GgufReader
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Oldest version read (v1 used 32-bit counts and lengths).</summary>
    public const uint MinVersion = 2;

    /// <summary>Newest version read.</summary>
    public const uint MaxVersion = 3;

    /// <summary>Most tensors a file may declare.</summary>
    public const ulong MaxTensorCount = Checkpoint.MaxTensors;

    /// <summary>Most metadata key/value pairs a file may declare.</summary>
    public const ulong MaxMetadataCount = 1 << 20;

    /// <summary>Longest metadata key or tensor name in bytes (the GGUF specification's limit for keys).</summary>
    public const ulong MaxKeyBytes = ushort.MaxValue;

    /// <summary>Longest metadata string value in bytes.</summary>
    public const ulong MaxStringBytes = 1 << 26;

    /// <summary>Most elements one metadata array may have (real vocabularies and merge lists have well under a million).</summary>
    public const ulong MaxArrayLength = 1 << 24;

    /// <summary>Most metadata values (array elements included, at every depth) in one file: bounds the memory a
    /// header can make the reader allocate, whatever the file size.</summary>
    public const long MaxMetadataValues = 1 << 24;

    /// <summary>Deepest nesting of metadata arrays (an array of arrays of scalars has depth 2).</summary>
    public const int MaxNestingDepth = 8;

    /// <summary>Most dimensions a tensor may have (ggml's GGML_MAX_DIMS).</summary>
    public const int MaxDimensions = 4;

    /// <summary>Data alignment when <c>general.alignment</c> is absent.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>Bytes of the fixed header: magic, version, tensor count, metadata count.</summary>
    public const int FixedHeaderBytes = 24;

    public const string AlignmentKey = "general.alignment";

    public const string TokensKey = "tokenizer.ggml.tokens";

    /// <summary>The smallest encoding of a tensor info: empty name (8), n_dims (4), type (4), offset (8).</summary>
    private const int MinTensorInfoBytes = 24;

    /// <summary>The smallest encoding of a key/value pair: empty key (8), type (4), one-byte value (1).</summary>
    private const int MinKeyValueBytes = 13;

    public static bool LooksLikeGguf(IByteSource source)
    {
        if (source.Length < 4) return false;
        Span<byte> b = stackalloc byte[4];
        source.Read(0, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b) == Magic;
    }

    /// <summary>Parses the header and returns the tensor index, metadata and vocabulary (no tensor data is read).</summary>
    public static Checkpoint Open(IByteSource source, string? location = null)
    {
        var header = ReadHeader(source);
        return new Checkpoint(location ?? source.Name, "gguf", header.Tensors, header.Metadata)
        {
            Vocabulary = VocabularyOf(header.Metadata),
        };
    }

    /// <summary>Parses and validates a GGUF header. Throws <see cref="InvalidModelFileException"/> for anything wrong.</summary>
    public static GgufHeader ReadHeader(IByteSource source)
    {
        string file = source.Name;
        if (source.Length < FixedHeaderBytes)
            throw new InvalidModelFileException(file, $"file of {source.Length} bytes is too small to be GGUF (the fixed header is {FixedHeaderBytes} bytes)");
        var r = new HeaderReader(source);
        uint magic = r.U32();
        if (magic != Magic) throw new InvalidModelFileException(file, $"not a GGUF file: magic 0x{magic:X8} is not \"GGUF\"");
        uint version = r.U32();
        CheckVersion(file, version);

        ulong tensorCount = r.U64();
        ulong kvCount = r.U64();
        if (tensorCount > MaxTensorCount)
            throw new InvalidModelFileException(file, $"GGUF header declares {tensorCount} tensors, more than the limit of {MaxTensorCount}");
        if (kvCount > MaxMetadataCount)
            throw new InvalidModelFileException(file, $"GGUF header declares {kvCount} metadata entries, more than the limit of {MaxMetadataCount}");
        // Each entry takes at least a few bytes: a count the rest of the file cannot hold is a lie (or a truncation).
        if ((tensorCount * MinTensorInfoBytes) + (kvCount * MinKeyValueBytes) > (ulong)r.Remaining)
            throw new InvalidModelFileException(file, $"GGUF header declares {kvCount} metadata entries and {tensorCount} tensors, which cannot fit in the {r.Remaining} bytes after the header (truncated file?)");

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        var types = new Dictionary<string, GgufValueType>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = r.Key("metadata key");
            uint type = r.U32();
            if (type > (uint)GgufValueType.Float64)
                throw new InvalidModelFileException(file, $"metadata key {key} has unknown value type {type}");
            object value = r.Value((GgufValueType)type, key, depth: 0);
            if (!metadata.TryAdd(key, value)) throw new InvalidModelFileException(file, $"duplicate metadata key '{key}'");
            types[key] = (GgufValueType)type;
        }

        uint alignment = DefaultAlignment;
        if (metadata.TryGetValue(AlignmentKey, out object? alignValue))
        {
            if (types[AlignmentKey] != GgufValueType.UInt32)
                throw new InvalidModelFileException(file, $"{AlignmentKey} has type {types[AlignmentKey]}; it must be uint32");
            long a = (long)alignValue;
            if (a == 0 || (a & (a - 1)) != 0)
                throw new InvalidModelFileException(file, $"{AlignmentKey} is {a}; it must be a non-zero power of two");
            alignment = (uint)a;
        }

        var tensors = new List<TensorInfo>();
        var ggmlTypes = new List<GgmlType>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pending = new List<(string Name, TensorDType DType, long[] Shape, ulong Offset, long Bytes)>();
        Span<ulong> ne = stackalloc ulong[MaxDimensions];
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = r.Key("tensor name");
            uint nDims = r.U32();
            if (nDims > MaxDimensions)
                throw new InvalidModelFileException(file, $"tensor {name} has {nDims} dimensions; at most {MaxDimensions} are allowed");
            for (int d = 0; d < nDims; d++) ne[d] = r.U64();
            uint type = r.U32();
            ulong offset = r.U64();
            if (!names.Add(name)) throw new InvalidModelFileException(file, $"duplicate tensor name '{name}'");

            var shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                if (ne[d] == 0) throw new InvalidModelFileException(file, $"tensor {name} has a zero dimension (ne[{d}] = 0)");
                if (ne[d] > long.MaxValue)
                    throw new InvalidModelFileException(file, $"tensor {name} has dimension ne[{d}] = {ne[d]}, which is negative as a signed 64-bit count");
                shape[nDims - 1 - d] = (long)ne[d];
                if (elements > long.MaxValue / (long)ne[d])
                    throw new InvalidModelFileException(file, $"tensor {name}: dimensions [{DimsText(ne[..(int)nDims])}] overflow a 64-bit element count");
                elements *= (long)ne[d];
            }

            var dtype = GgmlTypes.ToTensorDType(type) ?? throw new InvalidModelFileException(file,
                GgmlTypes.Name(type) is { } typeName
                    ? $"unsupported quantisation {typeName} (ggml type {type}) in tensor {name}"
                    : $"unsupported quantisation: unknown ggml type {type} in tensor {name}");
            int block = dtype.BlockElements();
            long rowLength = nDims == 0 ? 1 : (long)ne[0];
            if (rowLength % block != 0)
                throw new InvalidModelFileException(file, $"tensor {name}: ne[0] = {rowLength} is not a multiple of the {dtype.Name()} block size {block}");
            long bytes;
            try
            {
                bytes = dtype.ByteLengthOf(elements);
            }
            catch (OverflowException)
            {
                throw new InvalidModelFileException(file, $"tensor {name}: dimensions [{DimsText(ne[..(int)nDims])}] of {dtype.Name()} overflow a 64-bit byte size");
            }

            pending.Add((name, dtype, shape, offset, bytes));
            ggmlTypes.Add((GgmlType)type);
        }

        long infosEnd = r.Position;
        long dataStart = AlignUp(infosEnd, alignment)
            ?? throw new InvalidModelFileException(file, $"data section offset overflows (tensor infos end at {infosEnd}, alignment {alignment})");
        long dataLength = Math.Max(0, source.Length - dataStart);
        foreach (var (name, dtype, shape, offset, bytes) in pending)
        {
            if (offset % alignment != 0)
                throw new InvalidModelFileException(file, $"tensor {name}: data offset {offset} is not a multiple of the alignment {alignment}");
            if (offset > (ulong)dataLength || bytes > dataLength - (long)offset)
                throw new InvalidModelFileException(file, $"tensor {name}: data [{offset}, {(decimal)offset + bytes}) runs past the end of the data section ({dataLength} bytes from offset {dataStart}): the file is truncated or its header is wrong");
            tensors.Add(new TensorInfo(name, dtype, shape, source, dataStart + (long)offset));
        }

        var byOffset = Enumerable.Range(0, pending.Count).OrderBy(i => pending[i].Offset).ToList();
        for (int k = 1; k < byOffset.Count; k++)
        {
            var prev = pending[byOffset[k - 1]];
            var next = pending[byOffset[k]];
            if (prev.Offset + (ulong)prev.Bytes > next.Offset)
                throw new InvalidModelFileException(file, $"tensor {next.Name} (data offset {next.Offset}) overlaps tensor {prev.Name} (data [{prev.Offset}, {prev.Offset + (ulong)prev.Bytes}))");
        }

        return new GgufHeader(version, alignment, dataStart, metadata, types, tensors, ggmlTypes);
    }

    /// <summary>The token strings of <c>tokenizer.ggml.tokens</c> when it is an array of strings; otherwise null.</summary>
    public static IReadOnlyList<string>? VocabularyOf(IReadOnlyDictionary<string, object> metadata)
    {
        if (!metadata.TryGetValue(TokensKey, out object? v) || v is not object[] items) return null;
        var tokens = new string[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not string s) return null;
            tokens[i] = s;
        }

        return tokens;
    }

    private static void CheckVersion(string file, uint version)
    {
        if (version is >= MinVersion and <= MaxVersion) return;
        if (version == 1)
            throw new InvalidModelFileException(file, "unsupported GGUF version 1 (the first draft format, with 32-bit counts); re-convert the model with a current llama.cpp");
        uint swapped = BinaryPrimitives.ReverseEndianness(version);
        if ((version & 0xFFFF) == 0 && swapped is >= 1 and <= MaxVersion)
            throw new InvalidModelFileException(file, $"big-endian GGUF (version {swapped} stored byte-swapped) is not supported; only little-endian files are read");
        throw new InvalidModelFileException(file, $"unsupported GGUF version {version} (versions {MinVersion} to {MaxVersion} are read)");
    }

    private static long? AlignUp(long value, uint alignment)
    {
        long rem = value % alignment;
        if (rem == 0) return value;
        long pad = alignment - rem;
        return value > long.MaxValue - pad ? null : value + pad;
    }

    private static string DimsText(ReadOnlySpan<ulong> ne)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < ne.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(ne[i]);
        }

        return sb.ToString();
    }

    /// <summary>
    /// A buffered little-endian reader over the header: reads the source in windows of <see cref="WindowBytes"/>
    /// (a tokenizer holds hundreds of thousands of small strings), never past what the file holds.
    /// </summary>
    private sealed class HeaderReader(IByteSource source)
    {
        private const int WindowBytes = 1 << 16;

        /// <summary>Substitutes U+FFFD for invalid bytes: a token string that is not UTF-8 should not make a model unreadable.</summary>
        private static readonly UTF8Encoding Utf8Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        /// <summary>Boxed integers −256..1023 and booleans, shared: token-type and id arrays repeat a few small values.</summary>
        private static readonly object[] SmallLongs = [.. Enumerable.Range(-256, 1280).Select(i => (object)(long)i)];
        private static readonly object True = true, False = false;

        private readonly byte[] _window = new byte[WindowBytes];
        private long _windowStart;
        private int _windowLength;
        private long _values;

        public long Position { get; private set; }

        public long Remaining => source.Length - Position;

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        /// <summary>A metadata key or tensor name: strict UTF-8, at most <see cref="MaxKeyBytes"/>.</summary>
        public string Key(string what)
        {
            ulong length = U64();
            if (length > MaxKeyBytes)
                throw new InvalidModelFileException(source.Name, $"{what} at offset {Position - 8} is {length} bytes long, more than the limit of {MaxKeyBytes}");
            var bytes = Bytes((long)length, what);
            try
            {
                return ByteCursor.Utf8Strict.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidModelFileException(source.Name, $"{what} at offset {Position - (long)length} is not valid UTF-8");
            }
        }

        public object Value(GgufValueType type, string key, int depth)
        {
            if (++_values > MaxMetadataValues)
                throw new InvalidModelFileException(source.Name, $"metadata holds more than {MaxMetadataValues} values (at key {key})");
            int size = ScalarBytes(type);
            if (size > 0) return Scalar(type, Take(size));
            switch (type)
            {
                case GgufValueType.String:
                {
                    ulong length = U64();
                    if (length > MaxStringBytes)
                        throw new InvalidModelFileException(source.Name, $"metadata key {key}: string of {length} bytes exceeds the limit of {MaxStringBytes}");
                    if (length <= WindowBytes && (long)length <= Remaining) return Utf8Lenient.GetString(Take((int)length));
                    return Utf8Lenient.GetString(Bytes((long)length, $"string value of metadata key {key}"));
                }
                case GgufValueType.Array:
                    return Array(key, depth + 1);
                default:
                    throw new InvalidModelFileException(source.Name, $"metadata key {key} has unknown value type {(uint)type}");
            }
        }

        private static object Box(long v) => v is >= -256 and < 1024 ? SmallLongs[v + 256] : v;

        /// <summary>Bytes of a fixed-size scalar type; 0 for strings and arrays.</summary>
        private static int ScalarBytes(GgufValueType t) => t switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
            _ => 0,
        };

        /// <summary>A scalar as stored in the metadata dictionary: long, ulong (uint64), double or bool.</summary>
        private static object Scalar(GgufValueType t, ReadOnlySpan<byte> b) => t switch
        {
            GgufValueType.UInt8 => Box(b[0]),
            GgufValueType.Int8 => Box((sbyte)b[0]),
            GgufValueType.UInt16 => Box(BinaryPrimitives.ReadUInt16LittleEndian(b)),
            GgufValueType.Int16 => Box(BinaryPrimitives.ReadInt16LittleEndian(b)),
            GgufValueType.UInt32 => Box(BinaryPrimitives.ReadUInt32LittleEndian(b)),
            GgufValueType.Int32 => Box(BinaryPrimitives.ReadInt32LittleEndian(b)),
            GgufValueType.Float32 => (double)BinaryPrimitives.ReadSingleLittleEndian(b),
            GgufValueType.Bool => b[0] != 0 ? True : False,
            GgufValueType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
            GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
            GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(b),
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };

        private object[] Array(string key, int depth)
        {
            if (depth > MaxNestingDepth)
                throw new InvalidModelFileException(source.Name, $"metadata key {key}: arrays nested more than {MaxNestingDepth} deep");
            uint elementType = U32();
            if (elementType > (uint)GgufValueType.Float64)
                throw new InvalidModelFileException(source.Name, $"metadata key {key}: array has unknown element type {elementType}");
            ulong count = U64();
            if (count > MaxArrayLength)
                throw new InvalidModelFileException(source.Name, $"metadata key {key}: array of {count} elements exceeds the limit of {MaxArrayLength}");
            ulong minBytes = count * MinEncodedBytes((GgufValueType)elementType);
            if (minBytes > (ulong)Remaining)
                throw new InvalidModelFileException(source.Name, $"metadata key {key}: array of {count} {(GgufValueType)elementType} elements needs at least {minBytes} bytes but only {Remaining} remain (truncated file?)");
            if (_values + (long)count > MaxMetadataValues)
                throw new InvalidModelFileException(source.Name, $"metadata holds more than {MaxMetadataValues} values (at key {key})");
            var items = new object[count];
            var type = (GgufValueType)elementType;
            int size = ScalarBytes(type);
            if (size == 0)
            {
                for (ulong i = 0; i < count; i++) items[i] = Value(type, key, depth);
                return items;
            }

            // Fixed-size elements: decode a window at a time (the byte count was checked above).
            _values += (long)count;
            for (int i = 0; i < items.Length;)
            {
                int n = Math.Min(items.Length - i, WindowBytes / size);
                var span = Take(n * size);
                for (int j = 0; j < n; j++) items[i + j] = Scalar(type, span.Slice(j * size, size));
                i += n;
            }

            return items;
        }

        /// <summary>Fewest bytes one value of a type occupies (a string: its length; an array: type and count).</summary>
        private static ulong MinEncodedBytes(GgufValueType t) => t switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.Array => 12,
            _ => 8,
        };

        private byte[] Bytes(long length, string what)
        {
            if (length > Remaining)
                throw new InvalidModelFileException(source.Name, $"{what} of {length} bytes at offset {Position} runs past the end of the file ({source.Length} bytes)");
            var bytes = new byte[length];
            if (length <= WindowBytes) Take((int)length).CopyTo(bytes);
            else
            {
                source.Read(Position, bytes);
                Position += length;
            }

            return bytes;
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > Remaining)
                throw new InvalidModelFileException(source.Name, $"GGUF header is truncated: needed {count} more bytes at offset {Position} but the file has {source.Length}");
            if (Position < _windowStart || Position + count > _windowStart + _windowLength)
            {
                _windowStart = Position;
                _windowLength = (int)Math.Min(WindowBytes, source.Length - Position);
                source.Read(_windowStart, _window.AsSpan(0, _windowLength));
            }

            var span = _window.AsSpan((int)(Position - _windowStart), count);
            Position += count;
            return span;
        }
    }
}
