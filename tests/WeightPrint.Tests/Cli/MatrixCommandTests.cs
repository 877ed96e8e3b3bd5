using System.Text.Json.Nodes;
using WeightPrint.Tests.Reports;
using WeightPrint.Tests.Support;
using WeightPrint.IO;

namespace WeightPrint.Tests.Cli;

public class MatrixCommandTests
{
    /// <summary>The samples; the GGUF one joins when this build can read GGUF (the reader lives on another branch).</summary>
    private static readonly string[] Samples = FindSamples();

    private static int Pairs => Samples.Length * (Samples.Length - 1) / 2;

    private static string[] FindSamples()
    {
        var list = new List<string>
        {
            Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin"),
            Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16"),
            Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32"),
        };
        string gguf = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-gguf-q8_0", "model-q8_0.gguf");
        try
        {
            using var c = WeightPrint.Formats.CheckpointLoader.Open(gguf);
            list.Add(gguf);
        }
        catch (WeightPrint.IO.InvalidModelFileException)
        {
        }

        return [.. list];
    }

    [Fact]
    public void Matrix_json_has_every_pair_with_the_same_results_as_compare()
    {
        var run = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf", "--json"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        var json = JsonNode.Parse(run.Stdout)!;
        Assert.Equal("matrix", (string)json["kind"]!);
        Assert.Equal(Samples.Length, json["models"]!.AsArray().Count);
        var pairs = json["pairs"]!.AsArray();
        Assert.Equal(Pairs, pairs.Count);
        foreach (var pair in pairs)
        {
            int a = (int)pair!["a"]!, b = (int)pair["b"]!;
            var single = JsonNode.Parse(CliRunner.Run("compare", Samples[a], Samples[b], "--methods", "pdf", "--json").Stdout)!;
            Assert.True(JsonNode.DeepEquals(single["methods"], pair["methods"]), $"pair {a}×{b}: methods differ from compare --json");
            Assert.True(JsonNode.DeepEquals(single["verdict"], pair["verdict"]));
            Assert.True(JsonNode.DeepEquals(single["identity"], pair["identity"]));
            Assert.True(JsonNode.DeepEquals(single["models"]![0], json["models"]![a]));
        }

        var scores = json["matrices"]!["pdf"]!["scores"]!.AsArray();
        Assert.Equal(Samples.Length, scores.Count);
        Assert.Equal(Samples.Length - 1, json["matrices"]!["pdf"]!["merges"]!.AsArray().Count);
    }

    [Fact]
    public void Matrix_report_is_self_contained_and_shows_the_json_numbers()
    {
        using var dir = new TempDir();
        string html = dir.File("m.html"), svg = dir.File("svg");
        var run = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf", "--report", html, "--svg", svg, "--json"]);
        Assert.Equal(0, run.ExitCode);
        var json = JsonNode.Parse(run.Stdout)!;
        string page = File.ReadAllText(html);
        Assert.Equal(["verdict", "evidence", "methods", "models"], ReportHtml.SectionIds(page));
        Assert.True(JsonNode.DeepEquals(json, ReportHtml.EmbeddedJson(page)), "the embedded JSON differs from matrix --json");
        Assert.True(ReportHtml.AssertNumbersMatchJson(page) >= 30);
        ReportHtml.AssertSelfContained(page);
        var files = Directory.GetFiles(svg).Select(Path.GetFileName).ToList();
        Assert.Contains("pdf-matrix.svg", files);
        Assert.Contains("pdf-dendrogram.svg", files);
        Assert.Contains("pdf-background.svg", files);
        Assert.Contains("pdf-normalised-v.svg", files);
        foreach (var f in Directory.GetFiles(svg)) System.Xml.Linq.XDocument.Parse(File.ReadAllText(f));
        foreach (var label in new[] { "M1", "M2", "M3" }) Assert.Contains(label, page);

        // Model indices come from the typed result (read back from the JSON tree, integers once came out as 0): every
        // model has its pdf curves in the table, and the score matrix lists each model once, in clustering order.
        foreach (var label in new[] { "M1", "M2", "M3" }) Assert.Contains($"<th class=\"n\">Q {label}</th>", page);
        var order = json["matrices"]!["pdf"]!["order"]!.AsArray().Select(o => $"<th class=\"n\">M{(int)o! + 1}</th>");
        Assert.Contains("<thead><tr><th></th>" + string.Concat(order) + "</tr>", page);
    }

    [Fact]
    public void Human_output_lists_models_pairs_and_the_clustered_matrix()
    {
        var run = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("M1 × M2", run.Stdout);
        Assert.Contains("clustering order", run.Stdout);
        Assert.Contains("INCONCLUSIVE", run.Stdout);
        Assert.DoesNotContain("\u001b[", run.Stdout);
    }

    [Fact]
    public void Progress_goes_to_stderr_only_when_forced_and_never_into_json()
    {
        var forced = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf", "--json", "--progress"]);
        Assert.Equal(0, forced.ExitCode);
        JsonNode.Parse(forced.Stdout);
        Assert.Contains("reading M1 (pdf)", forced.Stderr);
        Assert.Contains("reading M3 (pdf)", forced.Stderr);
        Assert.Contains($"M{Samples.Length - 1} × M{Samples.Length}, pair {Pairs} of {Pairs} (pdf)", forced.Stderr);
        Assert.Contains("100%", forced.Stderr);
        Assert.DoesNotContain("\u001b[", forced.Stderr);

        var quiet = CliRunner.Run(["matrix", .. Samples, "--methods", "pdf", "--json", "--progress", "--quiet"]);
        Assert.Equal("", quiet.Stderr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(forced.Stdout), JsonNode.Parse(quiet.Stdout)));
    }

    [Theory]
    [InlineData("matrix", "samples/llama2xs-hf-f32")]
    [InlineData("matrix", "samples/llama2xs-hf-f32", "/no/such/model")]
    [InlineData("matrix", "samples/llama2xs-hf-f32", "samples/stories260K-hf-bf16", "--methods", "bogus")]
    public void Bad_input_gives_one_line_and_exit_code_2(params string[] args)
    {
        var run = CliRunner.Run(args.Select(a => a.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(SharedModels.RepoRoot, a) : a).ToArray());
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith("error: ", run.Stderr);
    }

    [Fact]
    public void A_report_in_a_missing_folder_is_bad_input()
    {
        var run = CliRunner.Run(["compare", Samples[0], Samples[2], "--methods", "pdf", "--report", "/no/such/dir/r.html", "--quiet"]);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr);
    }

    [Fact]
    public void A_model_folder_with_markup_in_its_name_is_escaped_in_the_report()
    {
        using var dir = new TempDir();
        string hostile = Path.Combine(dir.Path, "<img src=x onerror=alert(1)>");
        Directory.CreateDirectory(hostile);
        foreach (var f in Directory.GetFiles(Samples[2])) File.Copy(f, Path.Combine(hostile, Path.GetFileName(f)));
        string html = dir.File("r.html");
        var run = CliRunner.Run("compare", Samples[1], hostile, "--methods", "pdf", "--report", html, "--quiet");
        Assert.Equal(0, run.ExitCode);
        string page = File.ReadAllText(html);
        Assert.DoesNotContain("<img src=x", page);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", page);
        ReportHtml.AssertSelfContained(page);
        ReportHtml.AssertNumbersMatchJson(page);
    }
}
