using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

public class CompareCommandTests
{
    private static JsonObject Schema => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(SharedModels.RepoRoot, "docs", "compare.schema.json")))!;

    [Fact]
    public void Compare_json_matches_the_documented_schema_and_pdf_alone_is_inconclusive()
    {
        string a = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16");
        string b = Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32");
        var r = CliRunner.Run("compare", a, b, "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Empty(MiniJsonSchema.Validate(json, Schema));
        Assert.Equal("inconclusive", (string)json["verdict"]!["label"]!);
        var pdf = json["methods"]!.AsArray().Single(m => (string)m!["id"]! == "pdf")!;
        Assert.Null(pdf["p_value"]);
        Assert.NotNull(pdf["per_curve"]!["q"]);
        Assert.NotNull(pdf["background_percentile"]);
        Assert.Equal(5, (int)json["models"]![0]!["layers"]!);
    }

    [Fact]
    public void A_compare_document_naming_non_finite_tensors_matches_the_documented_schema()
    {
        // A copy of a sample model with one NaN weight in the first layer's q_proj.
        using var temp = new TempDir();
        string original = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16");
        string copy = temp.File("with-nan");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(original)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string weights = Path.Combine(copy, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!;
        const string tensor = "model.layers.0.self_attn.q_proj.weight";
        Assert.Equal("BF16", (string)header[tensor]!["dtype"]!);
        long offset = 8 + headerLength + (long)header[tensor]!["data_offsets"]![0]!;
        bytes[offset] = 0xC0; // bf16 0x7FC0: a quiet NaN
        bytes[offset + 1] = 0x7F;
        File.WriteAllBytes(weights, bytes);

        var r = CliRunner.Run("compare", original, copy, "--methods", "pdf", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Empty(MiniJsonSchema.Validate(json, Schema));
        var named = Assert.Single(json["non_finite"]!["tensors"]!.AsArray());
        Assert.Equal(1, (int)named!["model"]!);
        Assert.Equal(tensor, (string)named["tensor"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)json["non_finite"]!["policy"]));

        // The schema describes the object: a wrong type inside it is an error.
        json["non_finite"]!["tensors"]![0]!["model"] = "second";
        json["non_finite"]!.AsObject().Remove("policy");
        var errors = MiniJsonSchema.Validate(json, Schema);
        Assert.Contains(errors, e => e.Contains("non_finite.tensors[0].model", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("missing required 'policy'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_schema_checker_rejects_a_broken_document()
    {
        var broken = JsonNode.Parse("""{"schema_version": 1, "tool": "weightprint", "seed": 1, "models": [], "identity": null, "methods": [{"id": "nope"}], "verdict": {"label": "maybe"}}""");
        var errors = MiniJsonSchema.Validate(broken, Schema);
        Assert.Contains(errors, e => e.Contains("nope"));
        Assert.Contains(errors, e => e.Contains("maybe"));
        Assert.Contains(errors, e => e.Contains("missing required 'reason'"));
    }

    [SkippableFact]
    public void Identical_weights_in_different_containers_are_derived()
    {
        var r = CliRunner.Run("compare", SharedModels.Require("l2c-stories260K/stories260K.bin"), SharedModels.Require("derived-stories260K-hf-sharded"), "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("derived", (string)json["verdict"]!["label"]!);
        Assert.Contains("identical weights", (string)json["verdict"]!["reason"]!);
        Assert.True((bool)json["identity"]!["all_identical"]!);
    }

    [Fact]
    public void A_fingerprint_file_stands_in_for_the_model()
    {
        using var dir = new TempDir();
        string a = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16");
        string b = Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32");
        string fp = dir.File("a.json");
        Assert.Equal(0, CliRunner.Run("fingerprint", a, "--methods", "pdf", "-o", fp, "--quiet").ExitCode);
        var direct = JsonNode.Parse(CliRunner.Run("compare", a, b, "--methods", "pdf", "--json").Stdout)!;
        var viaFile = JsonNode.Parse(CliRunner.Run("compare", fp, b, "--methods", "pdf", "--json").Stdout)!;
        Assert.Equal((double)direct["methods"]![0]!["score"]!, (double)viaFile["methods"]![0]!["score"]!, 12);
        Assert.Equal("fingerprint", (string)viaFile["models"]![0]!["source"]!);
    }

    [Fact]
    public void Human_output_has_the_table_raw_curves_and_a_verdict_line()
    {
        string a = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin");
        string b = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16");
        var r = CliRunner.RunAt(400, "compare", a, b, "--methods", "pdf");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("pdf per curve", r.Stdout);
        Assert.Contains("raw standard deviations", r.Stdout);
        Assert.Contains("verdict: INCONCLUSIVE", r.Stdout);
        Assert.Contains("% of unrelated model pairs", r.Stdout);
    }

    [Theory]
    [InlineData("compare", "/no/such/model", "/no/such/other")]
    [InlineData("compare", "samples/llama2xs-hf-f32", "samples/llama2xs-hf-f32", "--methods", "bogus")]
    [InlineData("compare", "samples/llama2xs-hf-f32")]
    [InlineData("fingerprint", "samples/llama2xs-hf-f32/config.json")]
    public void Bad_input_gives_one_line_and_exit_code_2(params string[] args)
    {
        var fixedArgs = args.Select(a => a.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(SharedModels.RepoRoot, a) : a).ToArray();
        var r = CliRunner.Run(fixedArgs);
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.StartsWith("error: ", r.Stderr);
    }
}

public class IdentityCheckTests
{
    [SkippableFact]
    public void A_tied_head_saved_twice_still_counts_as_identical_weights()
    {
        // llama2.c's ckpt.pt stores output.weight sharing the embedding's storage; the HF conversion ties it.
        var r = CliRunner.Run("compare", SharedModels.Require("l2c-llama2xs-saltyduckegg/ckpt.pt"), SharedModels.Require("derived-llama2xs-hf-f32"), "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var json = System.Text.Json.Nodes.JsonNode.Parse(r.Stdout)!;
        Assert.True((bool)json["identity"]!["all_identical"]!);
        Assert.Equal("derived", (string)json["verdict"]!["label"]!);
    }
}

public class CompareManyTests
{
    [Fact]
    public void Model_a_is_compared_with_each_of_several_models()
    {
        string S(string p) => Path.Combine(SharedModels.RepoRoot, "samples", p);
        var r = CliRunner.Run("compare", S("stories260K-llama2c/stories260K.bin"), S("stories260K-hf-bf16"), S("llama2xs-hf-f32"), "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var comparisons = System.Text.Json.Nodes.JsonNode.Parse(r.Stdout)!["comparisons"]!.AsArray();
        Assert.Equal(2, comparisons.Count);
        var single = System.Text.Json.Nodes.JsonNode.Parse(CliRunner.Run("compare", S("stories260K-llama2c/stories260K.bin"), S("llama2xs-hf-f32"), "--methods", "pdf", "--json").Stdout)!;
        Assert.Equal(single.ToJsonString(), comparisons[1]!.ToJsonString());
        var text = CliRunner.Run("compare", S("stories260K-llama2c/stories260K.bin"), S("stories260K-hf-bf16"), S("llama2xs-hf-f32"), "--methods", "pdf");
        Assert.Equal(2, text.Stdout.Split("verdict:").Length - 1);
        var withReport = CliRunner.Run("compare", S("stories260K-llama2c/stories260K.bin"), S("stories260K-hf-bf16"), S("llama2xs-hf-f32"), "--report", "/tmp/x.html");
        Assert.Equal(2, withReport.ExitCode);
        Assert.Contains("matrix", withReport.Stderr);
    }
}
