using Spectre.Console;

namespace WeightPrint.Cli;

/// <summary>Where a command writes: stdout (results), stderr (progress, errors), and a console for tables.</summary>
internal sealed class CliContext
{
    /// <summary>Width of output that is not a terminal (a pipe or a file) when COLUMNS does not say otherwise.</summary>
    public const int PipedWidth = 120;

    /// <summary>Narrowest width tables are laid out for.</summary>
    public const int MinWidth = 40;

    /// <param name="width">Columns for tables; null = <see cref="WidthFor"/> of <paramref name="stdout"/>.</param>
    public CliContext(TextWriter stdout, TextWriter stderr, bool color, int? width = null)
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
        Color = color;
        Width = Math.Max(MinWidth, width ?? WidthFor(stdout));
        Console.Profile.Width = Width;
    }

    /// <summary>Columns tables are laid out for.</summary>
    public int Width { get; }

    /// <summary>True when ANSI colour is written.</summary>
    public bool Color { get; }

    /// <summary>The terminal's width when <paramref name="stdout"/> is the process's own terminal; else the COLUMNS
    /// environment variable when it holds a width; else <see cref="PipedWidth"/>.</summary>
    public static int WidthFor(TextWriter stdout)
    {
        if (ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected)
        {
            try
            {
                if (System.Console.WindowWidth > 0) return System.Console.WindowWidth;
            }
            catch (IOException)
            {
            }
        }

        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= MinWidth ? columns : PipedWidth;
    }

    /// <summary>Writes one line as it is, never wrapped at <see cref="Width"/> (a verdict sentence or a path must stay whole
    /// for whoever greps or copies it); <paramref name="highlight"/> is printed bold in <paramref name="colour"/> on a terminal.</summary>
    public void WholeLine(string prefix, string highlight, string colour, string rest)
    {
        string code = colour switch { "red" => "31", "green" => "32", "yellow" => "33", _ => "0" };
        Out.WriteLine(Color ? $"{prefix}\u001b[1;{code}m{highlight}\u001b[0m{rest}" : prefix + highlight + rest);
    }

    /// <summary>Writes one plain line as it is, never wrapped.</summary>
    public void WholeLine(string text) => Out.WriteLine(text);

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    /// <summary>Spectre console bound to <see cref="Out"/>; colour only on a terminal and without NO_COLOR.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>True when colour should be used for the process's own stdout.</summary>
    public static bool ColorWanted(TextWriter stdout)
        => ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected
           && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
}
