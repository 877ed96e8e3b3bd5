using System.IO.Compression;
using System.IO.Hashing;
using WeightPrint.Formats.Safetensors;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.PyTorch;

/// <summary>
/// Reads <c>torch.save</c> zip archives (PyTorch ≥ 1.6; <c>pytorch_model.bin</c>, <c>*.pt</c>, <c>*.pth</c>,
/// llama2.c's <c>ckpt.pt</c>): the zip central directory is parsed here, <c>&lt;prefix&gt;/data.pkl</c> runs in a
/// data-only pickle machine (<see cref="PickleMachine"/>), and every tensor becomes a <see cref="TensorInfo"/>
/// pointing into its stored (uncompressed) <c>&lt;prefix&gt;/data/&lt;key&gt;</c> member, read in place.
/// Nested dicts are flattened with dotted names (<c>model.tok_embeddings.weight</c>); scalar leaves reached
/// through dicts become metadata.
/// </summary>
internal static class TorchArchiveReader
{
    /// <summary>Largest <c>data.pkl</c> accepted, stored or after inflation (a zip bomb stops here).</summary>
    public const long MaxPickleBytes = 256L << 20;

    /// <summary>Most members a zip archive may list.</summary>
    public const int MaxZipEntries = 1_000_000;

    /// <summary>Most opcodes one pickle may run.</summary>
    public const long MaxPickleOpcodes = 50_000_000;

    /// <summary>Most items on the pickle stack at once.</summary>
    public const int MaxPickleStack = 1_000_000;

    /// <summary>Deepest MARK nesting.</summary>
    public const int MaxPickleMarkDepth = 1_000;

    /// <summary>Most memo entries.</summary>
    public const int MaxPickleMemo = 2_000_000;

    /// <summary>Most items in one list, tuple, set or dict.</summary>
    public const int MaxPickleContainerItems = 10_000_000;

    /// <summary>Most values a pickle may build in total (objects plus container insertions).</summary>
    public const long MaxPickleValues = 20_000_000;

    /// <summary>Largest pickled integer (LONG4) in bytes.</summary>
    public const int MaxPickleLongBytes = 1024;

    /// <summary>Deepest dict / list nesting walked when flattening to tensor names.</summary>
    public const int MaxNestingDepth = 100;

    /// <summary>Most containers visited while flattening (a shared sub-dict is visited once per path).</summary>
    public const int MaxFlattenVisits = 10_000_000;

    /// <summary>Longest flattened tensor name, in characters.</summary>
    public const int MaxNameLength = 4096;

    /// <summary>Most dimensions a tensor may have.</summary>
    public const int MaxTensorRank = 32;

    /// <summary>Most scalar leaves kept as metadata; further ones are dropped.</summary>
    public const int MaxMetadataEntries = 10_000;

    /// <summary>Longest string leaf kept as metadata.</summary>
    public const int MaxMetadataStringLength = 4096;

    /// <summary>Deflate cannot expand data by more than about 1032:1; a member claiming more is inconsistent.</summary>
    private const long MaxDeflateRatio = 1032;

    private const string LegacyMessage = "legacy torch format (a bare pickle, saved before PyTorch 1.6) is not supported; re-save it with torch.save in the zip format";

    public static bool LooksLikeZip(IByteSource source)
    {
        if (source.Length < 4) return false;
        Span<byte> b = stackalloc byte[4];
        source.Read(0, b);
        return b[0] == (byte)'P' && b[1] == (byte)'K' && b[2] == 3 && b[3] == 4;
    }

    /// <summary>
    /// True for a bare pickle stream (the legacy, pre-1.6 torch format, or any <c>pickle.dump</c>): PROTO 2–5 and
    /// then an opcode a pickle can start with. A llama2.c header whose dim is 0x280 (640) starts with the same two
    /// bytes but continues with a zero byte, which is no opcode; a safetensors header is excluded explicitly.
    /// </summary>
    public static bool LooksLikeLegacyPickle(IByteSource source)
    {
        if (source.Length < 3) return false;
        Span<byte> b = stackalloc byte[3];
        source.Read(0, b);
        return b[0] == 0x80 && b[1] is >= 2 and <= 5 && IsFirstOpcode(b[2]) && !SafetensorsReader.LooksLikeSafetensors(source);
    }

    private static bool IsFirstOpcode(byte op) => op is (byte)'(' or (byte)')' or (byte)'}' or (byte)']' or (byte)'c' or (byte)'K'
        or (byte)'J' or (byte)'M' or (byte)'X' or (byte)'N' or (byte)'G' or (byte)'T' or (byte)'U' or (byte)'B' or (byte)'C'
        or (>= 0x85 and <= 0x8f) or 0x93 or 0x95;

    /// <summary>Lists the tensors of one torch zip archive (no tensor data is read).</summary>
    public static List<TensorInfo> ReadTensors(IByteSource source) => Read(source).Tensors;

    /// <summary>Opens one torch zip archive as a checkpoint.</summary>
    public static Checkpoint Open(IByteSource source, string? location = null)
    {
        var (tensors, metadata) = Read(source);
        return new Checkpoint(location ?? source.Name, "torch", tensors, metadata);
    }

