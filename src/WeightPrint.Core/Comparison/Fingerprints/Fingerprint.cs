using System.Buffers;
using System.Buffers.Text;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeightPrint.IO;
using WeightPrint.Formats;
using WeightPrint.Model;

namespace WeightPrint.Comparison;

/// <summary>One model file a fingerprint was made from: its name, size and SHA-256 (null when not known, e.g. a
/// Hub file whose listing gave no hash).</summary>
public sealed record FingerprintSourceFile(string Name, long Bytes, string? Sha256);

/// <summary>Where the fingerprinted model came from: a local path, or a Hub repository at a commit.</summary>
public sealed record FingerprintSource(string Kind, string? Repo, string? Commit, IReadOnlyList<FingerprintSourceFile> Files);

/// <summary>The stored sample of one canonical tensor: its full shape and the stored blocks.</summary>
public sealed record TensorSample(string Tensor, long Rows, long Columns, IReadOnlyList<SampleBlock> Blocks);

/// <summary>
/// A fingerprint (format version 2): a self-contained, versioned record of one model that carries what the exact
/// tests need — the seeded, data-independent contiguous row blocks that pcs and neuron-match read
/// (<see cref="Signals.Toolbox.SampleLayout"/>), the embedding rows of a seeded block of token ids with their
/// strings, and the per-model signatures of pdf, pdf-mlp and spectral — plus provenance: the tool version, the seed,
/// the model's files with size and SHA-256 (Hub: repository, commit, sizes), and XxHash128 hashes of stored tensors.
/// The file is JSON (<c>docs/fingerprint.schema.json</c>); <see cref="PayloadSha256"/> covers the payload's bytes,
/// so a changed byte is detected. Samples are BF16, little-endian, base64.
/// </summary>
public sealed class Fingerprint
{
    /// <summary>The <c>format</c> value every fingerprint file carries.</summary>
    public const string FormatName = "weightprint-fingerprint";

    /// <summary>The format version this build writes; it reads this one and version 1 (signatures only).</summary>
    public const int Version = 2;

    /// <summary>Largest fingerprint accepted (a 70B dense model's fingerprint is about 130 MB).</summary>
    public const long MaxBytes = 512L << 20;

    /// <summary>Compact JSON without escaping base64's '+' (the file is data, never embedded in HTML).</summary>
    private static readonly JsonSerializerOptions WriteOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The tool and version that wrote the fingerprint.</summary>
    public string Tool { get; init; } = ToolVersion;

    /// <summary>The seed that chose the sampled rows (the same seed must be used to compare).</summary>
    public int Seed { get; init; }

    /// <summary>The version of the sample layout (which rows a seed chooses).</summary>
    public int LayoutVersion { get; init; } = Signals.Toolbox.SampleLayout.Version;

    /// <summary>The fingerprinted model: path, format, architecture, size.</summary>
    public required ModelSummary Model { get; init; }

    /// <summary>Where the model came from, with its files' sizes and hashes.</summary>
    public FingerprintSource? Source { get; init; }

    /// <summary>What <see cref="TensorHashes"/> covers, in words.</summary>
    public string? TensorHashScope { get; init; }

    /// <summary>XxHash128 (hex) of stored tensors' bytes, by stored tensor name.</summary>
    public IReadOnlyDictionary<string, string> TensorHashes { get; init; } = new Dictionary<string, string>();

    /// <summary>Token ids whose embedding rows are stored, with their strings (null when the model has no vocabulary).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>The strings of <see cref="TokenIds"/> (null where the vocabulary has none).</summary>
    public IReadOnlyList<string?> TokenStrings { get; init; } = [];

    /// <summary>The sampled row blocks, per canonical tensor.</summary>
    public IReadOnlyList<TensorSample> Samples { get; init; } = [];

