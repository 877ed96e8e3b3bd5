namespace WeightPrint.Cli;

public static class Program
{
    public static int Main(string[] args) => WeightPrintCli.Run(args, Console.Out, Console.Error);
}
