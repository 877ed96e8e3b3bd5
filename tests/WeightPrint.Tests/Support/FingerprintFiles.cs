using System.Diagnostics;

namespace WeightPrint.Tests.Support;

/// <summary>Fingerprint files made once per test run, and the CLI as a separate process (for fault tests).</summary>
public static class FingerprintFiles
{
    private static readonly Lazy<string> StoriesFile = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"weightprint-fp-{Environment.ProcessId}-stories260K.json");
        var r = CliRunner.Run("fingerprint", Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin"), "-o", path, "--quiet");
        if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr);
        return path;
    });

    /// <summary>The fingerprint of samples/stories260K-llama2c (all methods, default seed).</summary>
    public static string Stories => StoriesFile.Value;

    /// <summary><paramref name="count"/> copies of the stories260K fingerprint named PREFIX-000.json …, for bulk adds.</summary>
    public static List<string> Copies(string folder, string prefix, int count)
    {
        var list = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string p = Path.Combine(folder, $"{prefix}-{i:D3}.json");
            File.Copy(Stories, p, overwrite: true);
            list.Add(p);
        }

        return list;
    }

    /// <summary>Starts the weightprint CLI (the build in the test's output folder) as its own process.</summary>
    public static Process StartCli(params string[] args) => StartCli(new Dictionary<string, string?>(), args);

    /// <summary>Starts the CLI with environment variables set (a null value removes the variable).</summary>
    public static Process StartCli(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "weightprint.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
        {
            if (value == null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start the CLI");
    }
}
