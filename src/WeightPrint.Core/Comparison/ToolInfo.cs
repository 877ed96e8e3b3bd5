using System.Reflection;

namespace WeightPrint.Comparison;

/// <summary>Which build of the tool produced a document: the version and the git commit embedded at build time
/// (Directory.Build.props), written into every JSON document and report so a claim can be reproduced.</summary>
internal static class ToolInfo
{
    private static readonly string Informational =
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The tool version ("0.2.0").</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The git commit the tool was built from ("2308bab1234a", "…-dirty" for uncommitted changes, or "unknown").</summary>
    public static string Commit { get; } = Informational.Contains('+', StringComparison.Ordinal) ? Informational[(Informational.IndexOf('+', StringComparison.Ordinal) + 1)..] : "unknown";

    /// <summary>What --version prints: "0.2.0 (commit 2308bab1234a)" (the version first, as scripts expect).</summary>
    public static string Line => $"{Version} (commit {Commit})";
}
