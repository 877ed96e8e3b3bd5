using System.CommandLine;
using WeightPrint.Comparison;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary>Options shared by the commands that run methods.</summary>
public sealed class CommonOptions
{
    public Option<string?> Methods { get; } = new("--methods")
    {
        Description = $"Comma-separated method ids to run (default: all available). Known: {string.Join(", ", MethodRegistry.Ids)}",
    };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for sampled and permuted quantities", DefaultValueFactory = _ => new MethodContext().Seed };

    public Option<int> Threads { get; } = new("--threads") { Description = "Tensors processed in parallel", DefaultValueFactory = _ => Environment.ProcessorCount };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON on stdout (progress and errors go to stderr)" };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "No progress output" };

    public void AddTo(Command command)
    {
        command.Options.Add(Methods);
        command.Options.Add(Seed);
        command.Options.Add(Threads);
        command.Options.Add(Json);
        command.Options.Add(Quiet);
    }

    public IReadOnlyList<SignalMethod> SelectedMethods(ParseResult parse)
    {
        try
        {
            return MethodRegistry.Select(parse.GetValue(Methods));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public MethodContext Context(ParseResult parse)
    {
        int threads = parse.GetValue(Threads);
        if (threads < 1) throw new UsageException("--threads must be at least 1");
        return new MethodContext { Seed = parse.GetValue(Seed), Threads = threads };
    }
}
