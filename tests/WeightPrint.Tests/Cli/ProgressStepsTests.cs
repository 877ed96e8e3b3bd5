using WeightPrint.Cli.Progress;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

public class ProgressStepsTests
{
    /// <summary>The final line of each bar in a forced (log) progress stream: redraws end in '\r', bars in '\n'.</summary>
    private static List<string> FinalLines(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\r', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd()).ToList();

    [Fact]
    public void A_step_begun_again_before_any_progress_is_resized_not_drawn_twice()
    {
        var err = new StringWriter();
        var steps = new ProgressSteps(new ProgressReporter(err, enabled: true, terminal: false, color: false));
        steps.Run("comparing A × B", () =>
        {
            steps.Begin("pdf", 0);
            steps.Begin("pdf", 1000);
            steps.Advance(400);
            steps.Advance(600);
            steps.Begin("pcs", 0);
            steps.Begin("pcs", 4, "layer pairs");
            for (int i = 0; i < 4; i++) steps.Advance(1);
            return 0;
        });

        var lines = FinalLines(err.ToString());
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("comparing A × B (pdf)", lines[0]);
        Assert.EndsWith("100%  1.00 kB / 1.00 kB", lines[0]);
        Assert.StartsWith("comparing A × B (pcs)", lines[1]);
        Assert.EndsWith("100%  4 / 4 layer pairs", lines[1]);
    }

    [Theory]
    [InlineData("reading A", "pdf", "reading A (pdf)")]
    [InlineData("reading /very/long/path/to/some/models/llama-2-7b-hf", "neuron-match", "…ome/models/llama-2-7b-hf (neuron-match)")]
    [InlineData("", "sampling", "sampling")]
    public void Labels_keep_the_step_whole_and_the_end_of_a_long_subject(string subject, string step, string expected)
    {
        string label = ProgressSteps.Label(subject, step);
        Assert.Equal(expected, label);
        Assert.True(label.Length <= ProgressReporter.MaxLabel);
    }

    [Fact]
    public void Compare_draws_one_bar_per_step_naming_each_method_on_stderr_only()
    {
        string a = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin");
        string b = Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32");
        var run = CliRunner.Run("compare", a, b, "--progress", "--json");
        Assert.Equal(0, run.ExitCode);
        System.Text.Json.Nodes.JsonNode.Parse(run.Stdout);
        var lines = FinalLines(run.Stderr).Where(l => l.Contains('[')).ToList();
        string[] expected =
        [
            "reading A (pdf)", "reading A (pdf-mlp)", "reading A (spectral)", "reading B (pdf)", "reading B (pdf-mlp)", "reading B (spectral)",
            "comparing A × B (identity)", "comparing A × B (pdf)", "comparing A × B (pdf-mlp)", "comparing A × B (pcs)",
            "comparing A × B (neuron-match)", "comparing A × B (cka)", "comparing A × B (spectral)", "comparing A × B (layers)",
        ];
        Assert.Equal(expected, lines.Select(l => l[..l.IndexOf("  [", StringComparison.Ordinal)].TrimEnd()));
        Assert.Contains(lines, l => l.StartsWith("comparing A × B (pcs)", StringComparison.Ordinal) && l.EndsWith("100%  5 / 5 layer pairs", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("comparing A × B (neuron-match)", StringComparison.Ordinal) && l.EndsWith("100%  5 / 5 MLPs", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("comparing A × B (identity)", StringComparison.Ordinal) && l.Contains("100%", StringComparison.Ordinal));
        Assert.DoesNotContain("reading", run.Stdout);

        var quiet = CliRunner.Run("compare", a, b, "--progress", "--json", "--quiet");
        Assert.Equal("", quiet.Stderr);
    }
}
