using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Tests.Support;
using Xunit;

namespace WeightPrint.Tests.Hostile;

/// <summary>
/// Regression tests for the six root causes of "internal error" found by mutation fuzzing (issue 16), each input
/// built byte by byte: non-finite weights, shapes the methods cannot use, 32-bit overflows from header fields,
/// invalid Unicode in any JSON, non-integer tokenizer ids, malformed fingerprint files; and the error line bound.
/// </summary>
public class HostileInputTests
{
    private const int Hidden = 16, Heads = 4, KvHeads = 2, HeadDim = 4, Ff = 24, Vocab = 32, Layers = 2;

    private const string Config = """{"model_type": "llama", "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 32, "num_hidden_layers": 2}""";

    /// <summary>A small Llama checkpoint folder; <paramref name="edit"/> may change a tensor's name, shape or values.</summary>
    private static string Llama(TempDir dir, string name, int seed = 1, Func<(string Name, long[] Shape, float[] Data), (string Name, long[] Shape, float[] Data)>? edit = null, string config = Config)
    {
        var rnd = new Random(seed);
        float[] R(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        var tensors = new List<(string Name, long[] Shape, float[] Data)>
        {
            ("model.embed_tokens.weight", [Vocab, Hidden], R(Vocab * Hidden)),
            ("lm_head.weight", [Vocab, Hidden], R(Vocab * Hidden)),
            ("model.norm.weight", [Hidden], R(Hidden)),
        };
        for (int i = 0; i < Layers; i++)
        {
            string p = $"model.layers.{i}.";
            tensors.Add((p + "self_attn.q_proj.weight", [Heads * HeadDim, Hidden], R(Heads * HeadDim * Hidden)));
            tensors.Add((p + "self_attn.k_proj.weight", [KvHeads * HeadDim, Hidden], R(KvHeads * HeadDim * Hidden)));
            tensors.Add((p + "self_attn.v_proj.weight", [KvHeads * HeadDim, Hidden], R(KvHeads * HeadDim * Hidden)));
            tensors.Add((p + "self_attn.o_proj.weight", [Hidden, Heads * HeadDim], R(Heads * HeadDim * Hidden)));
            tensors.Add((p + "input_layernorm.weight", [Hidden], R(Hidden)));
            tensors.Add((p + "post_attention_layernorm.weight", [Hidden], R(Hidden)));
            tensors.Add((p + "mlp.gate_proj.weight", [Ff, Hidden], R(Ff * Hidden)));
            tensors.Add((p + "mlp.up_proj.weight", [Ff, Hidden], R(Ff * Hidden)));
            tensors.Add((p + "mlp.down_proj.weight", [Hidden, Ff], R(Ff * Hidden)));
        }

        string folder = dir.File(name);
        Directory.CreateDirectory(folder);
        var w = new SafetensorsWriter();
        foreach (var t in tensors)
        {
            var (n, shape, data) = edit?.Invoke(t) ?? t;
            w.Add(n, data, shape);
        }

        w.Write(Path.Combine(folder, "model.safetensors"));
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        return folder;
    }

    private static void AssertCleanRefusal(CliRunner.Result r, params string[] mentions)
    {
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        string line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.True(line.Length <= ErrorText.MaxLineChars + "error: ".Length, $"error line of {line.Length} chars");
        foreach (var m in mentions) Assert.Contains(m, r.Stderr, StringComparison.Ordinal);
    }

    // 1. NaN / ±Infinity weights -------------------------------------------------------------------------------

    [Fact]
    public void Compare_with_nan_and_infinity_weights_names_the_tensors_and_writes_valid_json()
    {
        using var dir = new TempDir();
        string a = Llama(dir, "a");
        string b = Llama(dir, "b", edit: t =>
        {
            float poison = t.Name switch
            {
                "model.layers.0.self_attn.q_proj.weight" => float.NaN,
                "model.layers.1.mlp.gate_proj.weight" => float.PositiveInfinity,
                "model.layers.0.mlp.up_proj.weight" => float.NegativeInfinity,
                _ => 0,
            };
            if (poison == 0) return t;
            var data = (float[])t.Data.Clone();
            data[3] = poison;
            return (t.Name, t.Shape, data);
        });

        var json = CliRunner.Run("compare", a, b, "--json", "--quiet");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var doc = JsonNode.Parse(json.Stdout)!;
        var named = doc["non_finite"]!["tensors"]!.AsArray().Select(t => ((int)t!["model"]!, (string)t["tensor"]!)).ToList();
        Assert.Contains((1, "model.layers.0.self_attn.q_proj.weight"), named);
        Assert.Contains((1, "model.layers.1.mlp.gate_proj.weight"), named);
        Assert.Contains((1, "model.layers.0.mlp.up_proj.weight"), named);
        Assert.DoesNotContain(named, n => n.Item1 == 0);
        Assert.Contains("read as 0", (string)doc["non_finite"]!["policy"]!, StringComparison.Ordinal);

        var text = CliRunner.Run("compare", a, b, "--quiet");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("non-finite values in B: ", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_writer_turns_every_non_finite_number_into_null()
    {
        var doc = new JsonObject
        {
            ["inf"] = double.PositiveInfinity,
            ["nested"] = new JsonObject { ["list"] = new JsonArray(1.5, double.NaN, float.NegativeInfinity) },
            ["text"] = "NaN",
        };
        var back = JsonNode.Parse(JsonText.Serialize(doc))!;
        Assert.Null(back["inf"]);
        Assert.Equal(1.5, (double)back["nested"]!["list"]![0]!);
        Assert.Null(back["nested"]!["list"]![1]);
        Assert.Null(back["nested"]!["list"]![2]);
        Assert.Equal("NaN", (string)back["text"]!);
    }

    // 2. Shapes the loader accepts but methods cannot use ------------------------------------------------------

    [Theory]
    [InlineData("model.layers.0.self_attn.o_proj.weight", "reshape")]
    [InlineData("model.layers.1.self_attn.v_proj.weight", "transpose")]
    [InlineData("model.layers.0.mlp.down_proj.weight", "transpose")]
    public void A_weight_whose_shape_contradicts_the_model_is_refused_naming_it(string tensor, string how)
    {
        using var dir = new TempDir();
        string a = Llama(dir, "a");
        string b = Llama(dir, "b", edit: t => t.Name != tensor ? t
            : how == "reshape" ? (t.Name, [t.Shape[0] * t.Shape[1]], t.Data) : (t.Name, [t.Shape[1], t.Shape[0]], t.Data));
        AssertCleanRefusal(CliRunner.Run("inspect", b, "--roles"), tensor, "needs");
        AssertCleanRefusal(CliRunner.Run("compare", a, b, "--quiet"), tensor);
    }

    [Fact]
    public void A_gguf_weight_with_no_dimensions_is_refused_naming_it()
    {
        using var dir = new TempDir();
        string path = dir.File("scalar.gguf");
        var m = Enumerable.Range(0, Hidden * Hidden).Select(i => (float)Math.Sin(i)).ToArray();
        new GgufWriter()
            .Add("general.architecture", GgufValue.Str("llama"))
            .Add("llama.embedding_length", GgufValue.U32(Hidden))
            .Add("llama.block_count", GgufValue.U32(1))
            .Add("llama.attention.head_count", GgufValue.U32(Heads))
            .Add("llama.attention.head_count_kv", GgufValue.U32(Heads))
            .AddF32("blk.0.attn_q.weight", m, Hidden, Hidden)
            .AddF32("blk.0.attn_k.weight", m, Hidden, Hidden)
            .AddF32("blk.0.attn_v.weight", m, Hidden, Hidden)
            .AddRaw("blk.0.attn_output.weight", 0, [], BitConverter.GetBytes(1f))
            .Write(path);
        AssertCleanRefusal(CliRunner.Run("inspect", path, "--roles"), "blk.0.attn_output.weight", "[1, 1]");
    }

    // 3. 32-bit overflows from header fields ------------------------------------------------------------------

    [Fact]
    public void A_llama2c_header_with_vocab_size_int_min_is_refused()
    {
        using var dir = new TempDir();
        string path = dir.File("model.bin");
        var bytes = new byte[28 + 4096];
        int[] header = [Hidden, Ff, 1, Heads, KvHeads, int.MinValue, 64];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), header[i]);
        File.WriteAllBytes(path, bytes);
        AssertCleanRefusal(CliRunner.Run("inspect", path));
    }

    [Theory]
    [InlineData("blk.99999999999.attn_q.weight")]
    [InlineData("blk.2147483648.attn_q.weight")]
    [InlineData("blk.0.ffn_gate.99999999999.weight")]
    public void A_gguf_layer_number_beyond_the_index_limit_is_refused(string name)
    {
        using var dir = new TempDir();
        string path = dir.File("big-index.gguf");
        new GgufWriter()
            .Add("general.architecture", GgufValue.Str("llama"))
            .AddF32("blk.0.attn_norm.weight", [1, 1], 2)
            .AddF32(name, [1, 2, 3, 4], 2, 2)
            .Write(path);
        var r = CliRunner.Run("inspect", path, "--roles");
        Assert.True(r.ExitCode is 0 or 2, r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        if (name.StartsWith("blk.9", StringComparison.Ordinal) || name.StartsWith("blk.2", StringComparison.Ordinal))
            AssertCleanRefusal(r, "exceeds the limit");
    }

    // 4. Invalid UTF-8 or a lone surrogate escape in any JSON -------------------------------------------------

    public static TheoryData<string, string> JsonFiles() => new()
    {
        { "model.safetensors", "invalid-utf8" }, { "model.safetensors", "lone-surrogate" },
        { "config.json", "invalid-utf8" }, { "config.json", "lone-surrogate" },
        { "tokenizer.json", "invalid-utf8" }, { "tokenizer.json", "lone-surrogate" },
        { "adapter_config.json", "invalid-utf8" }, { "adapter_config.json", "lone-surrogate" },
        { "model.safetensors.index.json", "invalid-utf8" }, { "model.safetensors.index.json", "lone-surrogate" },
    };

    [Theory]
    [MemberData(nameof(JsonFiles))]
    public void Invalid_unicode_in_any_json_input_is_a_clean_refusal(string file, string kind)
    {
        using var dir = new TempDir();
        byte[] Bad(string json)
        {
            // Put the hostile string inside a JSON string value named "zz".
            int brace = json.IndexOf('{', StringComparison.Ordinal);
            var head = Encoding.UTF8.GetBytes(json[..(brace + 1)] + "\"zz\": \"a");
            byte[] bad = kind == "invalid-utf8" ? [0xC3, 0x28] : Encoding.ASCII.GetBytes("\\ud800");
            var tail = Encoding.UTF8.GetBytes("b\", " + json[(brace + 1)..]);
            return [.. head, .. bad, .. tail];
        }

        string folder = dir.File("m");
        Directory.CreateDirectory(folder);
        switch (file)
        {
            case "model.safetensors":
            {
                var header = Bad("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""");
                var bytes = new byte[8 + header.Length + 4];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
                header.CopyTo(bytes, 8);
                File.WriteAllBytes(Path.Combine(folder, file), bytes);
                break;
            }

            case "config.json" or "tokenizer.json":
                folder = Llama(dir, "llama");
                File.WriteAllBytes(Path.Combine(folder, file), Bad(file == "config.json" ? Config : """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}}"""));
                break;
            case "adapter_config.json":
                new SafetensorsWriter()
                    .Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new float[2 * Hidden], 2, Hidden)
                    .Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", new float[2 * Hidden], Hidden, 2)
                    .Write(Path.Combine(folder, "adapter_model.safetensors"));
                File.WriteAllBytes(Path.Combine(folder, file), Bad("""{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}"""));
                break;
            default:
                new SafetensorsWriter().Add("w", [1f], 1).Write(Path.Combine(folder, "model-00001-of-00001.safetensors"));
                File.WriteAllBytes(Path.Combine(folder, file), Bad("""{"metadata": {}, "weight_map": {"w": "model-00001-of-00001.safetensors"}}"""));
                break;
        }

        AssertCleanRefusal(CliRunner.Run("inspect", folder, "--roles"), "not valid Unicode");
    }

    // 5. tokenizer.json vocabulary values that are not integers ------------------------------------------------

    [Theory]
    [InlineData("1.5")]
    [InlineData("\"7\"")]
    [InlineData("1e30")]
    [InlineData("[1]")]
    [InlineData("null")]
    public void A_tokenizer_id_that_is_not_an_integer_is_refused_by_plain_inspect(string id)
    {
        using var dir = new TempDir();
        string folder = Llama(dir, "m");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": " + id + "}}}");
        AssertCleanRefusal(CliRunner.Run("inspect", folder), "tokenizer.json", "not an integer");
    }

