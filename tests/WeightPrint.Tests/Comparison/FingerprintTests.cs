using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WeightPrint.IO;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Numerics;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Comparison;

public class FingerprintTests
{
    private static string Sample(params string[] parts) => Path.Combine([SharedModels.RepoRoot, "samples", .. parts]);

    private static readonly Lazy<string> Stories = new(() => FingerprintFiles.Stories);

    private static JsonObject Compare(string a, string b, string methods = "all")
    {
        var r = CliRunner.Run("compare", a, b, "--json", "--methods", methods);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (JsonObject)JsonNode.Parse(r.Stdout)!;
    }

    [Fact]
    public void A_fingerprint_against_the_GGUF_copy_of_its_model_is_derived_and_against_llama2xs_is_not()
    {
        var derived = Compare(Stories.Value, Sample("stories260K-gguf-q8_0"));
        Assert.Equal("derived", (string)derived["verdict"]!["label"]!);
        var pcs = derived["methods"]!.AsArray().Single(m => (string)m!["id"]! == "pcs")!;
        Assert.True((double)pcs["p_value"]! < 1e-10);
        var other = Compare(Stories.Value, Sample("llama2xs-hf-f32"));
        Assert.NotEqual("derived", (string)other["verdict"]!["label"]!);
    }

    [Fact]
    public void Two_fingerprints_of_copies_are_derived()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run("fingerprint", Sample("stories260K-gguf-q8_0"), "-o", dir.File("g.json"), "--quiet").ExitCode);
        var r = Compare(Stories.Value, dir.File("g.json"));
        Assert.Equal("derived", (string)r["verdict"]!["label"]!);
        Assert.Null(r["identity"]);
    }

    [Fact]
    public void A_fingerprint_without_signatures_against_one_with_them_leaves_the_signature_methods_not_applicable()
    {
        // A samples-only fingerprint (what `fingerprint hf:` writes by default) has no pdf or spectral signature; pdf's
        // cannot be made from sampled rows, which must read as "not applicable", never as a malformed file. (This model
        // is narrower than the samples, so they hold whole attention tensors and spectral can still be computed; the
        // wide case is in FingerprintSeeThroughTests.)
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run("fingerprint", Sample("stories260K-gguf-q8_0"), "-o", dir.File("s.json"), "--quiet", "--methods", "pcs,neuron-match").ExitCode);
        foreach (var (a, b) in new[] { (Stories.Value, dir.File("s.json")), (dir.File("s.json"), Stories.Value) })
        {
            var r = Compare(a, b);
            Assert.Equal("derived", (string)r["verdict"]!["label"]!);
            foreach (var id in new[] { "pdf", "pdf-mlp" })
                Assert.Equal("not_applicable", (string)r["methods"]!.AsArray().Single(m => (string)m!["id"]! == id)!["status"]!);
        }
    }

    [Fact]
    public void A_fingerprint_gives_pcs_the_same_rows_as_the_model()
    {
        // The BF16 copy loses nothing to the fingerprint's BF16 storage, so pcs sees the very same numbers.
        using var dir = new TempDir();
        string model = Sample("stories260K-hf-bf16");
        Assert.Equal(0, CliRunner.Run("fingerprint", model, "-o", dir.File("b.json"), "--quiet", "--methods", "pcs").ExitCode);
        var direct = Compare(model, Sample("llama2xs-hf-f32"), "pcs");
        var viaFingerprint = Compare(dir.File("b.json"), Sample("llama2xs-hf-f32"), "pcs");
        Assert.Equal((double)direct["methods"]![0]!["score"]!, (double)viaFingerprint["methods"]![0]!["score"]!, 12);
        Assert.Equal((double)direct["methods"]![0]!["p_value"]!, (double)viaFingerprint["methods"]![0]!["p_value"]!, 12);
    }

    [Fact]
    public void Reading_and_writing_gives_the_same_bytes_and_the_provenance_is_recorded()
    {
        byte[] bytes = File.ReadAllBytes(Stories.Value);
        var fp = Fingerprint.Read(new MemoryStream(bytes), "fp");
        using var ms = new MemoryStream();
        fp.Write(ms);
        Assert.Equal(bytes, ms.ToArray());
        var file = Assert.Single(fp.Source!.Files);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Sample("stories260K-llama2c", "stories260K.bin")))), file.Sha256);
        Assert.Equal("local", fp.Source.Kind);
        Assert.NotEmpty(fp.TensorHashes);
        Assert.Equal(20250701, fp.Seed);
        Assert.StartsWith("weightprint ", fp.Tool);
        Assert.Contains("pdf", fp.Signatures.Keys);
    }

    [Fact]
    public void The_sample_layout_depends_only_on_shape_and_seed_and_is_contiguous()
    {
        var a = SampleLayout.Residual(4096, 7);
        Assert.Equal(a, SampleLayout.Residual(4096, 7));
        Assert.Equal(SampleLayout.ResidualDims, a.Length);
        Assert.All(a.Zip(a.Skip(1)), p => Assert.Equal(p.First + 1, p.Second));
        Assert.Equal(a[..SampleLayout.PcsResidualDims], SampleLayout.PcsResidual(4096, 7));
        Assert.NotEqual(a, SampleLayout.Residual(4096, 8));
        Assert.Equal(Enumerable.Range(0, 64), SampleLayout.Residual(64, 7));
    }

    /// <summary>
    /// Size of a Llama-2-7B fingerprint (hidden 4096, 32 layers, MLP 11008, vocabulary 32000; BF16 model of
    /// 6,738,149,376 parameters without norm gains = 13.48 GB). Elements stored per layer: Q, K, V 256 rows × 256 residual dims each,
    /// O 256 × 256, gate and up 256 neurons × 512 dims each, down 256 × 256: 3·65,536 + 65,536 + 2·131,072 + 65,536 =
    /// 589,824; × 32 layers = 18,874,368. Embedding: 512 tokens × 4096 = 2,097,152; LM head 512 × 256 = 131,072.
    /// Total 21,102,592 BF16 values = 42,205,184 bytes, 56,273,580 in base64: ≤ 64 MiB and 0.42% of the model.
    /// </summary>
    [Fact]
    public void A_7B_fingerprint_is_at_most_64_MB_and_1_percent_of_the_model()
    {
        const int d = 4096, layers = 32, ff = 11008, vocab = 32000;
        var tensors = new Dictionary<TensorRole, (int R, int C)>
        {
            [TensorRole.AttnQ] = (d, d), [TensorRole.AttnK] = (d, d), [TensorRole.AttnV] = (d, d), [TensorRole.AttnO] = (d, d),
            [TensorRole.MlpGate] = (ff, d), [TensorRole.MlpUp] = (ff, d), [TensorRole.MlpDown] = (d, ff),
        };
        var layerViews = Enumerable.Range(0, layers).Select(i => new LayerView(i, "decoder",
            tensors.ToDictionary(kv => kv.Key, kv => (TensorView)new GeneratedView($"{i}.{kv.Key}", kv.Value.R, kv.Value.C)))).ToList();
        var model = new Dictionary<ModelRole, TensorView> { [ModelRole.Embedding] = new GeneratedView("emb", vocab, d), [ModelRole.LmHead] = new GeneratedView("head", vocab, d) };
        var geometry = new AttentionGeometry(d, 32, 32, 128, ff, vocab);
        var view = new ModelView(new Checkpoint("7b", "generated", []), "llama", geometry, layerViews, model, [], []);
        long parameters = (long)layers * (4L * d * d + 3L * d * ff) + 2L * vocab * d;
        Assert.Equal(6_738_149_376, parameters); // without the norm gains
        var summary = new ModelSummary("7b", "weights", "generated", "llama", layers, parameters, 2 * parameters, geometry);
        var fp = FingerprintBuilder.Build(view, summary, new Dictionary<string, JsonObject>(), 20250701);
        Assert.Equal(21_102_592L * 2, fp.SampleBytes);
        using var counter = new MemoryStream();
        fp.Write(counter);
        Assert.True(counter.Length <= 64L << 20, $"{counter.Length} bytes");
        Assert.True(counter.Length <= 0.01 * 2 * parameters, $"{counter.Length} bytes");
        Assert.Equal(fp.Samples.Count, Fingerprint.Read(new MemoryStream(counter.ToArray()), "7b").Samples.Count);
    }

    private sealed class GeneratedView(string name, long rows, long columns) : TensorView
    {
        public override long Rows => rows;

        public override long Columns => columns;

        public override TensorDType DType => TensorDType.BF16;

        public override string Description => name;

        public override IReadOnlyList<TensorInfo> Sources => [];

        public override void ReadRows(long firstRow, int count, Span<float> destination)
        {
            for (int i = 0; i < count * columns; i++) destination[i] = ((firstRow * 31 + i) % 97 - 48) / 97f;
        }
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "truncated", "malformed or truncated" },
        { "not-json", "malformed or truncated" },
        { "tampered", "'payload_sha256': hash mismatch" },
        { "duplicate-key", "'version': duplicate key" },
        { "missing-field", "'payload.samples': missing" },
        { "wrong-type", "'payload.seed': expected a 32-bit integer, found a string" },
        { "newer-version", "'version': fingerprint version 3 is newer" },
        { "short-sample", "'payload.samples[0].blocks[0].bf16': expected base64 of" },
        { "sample-outside", "'payload.samples[0].blocks[0].rows'" },
        { "not-an-object", "fingerprint is not a JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_damaged_fingerprint_gets_one_line_naming_the_field_and_exit_code_2(string damage, string expected)
    {
        using var dir = new TempDir();
        string text = File.ReadAllText(Stories.Value);
        string bad = damage switch
        {
            "truncated" => text[..(text.Length / 2)],
            "not-json" => "{\"format\":\"weightprint-fingerprint\", nope",
            "tampered" => text.Replace("\"seed\":20250701", "\"seed\":20250702", StringComparison.Ordinal),
            "duplicate-key" => text.Replace("\"version\":2,", "\"version\":2,\"version\":2,", StringComparison.Ordinal),
            "missing-field" => Rehash(text, p => p.Remove("samples")),
            "wrong-type" => Rehash(text, p => p["seed"] = "twenty"),
            "newer-version" => text.Replace("\"version\":2,", "\"version\":3,", StringComparison.Ordinal),
            "short-sample" => Rehash(text, p => p["samples"]![0]!["blocks"]![0]!["bf16"] = "AAAA"),
            "sample-outside" => Rehash(text, p => p["samples"]![0]!["blocks"]![0]!["rows"] = new JsonArray(1_000_000, 1)),
            "not-an-object" => "[\"weightprint-fingerprint\"]",
            _ => throw new ArgumentException(damage),
        };
        Assert.NotEqual(text, bad);
        string path = dir.File("bad.json");
        File.WriteAllText(path, bad);
        var r = CliRunner.Run("compare", path, Sample("llama2xs-hf-f32"), "--methods", "pdf");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(expected, r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
        var ex = Assert.Throws<InvalidModelFileException>(() => Fingerprint.Read(new MemoryStream(Encoding.UTF8.GetBytes(bad)), "x"));
        Assert.Contains(expected, ex.Message);
    }

    /// <summary>Changes the payload and writes a matching hash, as a careless (not malicious) tool would.</summary>
    [Fact]
    public void Samples_read_the_same_from_raw_and_from_escaped_base64()
    {
        // This tool writes base64 without JSON escapes and reads it from the raw bytes; another writer may escape '+' as
        // \u002B or '/' as \/ (System.Text.Json's default encoder does, as Rehash shows): those are unescaped first.
        string text = File.ReadAllText(Stories.Value);
        string rehashed = Rehash(text, _ => { });
        int at = rehashed.IndexOf("\"payload\":{", StringComparison.Ordinal) + "\"payload\":".Length;
        string payload = rehashed[at..^1].Replace("/", "\\/", StringComparison.Ordinal);
        string escaped = $"{{\"format\":\"weightprint-fingerprint\",\"version\":2,\"payload_sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(payload)))}\",\"payload\":{payload}}}";
        Assert.Contains("\\u002B", escaped, StringComparison.Ordinal);
        Assert.Contains("\\/", escaped, StringComparison.Ordinal);
        var plain = Fingerprint.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "plain");
        var other = Fingerprint.Read(new MemoryStream(Encoding.UTF8.GetBytes(escaped)), "escaped");
        Assert.Equal(plain.Samples.Count, other.Samples.Count);
        for (int i = 0; i < plain.Samples.Count; i++)
        {
            var (x, y) = (plain.Samples[i], other.Samples[i]);
            Assert.Equal(x.Blocks.Count, y.Blocks.Count);
            for (int j = 0; j < x.Blocks.Count; j++) Assert.Equal(x.Blocks[j].Bytes, y.Blocks[j].Bytes);
        }
    }

    internal static string Rehash(string text, Action<JsonObject> change)
    {
        var root = (JsonObject)JsonNode.Parse(text)!;
        var payload = (JsonObject)root["payload"]!;
        change(payload);
        string p = payload.ToJsonString();
        return $"{{\"format\":\"weightprint-fingerprint\",\"version\":2,\"payload_sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(p)))}\",\"payload\":{p}}}";
    }
}
