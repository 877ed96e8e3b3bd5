using System.CommandLine;
using WeightPrint.Cli.Commands;
using WeightPrint.Formats;
using WeightPrint.IO;

namespace WeightPrint.Cli;

/// <summary>The <c>weightprint</c> command line. Exit codes: 0 ran, 2 bad input or usage, 1 internal error.</summary>
public static class WeightPrintCli
{
    public const int ExitOk = 0;
    public const int ExitInternalError = 1;
    public const int ExitBadInput = 2;

    /// <summary>Runs a command line in-process, writing to the given streams (tests use this directly).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CliContext(stdout, stderr, CliContext.ColorWanted(stdout));
        var root = new RootCommand("WeightPrint: was this language model derived from that one? Answers from the weights alone.");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(CompareCommand.Create(context));
        root.Subcommands.Add(FingerprintCommand.Create(context));
        root.Subcommands.Add(MatrixCommand.Create(context));
        root.Subcommands.Add(DbCommand.Create(context));
        root.Subcommands.Add(IdentifyCommand.Create(context));
        root.Subcommands.Add(CacheCommand.Create(context));

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine("error: " + OneLine(e.Message));
            stderr.WriteLine("Run 'weightprint --help' for usage.");
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
public sealed class UsageException : Exception
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
