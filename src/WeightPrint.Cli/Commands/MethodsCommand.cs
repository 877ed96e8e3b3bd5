using System.CommandLine;
using WeightPrint.Comparison;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint methods</c>: each method id with one line on what it measures.</summary>
internal static class MethodsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("methods", HelpText.Describe(
            "List the methods (the ids --methods takes), one line each: what it measures",
            ["weightprint methods", "weightprint compare A B --methods pdf,spectral"]));
        command.SetAction(_ =>
        {
            int width = MethodRegistry.All.Max(m => m.Id.Length);
            foreach (var m in MethodRegistry.All)
                context.WholeLine($"{m.Id.PadRight(width)}  {FirstSentence(m.Description)}");
            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>The first sentence of a description (up to the first ". " or ": "), kept on one line.</summary>
    public static string FirstSentence(string text)
    {
        string line = text.ReplaceLineEndings(" ").Trim();
        int end = line.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? line[..(end + 1)] : line;
    }
}