    /// <summary>The tensors of a torch zip archive and its scalar leaves (ints, floats, bools, strings reached
    /// through dict keys, for example llama2.c's <c>model_args.dim</c>).</summary>
    public static (List<TensorInfo> Tensors, Dictionary<string, object> Metadata) Read(IByteSource source)
    {
        string file = source.Name;
        if (!LooksLikeZip(source))
        {
            if (LooksLikeLegacyPickle(source)) throw new InvalidModelFileException(file, LegacyMessage);
            throw new InvalidModelFileException(file, "not a torch zip archive (no zip local header at the start)");
        }

        var entries = ZipDirectory.Read(source);
        var byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var pickles = entries.Where(e => e.Name == "data.pkl" || (e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Name.IndexOf('/', StringComparison.Ordinal) == e.Name.Length - 9)).ToList();
        if (pickles.Count == 0)
            throw new InvalidModelFileException(file, "zip archive has no <folder>/data.pkl: not a torch.save file");
        if (pickles.Count > 1)
            throw new InvalidModelFileException(file, $"zip archive holds {pickles.Count} data.pkl files ({string.Join(", ", pickles.Select(p => p.Name))})");
        var pickle = pickles[0];
        string prefix = pickle.Name[..^"data.pkl".Length];
        if (byName.ContainsKey(prefix + "constants.pkl") || entries.Any(e => e.Name.StartsWith(prefix + "code/", StringComparison.Ordinal)))
            throw new InvalidModelFileException(file, "this is a TorchScript archive (torch.jit.save), not a torch.save state dict; save the model's state_dict instead");
        if (byName.TryGetValue(prefix + "byteorder", out var byteorder))
        {
            string order = System.Text.Encoding.ASCII.GetString(ReadMember(source, byteorder, 16));
            if (order == "big") throw new InvalidModelFileException(file, "big-endian torch archives are not supported");
            if (order != "little") throw new InvalidModelFileException(file, $"{byteorder.Name} says {ZipDirectory.Quote(order)}, expected 'little' or 'big'");
        }

        object? root = PickleMachine.Load(file, pickle.Name, ReadMember(source, pickle, MaxPickleBytes));
        var flattener = new Flattener(file, source, prefix, byName);
        flattener.Walk(root, "", depth: 0, throughDictsOnly: true);
        if (flattener.Tensors.Count == 0)
            throw new InvalidModelFileException(file, $"{pickle.Name} holds no tensors (a torch archive of {DescribeRoot(root)})");
        return (flattener.Tensors, flattener.Metadata);
    }

    private static string DescribeRoot(object? root) => root switch
    {
        PickleDict d => $"a dict of {d.Items.Count} items",
        PickleList l => $"a list of {l.Items.Count} items",
        PickleTuple t => $"a tuple of {t.Items.Length} items",
        null => "None",
        _ => "a single value",
    };

    /// <summary>Reads one member into memory (only for small members: data.pkl, byteorder), inflating with a hard cap.</summary>
    private static byte[] ReadMember(IByteSource source, ZipEntry e, long limit)
    {
        string file = source.Name;
        if (e.UncompressedSize > limit)
            throw new InvalidModelFileException(file, $"zip entry {e.Name} is {e.UncompressedSize} bytes uncompressed, more than the limit of {limit}");
        var bytes = new byte[e.UncompressedSize];
        if (e.Method == ZipEntry.Stored)
        {
            source.Read(e.DataOffset, bytes);
        }
        else if (e.Method == ZipEntry.Deflated)
        {
            if (e.UncompressedSize > e.CompressedSize * MaxDeflateRatio + 1024)
                throw new InvalidModelFileException(file, $"zip entry {e.Name} claims {e.UncompressedSize} bytes from {e.CompressedSize} compressed bytes, more than deflate can produce");
            try
            {
                using var input = new ByteSourceStream(source, e.DataOffset, e.CompressedSize);
                using var inflater = new DeflateStream(input, CompressionMode.Decompress);
                int filled = 0;
                while (filled < bytes.Length)
                {
                    int n = inflater.Read(bytes, filled, bytes.Length - filled);
                    if (n == 0) break;
                    filled += n;
                }

                if (filled < bytes.Length)
                    throw new InvalidModelFileException(file, $"zip entry {e.Name} inflates to {filled} bytes, fewer than the {bytes.Length} declared (truncated?)");
                Span<byte> one = stackalloc byte[1];
                if (inflater.Read(one) != 0)
                    throw new InvalidModelFileException(file, $"zip entry {e.Name} inflates to more than the {bytes.Length} bytes declared (refused: possible zip bomb)");
            }
            catch (InvalidDataException x)
            {
                throw new InvalidModelFileException(file, $"zip entry {e.Name} is not valid deflate data: {UntrustedJson.FirstLine(x.Message)}");
            }
        }
        else
        {
            throw new InvalidModelFileException(file, $"zip entry {e.Name} uses compression method {e.Method}; only stored (0) and deflated (8) are supported");
        }

        if (Crc32.HashToUInt32(bytes) != e.Crc32)
            throw new InvalidModelFileException(file, $"zip entry {e.Name} fails its CRC-32 check (corrupt file)");
        return bytes;
    }

