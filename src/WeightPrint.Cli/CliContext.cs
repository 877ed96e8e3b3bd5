using Spectre.Console;

namespace WeightPrint.Cli;

/// <summary>Where a command writes: stdout (results), stderr (progress, errors), and a console for tables.</summary>
public sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr, bool color)
    {
        Out = stdout;
        Err = stderr;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        Console.Profile.Width = 160;
    }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    /// <summary>Spectre console bound to <see cref="Out"/>; colour only on a terminal and without NO_COLOR.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>True when colour should be used for the process's own stdout.</summary>
    public static bool ColorWanted(TextWriter stdout)
        => ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected
           && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
}
