using System.CommandLine;
using WeightPrint.Cli.Commands;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.IO;

namespace WeightPrint.Cli;

/// <summary>The <c>weightprint</c> command line. Exit codes: 0 ran, 2 bad input or usage, 1 internal error, 3 with --fail-on when a verdict matched.</summary>
internal static class WeightPrintCli
{
    public const int ExitOk = 0;
    public const int ExitInternalError = 1;
    public const int ExitBadInput = 2;

    /// <summary>Opt-in with <c>--fail-on</c>: a verdict matched (CI gating).</summary>
    public const int ExitFailOn = 3;

    /// <summary>Runs a command line in-process, writing to the given streams (tests use this directly).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, null);

    /// <summary>Runs a command line in-process with tables laid out for <paramref name="width"/> columns (null: the
    /// terminal's width, or <see cref="CliContext.PipedWidth"/> when stdout is not a terminal).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, int? width)
    {
        var context = new CliContext(stdout, stderr, CliContext.ColorWanted(stdout), width);
        var root = new RootCommand("WeightPrint: was this language model derived from that one? Answers from the weights alone.");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(CompareCommand.Create(context));
        root.Subcommands.Add(FingerprintCommand.Create(context));
        root.Subcommands.Add(MatrixCommand.Create(context));
        root.Subcommands.Add(DbCommand.Create(context));
        root.Subcommands.Add(IdentifyCommand.Create(context));
        root.Subcommands.Add(CacheCommand.Create(context));
        root.Subcommands.Add(MethodsCommand.Create(context));

        // --version prints the version and the commit embedded at build time (the same pair every JSON document carries).
        foreach (var builtIn in root.Options.OfType<VersionOption>().ToList()) root.Options.Remove(builtIn);
        var version = new Option<bool>("--version") { Description = "Show the version and the git commit this build was made from" };
        root.Options.Add(version);
        root.SetAction(parse =>
        {
            if (parse.GetValue(version))
            {
                stdout.WriteLine(ToolInfo.Line);
                return ExitOk;
            }

            stderr.WriteLine($"error: no command given (commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))})");
            stderr.WriteLine("Run 'weightprint --help' for usage.");
            return ExitBadInput;
        });

        ParseResult parse = root.Parse(args);
        var problems = UsageChecks.Problems(parse, root);
        if (problems.Count > 0)
        {
            foreach (var p in problems) stderr.WriteLine("error: " + OneLine(p));
            if (!problems.Any(p => p.Contains("did you mean", StringComparison.Ordinal) || p.Contains("--help", StringComparison.Ordinal)))
                stderr.WriteLine($"Run '{UsageChecks.HelpCommand(parse.CommandResult.Command)}' for usage.");
            return ExitBadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ReportError(e, stderr);
        }
    }

    /// <summary>One line on stderr; exit 2 for bad input, 1 for a bug.</summary>
    public static int ReportError(Exception e, TextWriter stderr)
    {
        switch (e)
        {
            case AggregateException agg when agg.Flatten().InnerExceptions is { Count: > 0 } inner:
                return ReportError(inner[0], stderr); // work run in parallel: the first failure is the one to report
            case InvalidModelFileException:
            case UsageException:
            case WeightPrint.Catalog.CatalogException:
                stderr.WriteLine("error: " + OneLine(e.Message));
                return ExitBadInput;
            case IOException or UnauthorizedAccessException:
                stderr.WriteLine("error: " + OneLine(e.Message));
                return ExitBadInput;
            default:
                stderr.WriteLine($"internal error ({e.GetType().Name}): {OneLine(e.Message)} — please report this");
                return ExitInternalError;
        }
    }

    /// <summary>Every error line is bounded and has its control characters escaped (<see cref="WeightPrint.IO.ErrorText"/>).</summary>
    private static string OneLine(string s) => WeightPrint.IO.ErrorText.Bound(s);
}

/// <summary>A usage problem found after parsing (incompatible options, unknown method id).</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message) : base(message)
    {
    }

    public UsageException(string message, Exception inner) : base(message, inner)
    {
    }
}