    /// <summary>Walks the unpickled object: tensors become <see cref="TensorInfo"/>, dict scalars become metadata.</summary>
    private sealed class Flattener(string file, IByteSource source, string prefix, Dictionary<string, ZipEntry> entries)
    {
        private readonly HashSet<object> _onPath = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private int _visits;

        public List<TensorInfo> Tensors { get; } = [];

        public Dictionary<string, object> Metadata { get; } = new(StringComparer.Ordinal);

        /// <param name="value">The value to walk.</param>
        /// <param name="name">Its dotted name; null when the name would exceed <see cref="MaxNameLength"/>.</param>
        /// <param name="depth">Container nesting so far.</param>
        /// <param name="throughDictsOnly">False below a list or tuple: scalars there are not metadata.</param>
        public void Walk(object? value, string? name, int depth, bool throughDictsOnly)
        {
            switch (value)
            {
                case TorchTensorValue t:
                    AddTensor(t, name);
                    return;
                case PickleDict or PickleList or PickleTuple:
                    if (depth >= MaxNestingDepth) throw new InvalidModelFileException(file, $"the pickled object nests containers deeper than {MaxNestingDepth} levels");
                    if (++_visits > MaxFlattenVisits) throw new InvalidModelFileException(file, $"the pickled object has more than {MaxFlattenVisits} container visits (shared sub-containers?)");
                    if (!_onPath.Add(value)) return; // a cycle: the container holds itself
                    try
                    {
                        if (value is PickleDict d)
                        {
                            foreach (var (k, v) in d.Items)
                            {
                                string? key = k switch
                                {
                                    string s => s,
                                    long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                    bool b => b ? "True" : "False",
                                    _ => null,
                                };
                                if (key == null) continue; // tuple or None keys cannot name anything
                                Walk(v, Join(name, key), depth + 1, throughDictsOnly);
                            }
                        }
                        else
                        {
                            var items = value is PickleList l ? (IReadOnlyList<object?>)l.Items : ((PickleTuple)value).Items;
                            for (int i = 0; i < items.Count; i++)
                            {
                                if (items[i] is TorchTensorValue or PickleDict or PickleList or PickleTuple)
                                    Walk(items[i], Join(name, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), depth + 1, throughDictsOnly: false);
                            }
                        }
                    }
                    finally
                    {
                        _onPath.Remove(value);
                    }

                    return;
                default:
                    if (throughDictsOnly && !string.IsNullOrEmpty(name) && Metadata.Count < MaxMetadataEntries)
                    {
                        object? scalar = value switch
                        {
                            long or double or bool => value,
                            string s when s.Length <= MaxMetadataStringLength => s,
                            _ => null,
                        };
                        if (scalar != null) Metadata.TryAdd(name, scalar);
                    }

                    return;
            }
        }

        private static string? Join(string? name, string key)
        {
            if (name == null) return null;
            long length = (long)name.Length + 1 + key.Length;
            if (length > MaxNameLength) return null;
            return name.Length == 0 ? key : name + "." + key;
        }

        private void AddTensor(TorchTensorValue t, string? name)
        {
            if (name == null) throw new InvalidModelFileException(file, $"a tensor's flattened name is longer than {MaxNameLength} characters");
            if (name.Length == 0) name = "tensor"; // torch.save(tensor): the archive holds one bare tensor
            if (!_names.Add(name)) throw new InvalidModelFileException(file, $"two tensors flatten to the same name {ZipDirectory.Quote(name)}");
            var s = t.Storage;
            string member = prefix + "data/" + s.Key;
            if (!entries.TryGetValue(member, out var entry))
                throw new InvalidModelFileException(file, $"tensor {ZipDirectory.Quote(name)} refers to storage {ZipDirectory.Quote(s.Key)} but the archive has no {ZipDirectory.Quote(member)}");
            if (entry.Method != ZipEntry.Stored)
                throw new InvalidModelFileException(file, $"storage {entry.Name} is compressed (method {entry.Method}); torch storages must be stored uncompressed");
            long elementSize = s.DType.BlockBytes();
            long dataOffset;
            try
            {
                checked
                {
                    if (s.Numel * elementSize > entry.UncompressedSize)
                        throw new InvalidModelFileException(file, $"storage {entry.Name} holds {entry.UncompressedSize} bytes but is declared as {s.Numel} {s.DType.Name()} elements ({s.Numel * elementSize} bytes)");
                    dataOffset = entry.DataOffset + t.StorageOffset * elementSize;
                }
            }
            catch (OverflowException)
            {
                throw new InvalidModelFileException(file, $"storage {entry.Name} declares an impossible size ({s.Numel} elements)");
            }

            // The pickle machine checked that the view fits inside Numel elements, and Numel fits inside the member.
            Tensors.Add(new TensorInfo(name, s.DType, t.Shape, source, dataOffset, t.Strides));
        }
    }
}
