using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

/// <summary>Version, schemas, help, methods, --fail-on (issue 14, items 16–18).</summary>
public class ConventionsTests
{
    private static string Sample(string name) => Path.Combine(SharedModels.RepoRoot, "samples", name);

    private static readonly string A = Sample("stories260K-hf-bf16"), B = Sample("llama2xs-hf-f32"), L2c = Sample(Path.Combine("stories260K-llama2c", "stories260K.bin"));

    private static JsonObject Schema(string name) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(SharedModels.RepoRoot, "docs", name)))!;

    private static void Valid(JsonNode doc, string schema)
    {
        var errors = MiniJsonSchema.Validate(doc, Schema(schema));
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public void Version_names_the_tool_version_and_commit()
    {
        var r = CliRunner.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)\n$", r.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Every_json_document_carries_the_version_and_commit_and_matches_its_schema()
    {
        using var dir = new TempDir();
        var single = JsonNode.Parse(CliRunner.Run("compare", A, B, "--methods", "pdf", "--json", "--quiet").Stdout)!;
        Valid(single, "compare.schema.json");
        var many = JsonNode.Parse(CliRunner.Run("compare", A, B, L2c, "--methods", "pdf", "--json", "--quiet").Stdout)!;
        Valid(many, "compare-many.schema.json");
        foreach (var c in many["comparisons"]!.AsArray()) Valid(c!, "compare.schema.json");
        var matrix = JsonNode.Parse(CliRunner.Run("matrix", A, B, L2c, "--methods", "pdf,layers", "--json", "--quiet").Stdout)!;
        Valid(matrix, "matrix.schema.json");
        var fingerprint = JsonNode.Parse(CliRunner.Run("fingerprint", A, "--methods", "pdf", "--json", "-o", dir.File("fp.json"), "--quiet").Stdout)!;
        Valid(fingerprint, "fingerprint.schema.json");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(dir.File("fp.json"))), fingerprint), "--json and -o wrote different documents");
        var inspect = JsonNode.Parse(CliRunner.Run("inspect", A, "--roles", "--json").Stdout)!;
        Valid(inspect, "inspect.schema.json");
        Assert.Equal(1, (int)inspect["schema_version"]!);

        string commit = WeightPrint.Comparison.ToolInfo.Commit;
        // A fingerprint (version 2) carries them in its hashed payload.
        foreach (var doc in new[] { single, many, matrix, fingerprint["payload"]!, inspect })
        {
            Assert.Equal(commit, (string)doc["tool_commit"]!);
            Assert.Equal(WeightPrint.Comparison.ToolInfo.Version, (string)doc["tool_version"]!);
        }

        Assert.NotEqual("unknown", commit);
    }

    [Fact]
    public void The_report_footer_names_version_and_commit()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run("compare", A, B, "--methods", "pdf", "--report", dir.File("r.html"), "--quiet").ExitCode);
        Assert.Contains($"commit <code>{WeightPrint.Comparison.ToolInfo.Commit}</code>", File.ReadAllText(dir.File("r.html")));
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("compare")]
    [InlineData("fingerprint")]
    [InlineData("matrix")]
    [InlineData("methods")]
    public void Every_command_help_has_examples_exit_codes_and_hf_models(string command)
    {
        var r = CliRunner.Run(command, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Examples:", r.Stdout);
        Assert.Contains("Exit codes:", r.Stdout);
        Assert.Contains("2  bad input or usage", r.Stdout);
        if (command != "methods") Assert.Contains("hf:ORG/NAME", r.Stdout);
        if (command is "compare" or "matrix") Assert.Contains("3  --fail-on matched", r.Stdout);
    }

    [Fact]
    public void Methods_lists_each_method_on_one_line()
    {
        var r = CliRunner.Run("methods");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(WeightPrint.Comparison.MethodRegistry.Ids, lines.Select(l => l.Split(' ')[0]).ToList());
        Assert.All(lines, l => Assert.True(l.Trim().Length > 20, l));
    }

    [Fact]
    public void Fail_on_gives_exit_3_only_when_a_verdict_matches()
    {
        // pdf alone is inconclusive; the llama2.c file and its BF16 copy are derived by pcs.
        Assert.Equal(0, CliRunner.Run("compare", A, B, "--methods", "pdf", "--quiet", "--fail-on", "derived").ExitCode);
        Assert.Equal(3, CliRunner.Run("compare", A, B, "--methods", "pdf", "--quiet", "--fail-on", "inconclusive").ExitCode);
        Assert.Equal(3, CliRunner.Run("compare", L2c, A, "--methods", "pdf,pcs", "--quiet", "--fail-on", "derived").ExitCode);
        Assert.Equal(3, CliRunner.Run("matrix", L2c, A, B, "--methods", "pdf,pcs", "--quiet", "--fail-on", "derived").ExitCode);
        Assert.Equal(0, CliRunner.Run("compare", A, B, "--methods", "pdf", "--quiet").ExitCode);
        var bad = CliRunner.Run("compare", A, B, "--fail-on", "maybe");
        Assert.Equal(2, bad.ExitCode);
    }
}
