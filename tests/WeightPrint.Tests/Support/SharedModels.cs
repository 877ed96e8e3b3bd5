namespace WeightPrint.Tests.Support;

/// <summary>
/// Locates <c>../shared/models</c> (beside the checkout). Tests that need it call <see cref="Require"/>,
/// which skips the test cleanly when the folder is absent.
/// </summary>
public static class SharedModels
{
    /// <summary>The repository root (the folder holding WeightPrint.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string? Root { get; } = Find();

    public static bool Available => Root != null;

    /// <summary>Path of a model folder or file under shared/models; skips the test when absent.</summary>
    public static string Require(string relative)
    {
        Skip.If(Root == null, "../shared/models is not present (set WEIGHTPRINT_SHARED=/path/to/shared to use it)");
        string p = Path.Combine(Root!, relative);
        Skip.If(!File.Exists(p) && !Directory.Exists(p), $"{relative} is not present in shared/models");
        return p;
    }


    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("WEIGHTPRINT_SHARED_MODELS");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        string? shared = Environment.GetEnvironmentVariable("WEIGHTPRINT_SHARED");
        if (!string.IsNullOrEmpty(shared) && Directory.Exists(Path.Combine(shared, "models"))) return Path.Combine(shared, "models");
        string candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));
        return Directory.Exists(candidate) ? candidate : null;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "WeightPrint.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (WeightPrint.slnx)");
    }
}
