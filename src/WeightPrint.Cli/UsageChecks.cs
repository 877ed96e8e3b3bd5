using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WeightPrint.Cli;

/// <summary>
/// Usage checks that run on the parsed command line of every command before any work: unknown options and
/// commands (with "did you mean …?"), parser messages in plain words, and output paths that can be written. New
/// commands get them by being added to the root command; output options opt in with <see cref="OutputFile"/> or
/// <see cref="OutputFolder"/>.
/// </summary>
internal static partial class UsageChecks
{
    /// <summary>The usage problems of a parsed command line, one line each (empty when it is fine).</summary>
    public static IReadOnlyList<string> Problems(ParseResult parse, RootCommand root)
    {
        var problems = new List<string>();
        var command = parse.CommandResult.Command;
        bool afterDoubleDash = false;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) afterDoubleDash = true;
            if (afterDoubleDash || token.Type != TokenType.Argument || !LooksLikeOption(token.Value)) continue;
            string name = token.Value.Split('=', ':')[0];
            string? guess = Closest(name, OptionNames(command, root));
            problems.Add($"unknown option '{name}' for '{CommandPath(command)}'" + (guess != null ? $" — did you mean {guess}?" : $" (see '{HelpCommand(command)}')"));
        }

        if (ReferenceEquals(command, root))
        {
            var first = parse.Tokens.FirstOrDefault(t => t.Type == TokenType.Argument && !LooksLikeOption(t.Value));
            var commands = root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
            if (first != null)
            {
                string? guess = Closest(first.Value, commands);
                return [$"unknown command '{first.Value}'" + (guess != null ? $" — did you mean {guess}?" : $" (commands: {string.Join(", ", commands)})")];
            }

            if (problems.Count == 0 && parse.Errors.Count > 0) return [$"no command given (commands: {string.Join(", ", commands)})"];
        }

        if (problems.Count > 0) return problems;
        return parse.Errors.Select(e => Plain(e.Message)).Distinct().ToList();
    }

    /// <summary>Marks an option as a file the command will write: checked before any work (not a folder, its folder
    /// exists, it can be created or overwritten), the message naming the flag.</summary>
    public static Option<string?> OutputFile(this Option<string?> option) => Checked(option, CheckFile);

    /// <summary>Marks an option as a folder the command will write files into (created when missing).</summary>
    public static Option<string?> OutputFolder(this Option<string?> option) => Checked(option, CheckFolder);

    /// <summary>Adds a parse-time check of the option's path: <paramref name="why"/> gives the problem or null.</summary>
    private static Option<string?> Checked(Option<string?> option, Func<string, string?> why)
    {
        option.Validators.Add(r =>
        {
            string? path = r.GetValueOrDefault<string?>();
            if (!string.IsNullOrEmpty(path) && why(path) is { } problem) r.AddError($"{option.Name} {path}: {problem}");
        });
        return option;
    }

    /// <summary>Why <paramref name="path"/> cannot be written as a file, or null when it can.</summary>
    public static string? CheckFile(string path)
    {
        if (Directory.Exists(path)) return "is a folder; give a file name";
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder != null && !Directory.Exists(folder)) return $"folder {folder} does not exist";
        bool existed = File.Exists(full);
        try
        {
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite)) { }
            if (!existed) File.Delete(full);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied: cannot write this file";
        }
        catch (IOException e)
        {
            return "cannot write this file (" + e.Message.ReplaceLineEndings(" ") + ")";
        }
    }

    /// <summary>Why files cannot be written into <paramref name="path"/>, or null when they can (the folder is created).</summary>
    public static string? CheckFolder(string path)
    {
        if (File.Exists(path)) return "is a file; give a folder";
        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, ".weightprint-write-check-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied: cannot write into this folder";
        }
        catch (IOException e)
        {
            return "cannot write into this folder (" + e.Message.ReplaceLineEndings(" ") + ")";
        }
    }

    /// <summary>The closest of <paramref name="candidates"/> to <paramref name="word"/> (edit distance at most a third
    /// of its length, at least 1 and at most 3), or null.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        int limit = Math.Clamp(word.TrimStart('-').Length / 3, 1, 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = EditDistance(word.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }

        return bestDistance <= limit ? best : null;
    }

    /// <summary>Levenshtein distance with adjacent transpositions counted as one edit.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>A System.CommandLine message in plain words: no .NET type names.</summary>
    public static string Plain(string message)
    {
        var m = CannotParse().Match(message);
        if (m.Success)
        {
            string kind = m.Groups["type"].Value switch
            {
                "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" => "a whole number",
                "System.Double" or "System.Single" or "System.Decimal" => "a number",
                "System.Boolean" => "true or false",
                _ => "a different kind of value",
            };
            return $"{m.Groups["name"].Value} expects {kind}, not '{m.Groups["value"].Value}'";
        }

        return message.ReplaceLineEndings(" ");
    }

    private static bool LooksLikeOption(string token)
        => token.Length > 1 && token[0] == '-' && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static IEnumerable<string> OptionNames(Command command, RootCommand root)
    {
        foreach (var o in command.Options.Concat(root.Options.Where(o => o.Recursive)))
        {
            if (o.Hidden) continue;
            yield return o.Name;
            foreach (var alias in o.Aliases) yield return alias;
        }
    }

    private static string CommandPath(Command command) => command is RootCommand ? "weightprint" : "weightprint " + command.Name;

    /// <summary>The help command line for <paramref name="command"/>: "weightprint compare --help".</summary>
    public static string HelpCommand(Command command) => CommandPath(command) + " --help";

    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for (option|argument|command) '(?<name>[^']*)' as expected type '(?<type>[^']*)'")]
    private static partial Regex CannotParse();
}
