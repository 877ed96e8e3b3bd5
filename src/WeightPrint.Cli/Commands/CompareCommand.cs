using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint compare A B [--methods …] [--json]</c>: the main job.</summary>
public static class CompareCommand
{
    public static Command Create(CliContext context)
    {
        var a = new Argument<string>("model-a") { Description = "First model (file, folder, hf:ORG/NAME or fingerprint JSON)" };
        var b = new Argument<string[]>("model-b")
        {
            Description = "Second model; several models compare each of them with model-a in turn",
            Arity = ArgumentArity.OneOrMore,
        };
        var common = new CommonOptions();
        var report = new ReportOptions();
        var command = new Command("compare", "Compare two models (or model-a with each of several others): per-method scores, p-values and a verdict (derived / independent / inconclusive)") { a, b };
        common.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse);
            var others = parse.GetValue(b)!;
            if (others.Length > 1 && report.Requested(parse))
                throw new UsageException("--report and --svg take one pair; use 'weightprint matrix' for a report over several models");
            var progress = common.ProgressReporter(parse, context);
            var router = new ProgressRouter();
            var methodContext = common.Context(parse, router);
            var hub = common.HubDisplay(parse, progress);
            using var inputA = hub.Open(parse.GetValue(a)!);
            var results = new List<ComparisonResult>();
            foreach (string other in others)
            {
                using var inputB = hub.Open(other);
                var result = RunWithProgress([inputA, inputB], ["A", "B"], methods, methodContext, router, progress,
                    () => ComparisonRunner.Run(inputA, inputB, methods, methodContext));
                results.Add(result);
                if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, others.Length > 1 ? [inputB] : [inputA, inputB]);
                if (parse.GetValue(common.Json)) continue;
                if (results.Count > 1) context.Console.WriteLine(new string('─', 100));
                Print(context.Console, result);
            }

            if (others.Length > 1 && !parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, [inputA]);
            if (parse.GetValue(common.Json))
                context.Out.WriteLine(results.Count == 1 ? ComparisonJson.Serialize(results[0]) : ComparisonJson.SerializeMany(results));
            if (results.Count == 1) report.Write(parse, context, parse.GetValue(common.Quiet), () => HtmlReport.Compare(results[0], methods));
            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>Extracts signatures with one progress bar per model, then runs <paramref name="compare"/> under a
    /// bar for the pairwise methods (those without a per-model signature), if any.</summary>
    internal static T RunWithProgress<T>(IReadOnlyList<OpenedInput> inputs, IReadOnlyList<string> labels, IReadOnlyList<SignalMethod> methods,
        MethodContext methodContext, ProgressRouter router, ProgressReporter progress, Func<T> compare)
    {
        SignaturePrefetch.Run(inputs, labels, methods, methodContext, router, progress);
        if (!methods.Any(m => !m.HasSignature)) return compare();
        long total = inputs.Sum(i => i.Input.View is { } v ? SignalMethod.LayerBytes(v) : 0);
        using var task = progress.Start("comparing " + string.Join(" × ", labels), total);
        router.Target = task;
        try
        {
            return compare();
        }
        finally
        {
            router.Target = null;
        }
    }

    public static void Print(IAnsiConsole console, ComparisonResult r)
    {
        for (int i = 0; i < r.Models.Count; i++)
        {
            var m = r.Models[i];
            string what = m.Source == "fingerprint" ? "fingerprint file" : $"{m.Format}, {m.Parameters:N0} parameters";
            console.WriteLine($"{(char)('A' + i)}  {m.Path}  ({m.Architecture}, {m.Layers} layers, {what}{(m.Revision != null ? ", revision " + m.Revision : "")})");
        }

        if (r.Identity is { } id)
        {
            console.WriteLine($"identity: {id.Identical} of {id.Compared} canonical tensors hold identical values" + (id.OnlyInOne > 0 ? $" ({id.OnlyInOne} exist in one model only)" : "")
                + (id.Shared is { } s ? $"; {s.Matches.Count} of {s.NonTrivialInB} non-trivial tensors of B hold A's values exactly (bit for bit, transposed or permuted)" : ""));
        }

        foreach (var group in r.NonFinite.GroupBy(t => t.Model))
        {
            var names = group.Select(t => t.Tensor).ToList();
            console.WriteLine($"non-finite values in {(char)('A' + group.Key)}: {string.Join(", ", names.Take(8))}{(names.Count > 8 ? $" and {names.Count - 8} more" : "")}");
        }

        if (r.NonFinite.Count > 0) console.WriteLine("  " + NonFiniteTensor.Policy);
        console.WriteLine();

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("method").AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("p-value").RightAligned())
            .AddColumn(new TableColumn("background").RightAligned()).AddColumn("summary");
        foreach (var m in r.Methods)
        {
            table.AddPlainRow(m.Id,
                m.Status == MethodStatus.Ok ? Fmt(m.Score) : "n/a",
                m.PValue is { } p ? FormatP(p) : "—",
                m.BackgroundPercentile is { } bp ? $"{bp:F1}th pct" : "—",
                m.Status == MethodStatus.Ok ? m.Summary : "not applicable: " + m.Reason);
        }

        console.Write(table);
        foreach (var m in r.Methods.Where(m => m.Id == "pdf" && m.Status == MethodStatus.Ok)) PrintPdfCurves(console, m);

        console.WriteLine();
        string label = r.Verdict.Label.ToUpperInvariant();
        string colour = r.Verdict.Label switch { "derived" => "red", "independent" => "green", _ => "yellow" };
        console.MarkupLine($"verdict: [bold {colour}]{label}[/] — {Markup.Escape(r.Verdict.Reason)}");
    }

    private static void PrintPdfCurves(IAnsiConsole console, MethodResult m)
    {
        console.WriteLine($"pdf per curve: Q {Fmt(m.PerCurve["q"])}  K {Fmt(m.PerCurve["k"])}  V {Fmt(m.PerCurve["v"])}  O {Fmt(m.PerCurve["o"])}"
            + $"   rescaled (mean+1)/2 = {Fmt(m.Raw["rescaled_score"] is JsonValue v ? (double)v : double.NaN)}");
        var sa = m.Raw["a"]?["std"];
        var sb = m.Raw["b"]?["std"];
        if (sa == null || sb == null) return;
        var curves = PdfCurves(sa, sb);
        var table = new Table().Border(TableBorder.Simple).AddColumn(new TableColumn("layer").RightAligned());
        foreach (var c in new[] { "q", "k", "v", "o" })
        {
            table.AddColumn(new TableColumn($"std {c.ToUpperInvariant()} A").RightAligned());
            table.AddColumn(new TableColumn($"std {c.ToUpperInvariant()} B").RightAligned());
        }

        int rows = Math.Max(curves["q"].A.Length, curves["q"].B.Length);
        for (int l = 0; l < rows; l++)
        {
            var cells = new List<string> { l.ToString() };
            foreach (var c in new[] { "q", "k", "v", "o" })
            {
                cells.Add(l < curves[c].A.Length ? curves[c].A[l].ToString("G5") : "");
                cells.Add(l < curves[c].B.Length ? curves[c].B[l].ToString("G5") : "");
            }

            table.AddPlainRow([.. cells]);
        }

        console.WriteLine("raw standard deviations per layer (z-scoring hides absolute differences):");
        console.Write(table);
    }

    private static Dictionary<string, (double[] A, double[] B)> PdfCurves(JsonNode sa, JsonNode sb)
    {
        var d = new Dictionary<string, (double[], double[])>();
        foreach (var c in new[] { "q", "k", "v", "o" }) d[c] = (SignatureJson.ReadDoubles(sa[c]), SignatureJson.ReadDoubles(sb[c]));
        return d;
    }

    public static string Fmt(double v) => double.IsNaN(v) ? "undefined" : v.ToString("F4");

    /// <summary>A p-value for the console; values at the numerical floor are shown as a bound.</summary>
    public static string FormatP(double p) => WeightPrint.Statistics.PValueText.AtFloor(p) ? WeightPrint.Statistics.PValueText.FloorBound : p < 1e-4 ? p.ToString("0.0e+0") : p.ToString("F4");
}
