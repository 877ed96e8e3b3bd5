using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

/// <summary>Matrices where a method is not applicable to any pair, or is not a similarity (issue 14, items 1 and 6).</summary>
public class MatrixEdgeCaseTests
{
    private static readonly string[] Samples =
    [
        Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin"),
        Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16"),
        Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32"),
    ];

    [Fact]
    public void Matrix_report_of_the_readme_samples_does_not_crash_when_a_method_is_na_for_every_pair()
    {
        using var dir = new TempDir();
        string html = dir.File("m.html");
        var run = CliRunner.Run(["matrix", .. Samples, "--report", html, "--quiet"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(File.Exists(html));
        Assert.Contains("cka is not applicable to any pair", File.ReadAllText(html));
    }

    [Fact]
    public void Matrix_of_fingerprint_files_with_a_report_does_not_crash()
    {
        using var dir = new TempDir();
        var fps = new List<string>();
        for (int i = 0; i < Samples.Length; i++)
        {
            string fp = dir.File($"fp{i}.json");
            Assert.Equal(0, CliRunner.Run("fingerprint", Samples[i], "--methods", "pdf", "-o", fp, "--quiet").ExitCode);
            fps.Add(fp);
        }

        var run = CliRunner.Run(["matrix", .. fps, "--methods", "pdf,pcs,layers", "--report", dir.File("m.html"), "--json", "--quiet"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = JsonNode.Parse(run.Stdout)!;
        // Version-2 fingerprints carry pcs's sampled rows, so pcs is clustered exactly when it has a score for every pair;
        // an unclustered matrix has no merges.
        var pcs = json["matrices"]!["pcs"]!;
        bool pcsDefined = pcs["scores"]!.AsArray().SelectMany((row, i) => row!.AsArray().Where((_, j) => j != i)).All(v => v != null);
        Assert.Equal(pcsDefined, (bool)pcs["clustered"]!);
        if (!pcsDefined) Assert.Empty(pcs["merges"]!.AsArray());
        Assert.True((bool)json["matrices"]!["pdf"]!["clustered"]!);
    }

    [Fact]
    public void Layers_is_not_clustered_as_a_similarity_and_every_inconclusive_reason_is_printed()
    {
        var json = JsonNode.Parse(CliRunner.Run(["matrix", .. Samples, "--methods", "pdf,layers", "--json", "--quiet"]).Stdout)!;
        var layers = json["matrices"]!["layers"]!;
        Assert.False((bool)layers["clustered"]!);
        Assert.False((bool)layers["similarity"]!);
        Assert.Equal("none", (string)layers["linkage"]!);
        Assert.Contains("not a similarity", (string)layers["not_clustered_reason"]!);
        Assert.Empty(layers["merges"]!.AsArray());
        Assert.Equal([0, 1, 2], layers["order"]!.AsArray().Select(o => (int)o!));
        Assert.All(json["matrices"]!["pdf"]!["merges"]!.AsArray(), m => Assert.True((double)m!["height"]! >= 0));

        var text = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf,layers", "--quiet"]).Stdout;
        Assert.Contains("layers scores, models in input order (not clustered", text);
        int pairs = json["pairs"]!.AsArray().Count;
        for (int i = 0; i < pairs; i++)
        {
            var p = json["pairs"]![i]!;
            Assert.Contains($"M{(int)p["a"]! + 1} × M{(int)p["b"]! + 1}: {((string)p["verdict"]!["label"]!).ToUpperInvariant()}", text);
        }
    }

    [Fact]
    public void A_fingerprint_missing_a_field_is_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        string fp = dir.File("fp.json");
        Assert.Equal(0, CliRunner.Run("fingerprint", Samples[2], "--methods", "pdf", "-o", fp, "--quiet").ExitCode);
        // A fingerprint (version 2) whose payload lost a field and was re-hashed, so the reader reaches the damage.
        File.WriteAllText(fp, WeightPrint.Tests.Comparison.FingerprintTests.Rehash(File.ReadAllText(fp), p => p["signatures"]!["pdf"]!.AsObject().Remove("std")));
        var run = CliRunner.Run("compare", fp, Samples[1], "--methods", "pdf", "--quiet");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(fp, run.Stderr);
        Assert.Contains("malformed fingerprint: the saved pdf signature lacks a field", run.Stderr);
        Assert.DoesNotContain("internal error", run.Stderr);
        Assert.DoesNotContain("Exception", run.Stderr); // no .NET type names (issue 14, items 2 and 13)
    }
}