    /// <summary>Per-method signatures (pdf, pdf-mlp, spectral), by method id.</summary>
    public IReadOnlyDictionary<string, JsonObject> Signatures { get; init; } = new Dictionary<string, JsonObject>();

    /// <summary>The payload hash read from the file (or computed by <see cref="Write"/>).</summary>
    public string? PayloadSha256 { get; private set; }

    /// <summary>"weightprint" and the assembly's informational version.</summary>
    public static string ToolVersion { get; } = "weightprint " + (typeof(Fingerprint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");

    /// <summary>Writes the fingerprint as one line of JSON (no newline inside, none at the end).</summary>
    public void Write(Stream stream)
    {
        byte[] payload = Encoding.UTF8.GetBytes(PayloadJson().ToJsonString(WriteOptions));
        PayloadSha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
        var head = Encoding.UTF8.GetBytes($"{{\"format\":\"{FormatName}\",\"version\":{Version},\"payload_sha256\":\"{PayloadSha256}\",\"payload\":");
        stream.Write(head);
        stream.Write(payload);
        stream.WriteByte((byte)'}');
    }

    /// <summary>The fingerprint as one line of JSON text.</summary>
    public string ToJsonLine()
    {
        using var ms = new MemoryStream();
        Write(ms);
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    /// <summary>Reads a fingerprint (version 1 or 2). Every problem is an <see cref="InvalidModelFileException"/>
    /// naming <paramref name="name"/> and the offending field.</summary>
    public static Fingerprint Read(Stream stream, string name)
    {
        var bytes = ReadBounded(stream, name);
        return FingerprintReader.Parse(bytes, name);
    }

    /// <summary>Reads a fingerprint held in memory (a catalog's stored line) without copying it.</summary>
    internal static Fingerprint Read(byte[] bytes, string name)
    {
        if (bytes.Length > MaxBytes) throw new InvalidModelFileException(name, $"fingerprint exceeds the {MaxBytes}-byte limit");
        return FingerprintReader.Parse(bytes, name);
    }

    /// <summary>Reads a fingerprint file.</summary>
    public static Fingerprint ReadFile(string path)
    {
        using var s = File.OpenRead(path);
        return Read(s, path);
    }

    /// <summary>True when the file starts like a JSON fingerprint (checked by content, not by extension).</summary>
    public static bool LooksLikeFingerprint(string path)
    {
        if (!File.Exists(path)) return false;
        using var s = File.OpenRead(path);
        var head = new byte[256];
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        string text = Encoding.UTF8.GetString(head, 0, n).TrimStart();
        return (text.StartsWith('{') || text.StartsWith('[')) && text.Contains(FormatName, StringComparison.Ordinal);
    }

    /// <summary>The comparison input of this fingerprint: its signatures and, when it holds samples, a model view of them.</summary>
    internal Signals.ComparisonInput ToInput(string label)
        => new(label, Samples.Count > 0 ? FingerprintView.Build(this) : null, Signatures) { IsFingerprint = true };

    /// <summary>Bytes of stored sample values (BF16).</summary>
    public long SampleBytes => Samples.Sum(s => s.Blocks.Sum(b => (long)b.Bytes.Length));

    private static byte[] ReadBounded(Stream stream, string name)
    {
        if (stream.CanSeek && stream.Length - stream.Position is long known and >= 0 and <= MaxBytes)
        {
            // The size is known: one exact buffer (a 56 MB fingerprint is not copied through a growing MemoryStream).
            var exact = new byte[known];
            int filled = stream.ReadAtLeast(exact, exact.Length, throwOnEndOfStream: false);
            if (filled == exact.Length && stream.ReadByte() < 0) return exact;
            throw new InvalidModelFileException(name, "fingerprint changed size while it was read");
        }

        using var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            if (ms.Length + n > MaxBytes) throw new InvalidModelFileException(name, $"fingerprint exceeds the {MaxBytes}-byte limit");
            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }

    private JsonObject PayloadJson()
    {
        var samples = new JsonArray();
        foreach (var s in Samples.OrderBy(s => s.Tensor, StringComparer.Ordinal))
        {
            var blocks = new JsonArray();
            foreach (var b in s.Blocks)
            {
                blocks.Add((JsonNode)new JsonObject
                {
                    ["rows"] = new JsonArray(b.RowStart, b.RowCount),
                    ["columns"] = new JsonArray(b.ColumnStart, b.ColumnCount),
                    ["bf16"] = Convert.ToBase64String(b.Bytes),
                });
            }

            samples.Add((JsonNode)new JsonObject { ["tensor"] = s.Tensor, ["shape"] = new JsonArray(s.Rows, s.Columns), ["blocks"] = blocks });
        }

        var files = new JsonArray();
        foreach (var f in Source?.Files ?? [])
            files.Add((JsonNode)new JsonObject { ["name"] = f.Name, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256 });
        var hashes = new JsonObject();
        foreach (var (k, v) in TensorHashes.OrderBy(kv => kv.Key, StringComparer.Ordinal)) hashes[k] = v;
        var signatures = new JsonObject();
        foreach (var (id, s) in Signatures.OrderBy(kv => kv.Key, StringComparer.Ordinal)) signatures[id] = s.DeepClone();
        var tokens = new JsonArray();
        foreach (var t in TokenStrings) tokens.Add((JsonNode?)t);
        var ids = new JsonArray();
        foreach (var i in TokenIds) ids.Add((JsonNode)i);
        return new JsonObject
        {
            ["tool"] = Tool,
            ["tool_version"] = ToolInfo.Version,
            ["tool_commit"] = ToolInfo.Commit,
            ["seed"] = Seed,
            ["sample_layout"] = LayoutVersion,
            ["model"] = ModelJson(),
            ["source"] = new JsonObject { ["kind"] = Source?.Kind ?? "unknown", ["repo"] = Source?.Repo, ["commit"] = Source?.Commit, ["files"] = files },
            ["tensor_hashes"] = new JsonObject { ["algorithm"] = "xxh128", ["covers"] = TensorHashScope, ["tensors"] = hashes },
            ["tokens"] = new JsonObject { ["ids"] = ids, ["strings"] = tokens },
            ["samples"] = samples,
            ["signatures"] = signatures,
        };
    }

    /// <summary>The model section: the summary without "source" (always "weights" when written).</summary>
    private JsonObject ModelJson()
    {
        var m = FingerprintFile.ModelJson(Model);
        m.Remove("source");
        return m;
    }

    internal void SetPayloadHash(string hash) => PayloadSha256 = hash;
}

/// <summary>A fingerprint's BF16 blocks as base64 text.</summary>
internal static class Bf16
{
    /// <summary>Decodes exactly <paramref name="count"/> values' bytes; false when the text is not base64 of that length.</summary>
    public static bool TryDecode(string text, int count, out byte[] bytes)
    {
        bytes = [];
        var decoded = new byte[2 * count]; // text holding more bytes does not fit: false, as it must be
        if (!Convert.TryFromBase64String(text, decoded, out int n) || n != decoded.Length) return false;
        bytes = decoded;
        return true;
    }

    /// <summary>Decodes exactly <paramref name="count"/> values' bytes from base64 held as UTF-8 (no JSON escapes, no
    /// white space); false when they are not base64 of that length.</summary>
    public static bool TryDecodeUtf8(ReadOnlySpan<byte> base64, int count, out byte[] bytes)
    {
        bytes = [];
        if (base64.Length != Base64.GetMaxEncodedToUtf8Length(2 * count)) return false;
        var decoded = new byte[2 * count];
        if (Base64.DecodeFromUtf8(base64, decoded, out int consumed, out int n) != OperationStatus.Done || consumed != base64.Length || n != decoded.Length) return false;
        bytes = decoded;
        return true;
    }
}
