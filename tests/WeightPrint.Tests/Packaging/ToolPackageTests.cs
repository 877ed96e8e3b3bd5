using System.Diagnostics;
using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Packaging;

/// <summary>
/// The dotnet tool package as a user gets it: packed from the build the tests run on, installed from a local package
/// folder (no other package source, so no network) into a temporary tool path, then run.
/// </summary>
public sealed class ToolPackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    public void The_tool_installs_from_its_package_and_compares_two_samples()
    {
        using var tmp = new TempDir();
        string packages = tmp.File("packages");
        string tools = tmp.File("tools");
        string project = Path.Combine(SharedModels.RepoRoot, "src", "WeightPrint.Cli", "WeightPrint.Cli.csproj");
        string version = typeof(WeightPrint.Cli.Program).Assembly.GetName().Version!.ToString(3);

        Run("dotnet", tmp.Path, "pack", project, "-c", Configuration, "--no-build", "-o", packages, "--nologo");
        string package = Path.Combine(packages, $"WeightPrint.Tool.{version}.nupkg");
        Assert.True(File.Exists(package), $"{package} was not written");

        // Only the local folder as a package source: the install must not need the network.
        string config = tmp.File("nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>
            """);
        Run("dotnet", tmp.Path, "tool", "install", "WeightPrint.Tool", "--version", version, "--tool-path", tools, "--configfile", config);

        string exe = Path.Combine(tools, "weightprint");
        var (code, stdout, _) = Run(exe, tmp.Path, "--version");
        Assert.Equal(0, code);
        Assert.StartsWith(version, stdout.Trim(), StringComparison.Ordinal);

        string samples = Path.Combine(SharedModels.RepoRoot, "samples");
        var compare = Run(exe, tmp.Path, "compare", Path.Combine(samples, "stories260K-llama2c", "stories260K.bin"),
            Path.Combine(samples, "stories260K-hf-bf16"), "--methods", "pdf", "--json");
        var json = JsonNode.Parse(compare.Stdout)!;
        Assert.Equal(1.0, (double)json["methods"]![0]!["score"]!, 3);
        Assert.Equal("pdf", (string)json["methods"]![0]!["id"]!);
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string workDir, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in 5 minutes");
        }

        var result = (p.ExitCode, stdout.Result, stderr.Result);
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{result.Item2}\n{result.Item3}");
        return result;
    }
}
