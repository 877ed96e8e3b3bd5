namespace WeightPrint.Cli;

/// <summary>The parts every command's help shows: what a MODEL may be, an "Examples:" block and the exit codes.</summary>
internal static class HelpText
{
    /// <summary>How every MODEL argument is described.</summary>
    public const string Model = "a model file (safetensors, GGUF, torch .bin/.pt, llama2.c .bin), a Hugging Face folder, a PEFT adapter folder or hf:ORG/NAME[@REVISION] on the Hub";

    /// <summary>A MODEL argument that may also be a fingerprint file.</summary>
    public const string ModelOrFingerprint = Model + ", or a fingerprint JSON file";

    /// <summary>The exit codes, as the help and the README state them.</summary>
    public const string ExitCodes = "Exit codes:\n  0  the command ran (whatever the verdict)\n  1  internal error (a bug: please report it)\n  2  bad input or usage (one line on stderr naming the input and the problem)";

    /// <summary>The extra exit code of commands with <c>--fail-on</c>.</summary>
    public const string FailOnExitCode = "\n  3  --fail-on matched: a verdict was derived (--fail-on derived), or derived or inconclusive (--fail-on inconclusive)";

    /// <summary>A command description followed by its examples and the exit codes.</summary>
    public static string Describe(string summary, IEnumerable<string> examples, bool failOn = false)
        => summary + "\n\nExamples:\n" + string.Join("\n", examples.Select(e => "  " + e)) + "\n\n" + ExitCodes + (failOn ? FailOnExitCode : "");
}
