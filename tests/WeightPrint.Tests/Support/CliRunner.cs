using WeightPrint.Cli;

namespace WeightPrint.Tests.Support;

/// <summary>Runs the weightprint command line in-process and captures its streams.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = WeightPrintCli.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
