using WeightPrint.Cli;

namespace WeightPrint.Tests.Support;

/// <summary>Runs the weightprint command line in-process and captures its streams.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunAt(null, args);

    /// <summary>Runs with tables laid out for <paramref name="width"/> columns (null: as when stdout is piped).</summary>
    public static Result RunAt(int? width, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = WeightPrintCli.Run(args, stdout, stderr, width);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
