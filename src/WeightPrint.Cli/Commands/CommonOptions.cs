using System.CommandLine;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary>Options shared by the commands that run methods.</summary>
internal sealed class CommonOptions
{
    public Option<string?> Methods { get; } = new("--methods")
    {
        Description = $"Comma-separated method ids to run (default: all available). Known: {string.Join(", ", MethodRegistry.Ids)}",
    };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for sampled and permuted quantities", DefaultValueFactory = _ => new MethodContext().Seed };

    public Option<int> Threads { get; } = new("--threads") { Description = "Tensors processed in parallel", DefaultValueFactory = _ => Environment.ProcessorCount };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON on stdout (progress and errors go to stderr)" };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "No progress output" };

    public Option<bool> Progress { get; } = new("--progress") { Description = "Show progress bars on stderr even when it is not a terminal" };

    public Option<string?> CacheMax { get; } = new("--cache-max") { Description = "Size cap of the Hub block cache (e.g. 20G, 500M; default WEIGHTPRINT_CACHE_MAX or 20G); least recently used blocks are evicted", HelpName = "SIZE" };

    public void AddTo(Command command)
    {
        command.Options.Add(CacheMax);
        command.Options.Add(Methods);
        command.Options.Add(Seed);
        command.Options.Add(Threads);
        command.Options.Add(Json);
        command.Options.Add(Quiet);
        command.Options.Add(Progress);
    }

    /// <summary>Progress bars on stderr: on a terminal unless --quiet, or forced with --progress.</summary>
    public ProgressReporter ProgressReporter(ParseResult parse, CliContext context)
        => WeightPrint.Cli.Progress.ProgressReporter.For(context.Err, parse.GetValue(Quiet), parse.GetValue(Progress));

    /// <summary>Opens inputs with a bar per Hub model, honouring <c>--cache-max</c>; retries of transient Hub failures are
    /// told on stderr unless --quiet.</summary>
    public HubTransferDisplay Hub(ParseResult parse, CliContext context, ProgressReporter progress)
        => new(progress, parse.GetValue(Quiet) ? null : context.Err)
        {
            CacheMaxBytes = parse.GetValue(CacheMax) is { } max ? WeightPrint.IO.Hub.HubOptions.ParseSize("--cache-max", max) : null,
        };

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

    public MethodContext Context(ParseResult parse, IWorkProgress? progress = null)
    {
        int threads = parse.GetValue(Threads);
        if (threads < 1) throw new UsageException("--threads must be at least 1");
        return new MethodContext { Seed = parse.GetValue(Seed), Threads = threads, Progress = progress };
    }
}

/// <summary>Options of the commands that can write an HTML report.</summary>
internal sealed class ReportOptions
{
    public Option<string?> Report { get; } = new Option<string?>("--report") { Description = "Write a self-contained HTML report (verdict, evidence, plots, methods, model metadata) to FILE", HelpName = "FILE" }.OutputFile();

    public Option<string?> Svg { get; } = new Option<string?>("--svg") { Description = "Also write every plot of the report as an SVG file into DIR", HelpName = "DIR" }.OutputFolder();

    public void AddTo(Command command)
    {
        command.Options.Add(Report);
        command.Options.Add(Svg);
    }

    /// <summary>True when a report or SVG output was asked for.</summary>
    public bool Requested(ParseResult parse) => !string.IsNullOrEmpty(parse.GetValue(Report)) || !string.IsNullOrEmpty(parse.GetValue(Svg));

    /// <summary>Writes the report and SVGs when asked; says what it wrote on stderr unless quiet. A write that fails
    /// after the checks made before the work is reported naming the flag.</summary>
    public void Write(ParseResult parse, CliContext context, bool quiet, Func<WeightPrint.Reports.Html.ReportOutput> build)
    {
        string? html = parse.GetValue(Report);
        string? svg = parse.GetValue(Svg);
        if (string.IsNullOrEmpty(html) && string.IsNullOrEmpty(svg)) return;
        var report = build();
        if (!string.IsNullOrEmpty(html))
        {
            Writing(Report.Name, html, () => report.WriteHtml(html));
            if (!quiet) context.Err.WriteLine($"wrote {html} ({report.Figures.Count} plots)");
        }

        if (!string.IsNullOrEmpty(svg))
        {
            IReadOnlyList<string> files = [];
            Writing(Svg.Name, svg, () => files = report.WriteSvgs(svg));
            if (!quiet) context.Err.WriteLine($"wrote {files.Count} SVG plots to {svg}");
        }
    }

    /// <summary>Runs a write of an output option; an I/O failure becomes a usage error naming the flag and path.</summary>
    public static void Writing(string flag, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{flag} {path}: cannot write ({e.Message.ReplaceLineEndings(" ")})");
        }
    }
}
