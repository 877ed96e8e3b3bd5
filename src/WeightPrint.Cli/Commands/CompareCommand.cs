using System.CommandLine;
using Spectre.Console;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;
using WeightPrint.Statistics;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint compare A B [--methods …] [--json]</c>: the main job.</summary>
internal static class CompareCommand
{
    public static Command Create(CliContext context)
    {
        var a = new Argument<string>("model-a") { Description = "First model: " + HelpText.ModelOrFingerprint };
        var b = new Argument<string[]>("model-b")
        {
            Description = "Second model (the same kinds as model-a); several models compare each of them with model-a in turn",
            Arity = ArgumentArity.OneOrMore,
        };
        var common = new CommonOptions();
        var report = new ReportOptions();
        var command = new Command("compare", HelpText.Describe(
            "Compare two models (or model-a with each of several others): per-method scores, p-values and a verdict (derived / independent / inconclusive)",
            [
                "weightprint compare base/ finetuned/",
                "weightprint compare hf:Qwen/Qwen2.5-0.5B hf:ORG/NAME --methods pdf,spectral",
                "weightprint compare base.gguf candidate.safetensors --report report.html",
                "weightprint compare reference.json a/ b/ c/ --json --fail-on derived",
            ], failOn: true)) { a, b };
        var failOn = FailOn.Create();
        command.Options.Add(failOn);
        var baseModel = new Option<string?>("--base")
        {
            Description = "Merge every LoRA adapter among the inputs onto this base model (" + HelpText.Model + ") and compare the merged model; without it an adapter is compared as an update (ΔW), not a model",
            HelpName = "MODEL",
        };
        command.Options.Add(baseModel);
        common.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse);
            var others = parse.GetValue(b)!;
            if (others.Length > 1 && report.Requested(parse))
                throw new UsageException("--report and --svg take one pair; use 'weightprint matrix' for a report over several models");
            var progress = common.ProgressReporter(parse, context);
            var steps = new ProgressSteps(progress);
            var methodContext = common.Context(parse, steps);
            var hub = common.Hub(parse, context, progress);
            string? basePath = parse.GetValue(baseModel);
            using var inputA = hub.Open(parse.GetValue(a)!, basePath);
            // Every input is opened (headers read, formats checked) before any comparison, so a bad last input fails
            // at once instead of after the earlier pairs.
            var opened = new List<OpenedInput>(others.Length);
            try
            {
                foreach (string other in others) opened.Add(hub.Open(other, basePath));
            }
            catch
            {
                foreach (var o in opened) o.Dispose();
                throw;
            }

            var all = opened.Prepend(inputA).ToList();
            if (basePath != null && !all.Any(i => i.Summary.Path.EndsWith(" + " + basePath, StringComparison.Ordinal)))
                throw new UsageException($"--base {basePath}: none of the inputs is a LoRA adapter, so there is nothing to merge onto it");
            if (!parse.GetValue(common.Quiet))
            {
                foreach (var update in all.Where(i => i.IsUpdate))
                    context.Err.WriteLine($"note: {update.Summary.Path} is a LoRA adapter, an update (ΔW) rather than a model: it is compared as the update; give --base MODEL to merge it onto its base first");
            }

