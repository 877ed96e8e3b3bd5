using System.CommandLine;
using Spectre.Console;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint matrix M1 M2 … [--methods …] [--report FILE] [--json]</c>: every pair of several models.</summary>
internal static class MatrixCommand
{
    public static Command Create(CliContext context)
    {
        var models = new Argument<string[]>("models")
        {
            Description = $"Two to {MatrixRunner.MaxModels} models, each " + HelpText.ModelOrFingerprint,
            Arity = new ArgumentArity(2, ArgumentArity.OneOrMore.MaximumNumberOfValues),
        };
        models.Validators.Add(r =>
        {
            if (r.Tokens.Count > MatrixRunner.MaxModels)
                r.AddError($"matrix takes at most {MatrixRunner.MaxModels} models, got {r.Tokens.Count} (pairs grow quadratically: split the set, or compare against a reference with 'weightprint compare REF M1 M2 …')");
        });
        var common = new CommonOptions();
        var report = new ReportOptions();
        var command = new Command("matrix", HelpText.Describe(
            "Compare every pair of several models: per-method score matrices, clustering and a verdict per pair",
            [
                "weightprint matrix m1/ m2/ m3/ --report matrix.html",
                "weightprint matrix fp1.json fp2.json hf:ORG/NAME --methods pdf --json",
                "weightprint matrix m1/ m2/ m3/ --fail-on inconclusive --quiet",
            ], failOn: true)) { models };
        var failOn = FailOn.Create();
        command.Options.Add(failOn);
        common.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse);
            var progress = common.ProgressReporter(parse, context);
            var steps = new ProgressSteps(progress);
            var methodContext = common.Context(parse, steps);
            var paths = parse.GetValue(models)!;
            var inputs = new List<OpenedInput>(paths.Length);
            try
            {
                // Every input stays open for the whole run: each model is read once, its signatures cached.
                var hub = common.Hub(parse, context, progress);
                foreach (var path in paths) inputs.Add(hub.Open(path));
                var labels = Enumerable.Range(0, inputs.Count).Select(HtmlReport.MatrixLabel).ToList();
                SignaturePrefetch.Run(inputs, labels, methods, methodContext, steps);
                // One bar per pair and step: "M1 × M3, pair 2 of 6 (pcs)".
                var result = steps.Run("", () => MatrixRunner.Run(inputs, methods, methodContext,
                    (i, n, x, y) => steps.Start($"{labels[x]} × {labels[y]}, pair {i + 1} of {n}")));

                if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, inputs);
                if (parse.GetValue(common.Json)) context.Out.WriteLine(MatrixJson.Serialize(result));
                else Print(context, result, labels);
                report.Write(parse, context, parse.GetValue(common.Quiet), () => HtmlReport.Matrix(result, methods));
                return FailOn.ExitCode(parse.GetValue(failOn), result.Pairs.Select(p => p.Result.Verdict.Label));
            }
            finally
            {
                foreach (var input in inputs) input.Dispose();
            }
        });
        return command;
    }

    public static void Print(CliContext context, MatrixResult r, IReadOnlyList<string> labels)
    {
        var console = context.Console;
        for (int i = 0; i < r.Models.Count; i++) context.WholeLine($"{labels[i],-4} {r.Models[i].Path}  {CompareCommand.Describe(r.Models[i])}");

        context.WholeLine("");
        var pairs = new Table().Border(TableBorder.Simple).AddColumn("pair");
        foreach (var id in r.MethodIds)
        {
            pairs.AddColumn(new TableColumn(id).RightAligned());
            pairs.AddColumn(new TableColumn($"{id} p").RightAligned());
        }

        pairs.AddColumn("verdict");
        foreach (var p in r.Pairs)
        {
            var cells = new List<string> { $"{labels[p.A]} × {labels[p.B]}" };
            foreach (var id in r.MethodIds)
            {
                var m = p.Result.Methods.FirstOrDefault(x => x.Id == id);
                cells.Add(m == null ? "—" : m.Status == MethodStatus.Ok ? CompareCommand.Fmt(m.Score) : "n/a");
                cells.Add(m?.PValue is { } pv ? CompareCommand.FormatP(pv) : "—");
            }

            cells.Add(p.Result.Verdict.Label);
            pairs.AddPlainRow([.. cells]);
        }

        console.Write(pairs);

        foreach (var id in r.MethodIds)
        {
            var (scores, _, order, _, notClustered) = MatrixJson.Matrix(r, id);
            console.WriteLine();
            console.WriteLine(notClustered == null
                ? $"{id} scores, models in average-linkage clustering order (distance 1 − score):"
                : $"{id} scores, models in input order (not clustered: {notClustered}):");
            var table = new Table().Border(TableBorder.Simple).AddColumn("");
            foreach (int j in order) table.AddColumn(new TableColumn(labels[j]).RightAligned());
            foreach (int i in order)
            {
                var cells = new List<string> { labels[i] };
                foreach (int j in order) cells.Add(i == j ? "" : CompareCommand.Fmt(scores[i, j]));
                table.AddPlainRow([.. cells]);
            }

            console.Write(table);
        }

        context.WholeLine("");
        foreach (var p in r.Pairs) CompareCommand.PrintVerdict(context, $"{labels[p.A]} × {labels[p.B]}: ", p.Result.Verdict);
    }
}
