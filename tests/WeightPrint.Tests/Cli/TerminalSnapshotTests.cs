using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

/// <summary>
/// Terminal output at 80 and 120 columns against stored snapshots (<c>Snapshots/*.txt</c>). After an intended change
/// of the output, regenerate them with <c>WEIGHTPRINT_UPDATE_SNAPSHOTS=1 dotnet test … --filter TerminalSnapshotTests</c>
/// and review the diff (see Snapshots/README.md).
/// </summary>
public class TerminalSnapshotTests
{
    private static string Sample(string name) => Path.Combine(SharedModels.RepoRoot, "samples", name);

    private static readonly string A = Sample("stories260K-hf-bf16"), B = Sample("llama2xs-hf-f32"), L2c = Sample(Path.Combine("stories260K-llama2c", "stories260K.bin"));

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public void Compare_fits_the_width_and_keeps_the_verdict_line_whole(int width)
    {
        var r = CliRunner.RunAt(width, "compare", A, B, "--methods", "pdf,neuron-match", "--quiet");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(CliRunner.Run("compare", A, B, "--methods", "pdf,neuron-match", "--json", "--quiet").Stdout)!;
        string verdict = $"verdict: {((string)json["verdict"]!["label"]!).ToUpperInvariant()} — {(string)json["verdict"]!["reason"]!}";
        var lines = Lines(r.Stdout);
        Assert.Contains(verdict, lines);
        AssertFits(lines, width);
        Snapshot.Match($"compare-{width}.txt", Normalise(r.Stdout));
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public void Matrix_fits_the_width_and_keeps_every_verdict_line_whole(int width)
    {
        var r = CliRunner.RunAt(width, "matrix", L2c, A, B, "--methods", "pdf,neuron-match", "--quiet");
        Assert.Equal(0, r.ExitCode);
        var lines = Lines(r.Stdout);
        Assert.Equal(3, lines.Count(l => l.StartsWith("M1 × M2: ", StringComparison.Ordinal) || l.StartsWith("M1 × M3: ", StringComparison.Ordinal) || l.StartsWith("M2 × M3: ", StringComparison.Ordinal)));
        AssertFits(lines, width);
        Snapshot.Match($"matrix-{width}.txt", Normalise(r.Stdout));
    }

    [Fact]
    public void Piped_output_is_laid_out_for_120_columns_unless_COLUMNS_says_otherwise()
    {
        Skip.If(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("COLUMNS")), "COLUMNS is set in this environment");
        Assert.Equal(120, WeightPrint.Cli.CliContext.WidthFor(new StringWriter()));
    }

    /// <summary>Table lines fit; only model lines (a path) and verdict lines, which must stay whole, may be longer.</summary>
    private static void AssertFits(IEnumerable<string> lines, int width)
    {
        foreach (var line in lines)
        {
            bool whole = line.Contains(" — ", StringComparison.Ordinal) || line.Contains(SharedModels.RepoRoot, StringComparison.Ordinal);
            if (!whole) Assert.True(line.Length <= width, $"line of {line.Length} columns at width {width}: {line}");
        }
    }

    private static List<string> Lines(string text) => text.ReplaceLineEndings("\n").Split('\n').ToList();

    private static string Normalise(string text) => text.ReplaceLineEndings("\n").Replace(SharedModels.RepoRoot, "<repo>", StringComparison.Ordinal);
}

/// <summary>Stored expected outputs under tests/WeightPrint.Tests/Cli/Snapshots; WEIGHTPRINT_UPDATE_SNAPSHOTS=1 rewrites them.</summary>
public static class Snapshot
{
    public static string Folder => Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Cli", "Snapshots");

    public static void Match(string name, string actual)
    {
        string path = Path.Combine(Folder, name);
        if (Environment.GetEnvironmentVariable("WEIGHTPRINT_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"no snapshot {path}: run with WEIGHTPRINT_UPDATE_SNAPSHOTS=1 to create it");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }
}