            var results = new List<ComparisonResult>();
            foreach (var openedB in opened)
            {
                using var inputB = openedB;
                var result = RunWithProgress([inputA, inputB], ["A", "B"], methods, methodContext, steps,
                    () => ComparisonRunner.Run(inputA, inputB, methods, methodContext));
                results.Add(result);
                if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, others.Length > 1 ? [inputB] : [inputA, inputB]);
                if (parse.GetValue(common.Json)) continue;
                if (results.Count > 1) context.WholeLine(new string('─', Math.Min(100, context.Width)));
                Print(context, result);
            }

            if (others.Length > 1 && !parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, [inputA]);
            if (parse.GetValue(common.Json))
                context.Out.WriteLine(results.Count == 1 ? ComparisonJson.Serialize(results[0]) : ComparisonJson.SerializeMany(results));
            if (results.Count == 1) report.Write(parse, context, parse.GetValue(common.Quiet), () => HtmlReport.Compare(results[0], methods));
            return FailOn.ExitCode(parse.GetValue(failOn), results.Select(r => r.Verdict.Label));
        });
        return command;
    }

    /// <summary>Extracts signatures with one progress bar per model and method, then runs <paramref name="compare"/>
    /// with a bar per step it reports ("comparing A × B (identity)", then one per method).</summary>
    internal static T RunWithProgress<T>(IReadOnlyList<OpenedInput> inputs, IReadOnlyList<string> labels, IReadOnlyList<SignalMethod> methods,
        MethodContext methodContext, ProgressSteps steps, Func<T> compare)
    {
        SignaturePrefetch.Run(inputs, labels, methods, methodContext, steps);
        return steps.Run("comparing " + string.Join(" × ", labels), compare);
    }

    /// <summary>"(llama, 5 layers, safetensors, 279,232 parameters)": what a model line says after the path.</summary>
    public static string Describe(ModelSummary m)
    {
        string what = m.Source == "fingerprint" ? "fingerprint file" : $"{m.Format}, {NumberText.Count(m.Parameters, "parameter")}";
        return $"({m.Architecture}, {NumberText.Count(m.Layers, "layer")}, {what}{(m.Revision != null ? ", revision " + m.Revision : "")})";
    }

    public static void Print(CliContext context, ComparisonResult r)
    {
        var console = context.Console;
        for (int i = 0; i < r.Models.Count; i++) context.WholeLine($"{(char)('A' + i)}  {r.Models[i].Path}  {Describe(r.Models[i])}");

        if (r.Identity is { } id)
        {
            context.WholeLine($"identity: {id.Identical} of {NumberText.Count(id.Compared, "canonical tensor")} hold identical values" + (id.OnlyInOne > 0 ? $" ({id.OnlyInOne} exist in one model only)" : ""));
            if (id.Shared is { } s) context.WholeLine($"shared:   {s.Matches.Count} of {s.NonTrivialInB} non-trivial tensors of B hold A's values exactly");
        }

        foreach (var group in r.NonFinite.GroupBy(t => t.Model))
        {
            var names = group.Select(t => t.Tensor).ToList();
            context.WholeLine($"non-finite values in {(char)('A' + group.Key)}: {string.Join(", ", names.Take(8))}{(names.Count > 8 ? $" and {names.Count - 8} more" : "")}");
        }

        if (r.NonFinite.Count > 0) context.WholeLine("  " + NonFiniteTensor.Policy);
        context.WholeLine("");

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("method").AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("p-value").RightAligned())
            .AddColumn(new TableColumn("background").RightAligned()).AddColumn("summary");
        foreach (var m in r.Methods)
        {
            table.AddPlainRow(m.Id,
                m.Status == MethodStatus.Ok ? Fmt(m.Score) : "n/a",
                m.PValue is { } p ? FormatP(p) : "—",
                m.BackgroundPercentile is { } bp ? NumberText.Ordinal(bp) + " pct" : "—",
                m.Status == MethodStatus.Ok ? m.Summary : "not applicable: " + m.Reason);
        }

        console.Write(table);
        foreach (var m in r.Methods.Where(m => m.Id == "pdf" && m.Status == MethodStatus.Ok)) PrintPdfCurves(console, m);

        context.WholeLine("");
        PrintVerdict(context, "verdict: ", r.Verdict);
    }

    /// <summary>The verdict line, whole whatever the width: "verdict: DERIVED — reason".</summary>
    public static void PrintVerdict(CliContext context, string prefix, WeightPrint.Verdict.Verdict verdict)
    {
        string colour = verdict.Label switch { "derived" => "red", "independent" => "green", _ => "yellow" };
        context.WholeLine(prefix, verdict.Label.ToUpperInvariant(), colour, " — " + verdict.Reason);
    }

    private static void PrintPdfCurves(IAnsiConsole console, MethodResult m)
    {
        console.WriteLine($"pdf per curve: Q {Fmt(m.PerCurve["q"])}  K {Fmt(m.PerCurve["k"])}  V {Fmt(m.PerCurve["v"])}  O {Fmt(m.PerCurve["o"])}");
        var details = m.Details as PdfDetails;
        console.WriteLine($"pdf rescaled (mean+1)/2 = {Fmt(details?.RescaledScore ?? double.NaN)}");
        if (details?.A.Std is not { } sa || details.B.Std is not { } sb) return;
        var curves = PdfCurves(sa, sb);
        var table = new Table().Border(TableBorder.Simple).AddColumn(new TableColumn("layer").RightAligned());
        foreach (var c in new[] { "q", "k", "v", "o" })
        {
            table.AddColumn(new TableColumn($"{c.ToUpperInvariant()} A").RightAligned().NoWrap());
            table.AddColumn(new TableColumn($"{c.ToUpperInvariant()} B").RightAligned().NoWrap());
        }

        int rows = Math.Max(curves["q"].A.Length, curves["q"].B.Length);
        for (int l = 0; l < rows; l++)
        {
            var cells = new List<string> { l.ToString() };
            foreach (var c in new[] { "q", "k", "v", "o" })
            {
                cells.Add(l < curves[c].A.Length ? Std(curves[c].A[l]) : "");
                cells.Add(l < curves[c].B.Length ? Std(curves[c].B[l]) : "");
            }

            table.AddPlainRow([.. cells]);
        }

        console.WriteLine("raw standard deviations per layer of Q, K, V, O in A and B (z-scoring hides absolute differences):");
        console.Write(table);
    }

    /// <summary>A raw standard deviation: four significant digits, "—" when undefined.</summary>
    private static string Std(double v) => double.IsFinite(v) ? v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : NumberText.Undefined;

    private static Dictionary<string, (double[] A, double[] B)> PdfCurves(IReadOnlyDictionary<string, double[]> sa, IReadOnlyDictionary<string, double[]> sb)
    {
        var d = new Dictionary<string, (double[], double[])>();
        foreach (var c in new[] { "q", "k", "v", "o" }) d[c] = (sa.GetValueOrDefault(c) ?? [], sb.GetValueOrDefault(c) ?? []);
        return d;
    }

    public static string Fmt(double v) => double.IsNaN(v) ? "undefined" : v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A p-value for the console (<see cref="NumberText.P"/>): a bound at the numerical floor, "2.3e-95" below 1e-4.</summary>
    public static string FormatP(double p) => NumberText.P(p);
}
