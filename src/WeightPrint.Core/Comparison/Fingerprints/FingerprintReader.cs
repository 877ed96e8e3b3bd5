using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeightPrint.IO;
using WeightPrint.Formats;
using WeightPrint.Model;

namespace WeightPrint.Comparison;

/// <summary>
/// Parses and validates a fingerprint. Fingerprints are exchanged between parties, so every problem — not JSON,
/// truncated, a duplicate key, a missing field, a field of the wrong type or range, a payload whose SHA-256 does
/// not match, a newer format version — is one <see cref="InvalidModelFileException"/> naming the field.
/// </summary>
internal static class FingerprintReader
{
    private const int MaxDepth = 64;

    /// <summary>Reads a fingerprint; every problem is an <see cref="InvalidModelFileException"/> naming the field.</summary>
    public static Fingerprint Parse(byte[] bytes, string name)
    {
        // Strings are decoded only when read: bytes that are not UTF-8 (found by fuzzing) or an unpaired surrogate escape
        // such as \ud800 would otherwise surface there as an internal error.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new InvalidModelFileException(name, "fingerprint holds bytes that are not valid UTF-8, so it is not valid Unicode");
        try
        {
            return ParseChecked(bytes, name);
        }
        catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException or EncoderFallbackException || e.Message.Contains("transcode", StringComparison.Ordinal))
        {
            throw new InvalidModelFileException(name, "fingerprint holds a string that is not valid Unicode (an unpaired surrogate escape such as \\ud800)");
        }
    }

    private static Fingerprint ParseChecked(byte[] bytes, string name)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw new InvalidModelFileException(name, "fingerprint is not valid JSON (malformed or truncated): " + e.Message.Split('\n')[0]);
        }

        using (doc)
        {
            var f = new Fields(name);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(name, "fingerprint is not a JSON object");
            CheckDuplicates(root, "", f);
            if (f.Str(root, "format", "") != Fingerprint.FormatName) throw f.Error("format", $"not \"{Fingerprint.FormatName}\"");
            int version = f.Int(root, "version", "");
            if (version > Fingerprint.Version)
                throw f.Error("version", $"fingerprint version {version} is newer than this weightprint reads ({Fingerprint.Version}); upgrade weightprint");
            if (version < 1) throw f.Error("version", $"{version} is not a fingerprint version");
            if (version == 1) return ParseVersion1(root, f);
            string hash = f.Str(root, "payload_sha256", "");
            var payload = f.Obj(root, "payload", "");
            string actual = Convert.ToHexStringLower(SHA256.HashData(JsonMarshal.GetRawUtf8Value(payload)));
            if (!string.Equals(hash, actual, StringComparison.OrdinalIgnoreCase))
                throw f.Error("payload_sha256", "hash mismatch: the payload was changed after the fingerprint was written, or is damaged");
            var fp = ParsePayload(payload, f);
            fp.SetPayloadHash(actual);
            return fp;
        }
    }

    private static Fingerprint ParsePayload(JsonElement p, Fields f)
    {
        const string P = "payload";
        int layout = f.Int(p, "sample_layout", P);
        if (layout != Signals.Toolbox.SampleLayout.Version)
            throw f.Error("payload.sample_layout", $"sample layout {layout} is not the one this weightprint uses ({Signals.Toolbox.SampleLayout.Version})");
        var source = f.Obj(p, "source", P);
        var files = new List<FingerprintSourceFile>();
        int i = 0;
        foreach (var e in f.Arr(source, "files", P + ".source").EnumerateArray())
        {
            string at = $"payload.source.files[{i++}]";
            f.Expect(e, JsonValueKind.Object, at);
            files.Add(new FingerprintSourceFile(f.Str(e, "name", at), f.Long(e, "bytes", at), f.OptStr(e, "sha256", at)));
        }

        var hashObj = f.Obj(p, "tensor_hashes", P);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in f.Obj(hashObj, "tensors", P + ".tensor_hashes").EnumerateObject())
        {
            if (h.Value.ValueKind != JsonValueKind.String) throw f.Error($"payload.tensor_hashes.tensors.{h.Name}", "expected a string");
            hashes[h.Name] = h.Value.GetString()!;
        }

        var tokens = f.Obj(p, "tokens", P);
        var ids = new List<int>();
        i = 0;
        foreach (var e in f.Arr(tokens, "ids", P + ".tokens").EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0) throw f.Error($"payload.tokens.ids[{i}]", "expected a token id (integer ≥ 0)");
            ids.Add(id);
            i++;
        }

        var strings = new List<string?>();
        i = 0;
        foreach (var e in f.Arr(tokens, "strings", P + ".tokens").EnumerateArray())
        {
            if (e.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) throw f.Error($"payload.tokens.strings[{i}]", "expected a string or null");
            strings.Add(e.ValueKind == JsonValueKind.Null ? null : e.GetString());
            i++;
        }

        if (strings.Count != ids.Count) throw f.Error("payload.tokens.strings", $"{strings.Count} strings for {ids.Count} ids");

        var samples = new List<TensorSample>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        i = 0;
        foreach (var e in f.Arr(p, "samples", P).EnumerateArray())
        {
            string at = $"payload.samples[{i++}]";
            f.Expect(e, JsonValueKind.Object, at);
            var sample = ParseSample(e, at, f);
            if (!seen.Add(sample.Tensor)) throw f.Error(at + ".tensor", $"tensor '{sample.Tensor}' is sampled twice");
            samples.Add(sample);
        }

        var signatures = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var s in f.Obj(p, "signatures", P).EnumerateObject())
        {
            if (s.Value.ValueKind != JsonValueKind.Object) throw f.Error("payload.signatures." + s.Name, "expected an object");
            signatures[s.Name] = (JsonObject)JsonNode.Parse(s.Value.GetRawText())!;
        }

        return new Fingerprint
        {
            Tool = f.Str(p, "tool", P),
            Seed = f.Int(p, "seed", P),
            LayoutVersion = layout,
            Model = ParseModel(f.Obj(p, "model", P), "payload.model", f),
            Source = new FingerprintSource(f.Str(source, "kind", P + ".source"), f.OptStr(source, "repo", P + ".source"), f.OptStr(source, "commit", P + ".source"), files),
            TensorHashScope = f.OptStr(hashObj, "covers", P + ".tensor_hashes"),
            TensorHashes = hashes,
            TokenIds = ids,
            TokenStrings = strings,
            Samples = samples,
            Signatures = signatures,
        };
    }

    private static TensorSample ParseSample(JsonElement e, string at, Fields f)
    {
        string tensor = f.Str(e, "tensor", at);
        var shape = f.Arr(e, "shape", at);
        if (shape.GetArrayLength() != 2) throw f.Error(at + ".shape", "expected [rows, columns]");
        long rows = f.LongAt(shape, 0, at + ".shape"), cols = f.LongAt(shape, 1, at + ".shape");
        if (rows < 1 || cols < 1 || rows > int.MaxValue || cols > int.MaxValue) throw f.Error(at + ".shape", "dimensions must be between 1 and 2^31 − 1");
        var blocks = new List<SampleBlock>();
        int j = 0;
        foreach (var b in f.Arr(e, "blocks", at).EnumerateArray())
        {
            string bt = $"{at}.blocks[{j++}]";
            f.Expect(b, JsonValueKind.Object, bt);
            var (r0, rn) = Range(b, "rows", rows, bt, f);
            var (c0, cn) = Range(b, "columns", cols, bt, f);
            long count = (long)rn * cn;
            if (count > int.MaxValue / 2) throw f.Error(bt, "block too large");
            if (!DecodeBf16(f.Req(b, "bf16", bt), (int)count, out var values, bt, f))
                throw f.Error(bt + ".bf16", $"expected base64 of {count} BF16 values ({rn} rows × {cn} columns)");
            blocks.Add(new SampleBlock(r0, rn, c0, cn, values));
        }

        if (blocks.Count == 0) throw f.Error(at + ".blocks", "no blocks");
        return new TensorSample(tensor, rows, cols, blocks);
    }

    /// <summary>A block's BF16 values: decoded from the raw UTF-8 token when it holds no escape (as every fingerprint this
    /// tool writes), else from the unescaped string.</summary>
    private static bool DecodeBf16(JsonElement v, int count, out byte[] values, string at, Fields f)
    {
        f.Expect(v, JsonValueKind.String, at + ".bf16");
        var raw = JsonMarshal.GetRawUtf8Value(v);
        if (raw.Length >= 2 && raw[0] == (byte)'"' && raw[^1] == (byte)'"' && raw[1..^1].IndexOf((byte)'\\') < 0
            && Bf16.TryDecodeUtf8(raw[1..^1], count, out values)) return true;
        return Bf16.TryDecode(v.GetString()!, count, out values);
    }

    private static (int Start, int Count) Range(JsonElement b, string key, long limit, string at, Fields f)
    {
        var a = f.Arr(b, key, at);
        string path = at + "." + key;
        if (a.GetArrayLength() != 2) throw f.Error(path, "expected [start, count]");
        long start = f.LongAt(a, 0, path), count = f.LongAt(a, 1, path);
        if (start < 0 || count < 1 || start + count > limit) throw f.Error(path, $"[{start}, {count}] lies outside the tensor's {limit}");
        return ((int)start, (int)count);
    }

    private static ModelSummary ParseModel(JsonElement m, string at, Fields f)
    {
        AttentionGeometry? geometry = null;
        if (m.TryGetProperty("geometry", out var g) && g.ValueKind != JsonValueKind.Null)
        {
            string gt = at + ".geometry";
            f.Expect(g, JsonValueKind.Object, gt);
            geometry = new AttentionGeometry(f.Int(g, "hidden_size", gt), f.Int(g, "heads", gt), f.Int(g, "kv_heads", gt), f.Int(g, "head_dim", gt),
                f.Int(g, "intermediate_size", gt), f.Int(g, "vocab_size", gt), f.Int(g, "experts", gt));
        }

        return new ModelSummary(f.Str(m, "path", at), "fingerprint", f.Str(m, "format", at), f.Str(m, "architecture", at), f.Int(m, "layers", at),
            f.Long(m, "parameters", at), f.Long(m, "bytes", at), geometry, f.OptStr(m, "revision", at));
    }

    /// <summary>Version 1: the model section and per-method signatures only.</summary>
    private static Fingerprint ParseVersion1(JsonElement root, Fields f)
    {
        var signatures = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (root.TryGetProperty("methods", out var methods))
        {
            f.Expect(methods, JsonValueKind.Object, "methods");
            foreach (var s in methods.EnumerateObject())
            {
                if (s.Value.ValueKind == JsonValueKind.Object) signatures[s.Name] = (JsonObject)JsonNode.Parse(s.Value.GetRawText())!;
            }
        }

        var m = f.Obj(root, "model", "");
        var summary = new ModelSummary(f.OptStr(m, "path", "model") ?? f.Name, "fingerprint", f.OptStr(m, "format", "model") ?? "unknown",
            f.OptStr(m, "architecture", "model") ?? "unknown", m.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt32(out int li) ? li : 0,
            m.TryGetProperty("parameters", out var pa) && pa.ValueKind == JsonValueKind.Number && pa.TryGetInt64(out long pl) ? pl : 0,
            m.TryGetProperty("bytes", out var by) && by.ValueKind == JsonValueKind.Number && by.TryGetInt64(out long bl) ? bl : 0,
            null, f.OptStr(m, "revision", "model"));
        return new Fingerprint { Model = summary, Signatures = signatures, Tool = "weightprint (fingerprint version 1)", LayoutVersion = 0 };
    }

    private static void CheckDuplicates(JsonElement e, string path, Fields f)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                string child = path.Length == 0 ? p.Name : path + "." + p.Name;
                if (!names.Add(p.Name)) throw f.Error(child, "duplicate key");
                CheckDuplicates(p.Value, child, f);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var x in e.EnumerateArray()) CheckDuplicates(x, $"{path}[{i++}]", f);
        }
    }

    /// <summary>Typed access to required and optional fields, with errors that name the field's path.</summary>
    private sealed class Fields(string name)
    {
        public string Name { get; } = name;

        public InvalidModelFileException Error(string field, string problem) => new(Name, $"fingerprint field '{field}': {problem}");

        private static string Join(string at, string key) => at.Length == 0 ? key : at + "." + key;

        public JsonElement Req(JsonElement o, string key, string at)
            => o.TryGetProperty(key, out var v) ? v : throw Error(Join(at, key), "missing");

        public void Expect(JsonElement e, JsonValueKind kind, string path)
        {
            if (e.ValueKind != kind) throw Error(path, $"expected {Kind(kind)}, found {Kind(e.ValueKind)}");
        }

        public JsonElement Obj(JsonElement o, string key, string at)
        {
            var v = Req(o, key, at);
            Expect(v, JsonValueKind.Object, Join(at, key));
            return v;
        }

        public JsonElement Arr(JsonElement o, string key, string at)
        {
            var v = Req(o, key, at);
            Expect(v, JsonValueKind.Array, Join(at, key));
            return v;
        }

        public string Str(JsonElement o, string key, string at)
        {
            var v = Req(o, key, at);
            Expect(v, JsonValueKind.String, Join(at, key));
            return v.GetString()!;
        }

        public string? OptStr(JsonElement o, string key, string at)
        {
            if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            Expect(v, JsonValueKind.String, Join(at, key));
            return v.GetString();
        }

        public int Int(JsonElement o, string key, string at)
        {
            var v = Req(o, key, at);
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw Error(Join(at, key), $"expected a 32-bit integer, found {Kind(v.ValueKind)}");
            return i;
        }

        public long Long(JsonElement o, string key, string at)
        {
            var v = Req(o, key, at);
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l) || l < 0) throw Error(Join(at, key), "expected an integer ≥ 0");
            return l;
        }

        public long LongAt(JsonElement a, int index, string path)
        {
            var v = a[index];
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l)) throw Error($"{path}[{index}]", "expected an integer");
            return l;
        }

        private static string Kind(JsonValueKind k) => k switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            _ => "nothing",
        };
    }
}
