using System.CommandLine;

namespace WeightPrint.Cli.Commands;

/// <summary><c>--fail-on derived|inconclusive</c>: an exit code for CI gating (<see cref="WeightPrintCli.ExitFailOn"/>).</summary>
internal static class FailOn
{
    public const string Derived = "derived";
    public const string Inconclusive = "inconclusive";

    public static Option<string?> Create()
    {
        var option = new Option<string?>("--fail-on")
        {
            Description = $"Exit with code {WeightPrintCli.ExitFailOn} when a verdict is derived ('derived'), or derived or inconclusive ('inconclusive': anything not shown independent); for CI gating",
            HelpName = "derived|inconclusive",
        };
        option.AcceptOnlyFromAmong(Derived, Inconclusive);
        return option;
    }

    /// <summary><see cref="WeightPrintCli.ExitFailOn"/> when any verdict label matches <paramref name="failOn"/>, else 0.</summary>
    public static int ExitCode(string? failOn, IEnumerable<string> verdictLabels)
    {
        bool fail = failOn switch
        {
            Derived => verdictLabels.Any(l => l == WeightPrint.Verdict.Verdict.Derived),
            Inconclusive => verdictLabels.Any(l => l != WeightPrint.Verdict.Verdict.Independent),
            _ => false,
        };
        return fail ? WeightPrintCli.ExitFailOn : WeightPrintCli.ExitOk;
    }
}
