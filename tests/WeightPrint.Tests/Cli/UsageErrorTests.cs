using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Cli;

/// <summary>Usage errors come first, in one plain line, before any work (issue 14, items 10–14).</summary>
public class UsageErrorTests
{
    private static string Sample(string name) => Path.Combine(SharedModels.RepoRoot, "samples", name);

    private static readonly string A = Sample("stories260K-hf-bf16"), B = Sample("llama2xs-hf-f32");

    [Fact]
    public void An_unknown_option_is_rejected_before_any_work_with_a_suggestion()
    {
        var r = CliRunner.Run("compare", A, B, "--jsn");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal("error: unknown option '--jsn' for 'weightprint compare' — did you mean --json?\n", r.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_path_after_double_dash_may_start_with_a_dash()
    {
        var r = CliRunner.Run("compare", A, "--methods", "pdf", "--", "-model");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("-model: no such file or folder", r.Stderr);
    }

    [Fact]
    public void A_mistyped_command_gets_did_you_mean_in_one_line()
    {
        var r = CliRunner.Run("comapre", A, B);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: unknown command 'comapre' — did you mean compare?\n", r.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Parser_messages_name_no_dotnet_types()
    {
        var r = CliRunner.Run("compare", A, B, "--seed", "abc");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--seed expects a whole number, not 'abc'", r.Stderr);
        Assert.DoesNotContain("System.", r.Stderr);
    }

    [Fact]
    public void Too_many_models_for_a_matrix_states_the_limit()
    {
        var r = CliRunner.Run(["matrix", .. Enumerable.Repeat(A, 65)]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("matrix takes at most 64 models, got 65", r.Stderr);
        Assert.DoesNotContain("Unrecognized", r.Stderr);
    }

    [Fact]
    public void A_bare_hub_id_that_is_not_a_local_path_gets_the_hf_hint()
    {
        var r = CliRunner.Run("inspect", "karpathy/tinyllamas-does-not-exist-here");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("write hf:karpathy/tinyllamas-does-not-exist-here", r.Stderr);
    }

    [Theory]
    [InlineData("--report", "dir")]
    [InlineData("--report", "missing-folder")]
    [InlineData("--svg", "file")]
    public void Output_paths_are_checked_before_the_work_naming_the_flag(string flag, string kind)
    {
        using var dir = new TempDir();
        string path = kind switch
        {
            "dir" => dir.Path,
            "missing-folder" => Path.Combine(dir.Path, "no-such-folder", "r.html"),
            _ => dir.File("plain-file"),
        };
        if (kind == "file") File.WriteAllText(path, "x");
        // A bad input after the output path: if the output check came after opening the models, this would fail on the input.
        var r = CliRunner.Run("compare", A, Path.Combine(dir.Path, "missing-model"), flag, path);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"error: {flag} {path}: ", r.Stderr);
        Assert.DoesNotContain("Access to the path", r.Stderr);
    }

    [Fact]
    public void Fingerprint_output_that_is_a_folder_is_rejected_before_reading_the_model()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("fingerprint", Path.Combine(dir.Path, "missing-model"), "-o", dir.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"--output {dir.Path}: is a folder", r.Stderr);
    }

    [Fact]
    public void Every_input_is_opened_before_the_first_comparison()
    {
        var r = CliRunner.Run("compare", A, B, Sample("no-such-model"), "--methods", "pdf", "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("no-such-model: no such file or folder", r.Stderr);
    }

    [Fact]
    public void A_truncated_llama2c_file_is_reported_as_such()
    {
        using var dir = new TempDir();
        string cut = dir.File("stories.bin");
        var bytes = File.ReadAllBytes(Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")));
        File.WriteAllBytes(cut, bytes[..100_000]);
        var r = CliRunner.Run("inspect", cut);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("truncated llama2.c checkpoint: header implies", r.Stderr);
        Assert.DoesNotContain("safetensors", r.Stderr);
    }

    [Fact]
    public void A_folder_holding_only_a_llama2c_bin_is_that_checkpoint()
    {
        using var dir = new TempDir();
        File.Copy(Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")), dir.File("model.bin"));
        var r = CliRunner.Run("inspect", dir.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"format\": \"llama2c\"", r.Stdout);
    }

    [Fact]
    public void Layers_not_applicable_reason_is_text_not_a_json_object()
    {
        // Two inputs with neither weights nor saved signatures: no method can build a layer matrix.
        var a = new WeightPrint.Signals.ComparisonInput("a", null);
        var b = new WeightPrint.Signals.ComparisonInput("b", null);
        var r = new WeightPrint.Signals.Layers.LayerLocalisationMethod().Compare(a, b, new WeightPrint.Signals.MethodContext(), []);
        Assert.Equal(WeightPrint.Signals.MethodStatus.NotApplicable, r.Status);
        Assert.StartsWith("no method could build a layer × layer matrix (", r.Reason);
        Assert.DoesNotContain("{", r.Reason);
    }
}