    // 6. Fingerprint files: wrong types, duplicate keys, missing fields ----------------------------------------

    public static TheoryData<string> FingerprintDamage() =>
    [
        "duplicate-key", "version-string", "layers-string", "model-array", "methods-string",
        "drop-pdf-std", "pdf-std-string", "pdf-layers-array", "pdf-std-q-strings", "drop-spectral-layers", "spectral-hidden-huge",
    ];

    [Theory]
    [MemberData(nameof(FingerprintDamage))]
    public void A_damaged_fingerprint_file_is_a_clean_refusal(string damage)
    {
        using var dir = new TempDir();
        string model = Llama(dir, "m");
        string fp = dir.File("fp.json");
        var made = CliRunner.Run("fingerprint", model, "-o", fp, "--quiet", "--methods", "pdf,spectral");
        Assert.True(made.ExitCode == 0, made.Stderr);
        // Version 2: the content sits under "payload", covered by "payload_sha256"; a damaged payload is re-hashed, as a
        // careless (not malicious) tool would, so that the reader reaches the damaged field itself.
        var root = JsonNode.Parse(File.ReadAllText(fp))!.AsObject();
        var payload = root["payload"]!.AsObject();
        var pdf = payload["signatures"]!["pdf"]!.AsObject();
        var spectral = payload["signatures"]!["spectral"]!.AsObject();
        string text;
        switch (damage)
        {
            case "duplicate-key":
                text = root.ToJsonString().Replace("\"version\":2", "\"version\":2,\"version\":2", StringComparison.Ordinal);
                Assert.Contains("\"version\":2,\"version\":2", text, StringComparison.Ordinal);
                break;
            case "version-string":
                root["version"] = "2";
                text = root.ToJsonString();
                break;
            default:
                switch (damage)
                {
                    case "layers-string": payload["model"]!["layers"] = "two"; break;
                    case "model-array": payload["model"] = new JsonArray(1, 2); break;
                    case "methods-string": payload["signatures"] = "pdf"; break;
                    case "drop-pdf-std": pdf.Remove("std"); break;
                    case "pdf-std-string": pdf["std"] = "x"; break;
                    case "pdf-layers-array": pdf["layers"] = new JsonArray(new JsonArray()); break;
                    case "pdf-std-q-strings": pdf["std"]!["q"] = new JsonArray("a", "b"); break;
                    case "drop-spectral-layers": spectral.Remove("layers"); break;
                    case "spectral-hidden-huge": spectral["hidden"] = 1e300; break;
                }

                text = WeightPrint.Tests.Comparison.FingerprintTests.Rehash(root.ToJsonString(), _ => { });
                break;
        }

        File.WriteAllText(fp, text);
        var r = CliRunner.Run("compare", fp, model, "--quiet", "--methods", "pdf,spectral");
        Assert.True(r.ExitCode is 0 or 2, r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        if (damage is "duplicate-key" or "version-string" or "model-array" or "drop-pdf-std" or "pdf-std-string") AssertCleanRefusal(r, "fp.json");
    }

    /// <summary>Found by the fingerprint fuzz target in CI's smoke: a fingerprint whose bytes are not valid UTF-8 (the
    /// committed input, minimised by AFL++ from a seed) failed later, when a string was read, as an internal error.</summary>
    [Fact]
    public void A_fingerprint_with_invalid_utf8_found_by_fuzzing_is_a_clean_refusal()
    {
        string input = Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Hostile", "FuzzFindings", "fingerprint-invalid-utf8.json");
        byte[] bytes = File.ReadAllBytes(input);
        var e = Assert.Throws<InvalidModelFileException>(() => WeightPrint.Comparison.Fingerprint.Read(new MemoryStream(bytes), "crash.json"));
        Assert.Contains("not valid Unicode", e.Message);
        AssertCleanRefusal(CliRunner.Run("compare", input, input, "--quiet"), "fingerprint-invalid-utf8.json");
    }

    /// <summary>Found by the fingerprint fuzz target in the CI smoke: a version-1 fingerprint whose optional model
    /// counts are <c>null</c> ("parameters": null) threw InvalidOperationException from the integer read (an internal
    /// error). The committed input is AFL++'s crash as found; optional counts that are not numbers now read as absent.</summary>
    [Fact]
    public void A_version_1_fingerprint_with_a_null_count_found_by_fuzzing_is_read_or_refused_cleanly()
    {
        string input = Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Hostile", "FuzzFindings", "fingerprint-v1-null-count.json");
        byte[] bytes = File.ReadAllBytes(input);
        try
        {
            var fp = WeightPrint.Comparison.Fingerprint.Read(new MemoryStream(bytes), "crash.json");
            Assert.Equal(0, fp.Model.Parameters);
        }
        catch (InvalidModelFileException)
        {
            // A clean refusal is as good as a clean read.
        }

        var r = CliRunner.Run("compare", input, input, "--quiet");
        Assert.True(r.ExitCode is 0 or 2, r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Found by the catalog fuzz target within seconds of its first run: a <c>db import</c> line whose
    /// fingerprint object holds a property name that is not valid UTF-8 failed (InvalidOperationException) when the
    /// fingerprint was copied out of the line. The committed input is AFL++'s crash, minimised with afl-tmin.</summary>
    [Fact]
    public void A_catalog_line_with_invalid_utf8_found_by_fuzzing_is_a_clean_refusal()
    {
        string input = Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Hostile", "FuzzFindings", "catalog-invalid-utf8.jsonl");
        byte[] bytes = File.ReadAllBytes(input);
        var e = Assert.Throws<InvalidModelFileException>(() => WeightPrint.Catalog.CatalogLines.Read(new MemoryStream(bytes), "crash.jsonl"));
        Assert.Contains("crash.jsonl line 1", e.Message, StringComparison.Ordinal); // (the minimised input also repeats a key)

        // The invalid byte alone, in a property name inside the fingerprint, with no other fault.
        byte[] line = [.. "{\"name\":\"x\",\"fingerprint\":{\"a"u8, 0xFF, .. "\":1}}\n"u8];
        var unicode = Assert.Throws<InvalidModelFileException>(() => WeightPrint.Catalog.CatalogLines.Read(new MemoryStream(line), "one.jsonl"));
        Assert.Contains("not valid Unicode", unicode.Message, StringComparison.Ordinal);
        using var dir = new TempDir();
        AssertCleanRefusal(CliRunner.Run("db", "import", input, "--db", dir.File("catalog.db")), "catalog-invalid-utf8.jsonl");
    }

    // Error lines: bounded, control characters escaped -----------------------------------------------------------

    [Fact]
    public void An_error_line_echoing_a_huge_control_laden_name_is_bounded_and_escaped()
    {
        using var dir = new TempDir();
        string name = "\u001b[31mred\u0007\r\n" + new string('x', 2_000_000);
        var header = Encoding.UTF8.GetBytes(new JsonObject { [name] = new JsonObject { ["dtype"] = "F99", ["shape"] = new JsonArray(1), ["data_offsets"] = new JsonArray(0, 4) } }.ToJsonString());
        var bytes = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        string path = dir.File("x.safetensors");
        File.WriteAllBytes(path, bytes);
        var r = CliRunner.Run("inspect", path);
        AssertCleanRefusal(r, "\\u001b[31mred\\u0007\\r\\n", "…");
        Assert.DoesNotContain(r.Stderr.TrimEnd('\n'), c => char.IsControl(c));
    }

    [Theory]
    [InlineData("plain", 500, "plain")]
    [InlineData("a\tb\nc\u0000d\u009b\u2028", 500, "a\\tb\\nc\\u0000d\\u009b\\u2028")]
    [InlineData("abcdefghij", 5, "abcd…")]
    [InlineData("abcde", 5, "abcde")]
    [InlineData("😀😀", 3, "😀…")]
    public void ErrorText_bounds_and_escapes(string input, int max, string expected) =>
        Assert.Equal(expected, ErrorText.Bound(input, max));

    [Fact]
    public void ErrorText_escapes_an_unpaired_surrogate() =>
        Assert.Equal("\\ud800x\\udc00", ErrorText.Bound(new string(['\ud800', 'x', '\udc00'])));
}
