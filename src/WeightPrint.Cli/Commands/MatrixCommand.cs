using System.CommandLine;
using Spectre.Console;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint matrix M1 M2 … [--methods …] [--report FILE] [--json]</c>: every pair of several models.</summary>
public static class MatrixCommand
{
    public static Command Create(CliContext context)
    {
        var models = new Argument<string[]>("models")
        {
            Description = $"Two to {MatrixRunner.MaxModels} models (files, folders or fingerprint JSON)",
            Arity = new ArgumentArity(2, MatrixRunner.MaxModels),
        };
        var common = new CommonOptions();
        var report = new ReportOptions();
        var command = new Command("matrix", "Compare every pair of several models: per-method score matrices, clustering and a verdict per pair") { models };
        common.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse);
            var progress = common.ProgressReporter(parse, context);
            var router = new ProgressRouter();
            var methodContext = common.Context(parse, router);
            var paths = parse.GetValue(models)!;
            var inputs = new List<OpenedInput>(paths.Length);
            try
            {
                // Every input stays open for the whole run: each model is read once, its signatures cached.
                var hub = common.HubDisplay(parse, progress);
                foreach (var path in paths) inputs.Add(hub.Open(path));
                var labels = Enumerable.Range(0, inputs.Count).Select(HtmlReport.MatrixLabel).ToList();
                SignaturePrefetch.Run(inputs, labels, methods, methodContext, router, progress);
                int pairCount = inputs.Count * (inputs.Count - 1) / 2;
                MatrixResult result;
                using (var task = progress.Start($"comparing {pairCount} pairs", pairCount, "pairs"))
                {
                    result = MatrixRunner.Run(inputs, methods, methodContext, (i, _, _, _) => task.Report(i));
                }

                if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, inputs);
                if (parse.GetValue(common.Json)) context.Out.WriteLine(MatrixJson.Serialize(result));
                else Print(context.Console, result, labels);
                report.Write(parse, context, parse.GetValue(common.Quiet), () => HtmlReport.Matrix(result, methods));
            }
            finally
            {
                foreach (var input in inputs) input.Dispose();
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    public static void Print(IAnsiConsole console, MatrixResult r, IReadOnlyList<string> labels)
    {
        for (int i = 0; i < r.Models.Count; i++)
        {
            var m = r.Models[i];
            string what = m.Source == "fingerprint" ? "fingerprint file" : $"{m.Format}, {m.Parameters:N0} parameters";
            console.WriteLine($"{labels[i],-4} {m.Path}  ({m.Architecture}, {m.Layers} layers, {what}{(m.Revision != null ? ", revision " + m.Revision : "")})");
        }

        console.WriteLine();
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

        var json = MatrixJson.ToJson(r);
        foreach (var id in r.MethodIds)
        {
            var scores = MatrixJson.Scores(r, id);
            var order = (json["matrices"]![id]!["order"]!.AsArray()).Select(o => (int)o!).ToList();
            console.WriteLine();
            console.WriteLine($"{id} scores, models in average-linkage clustering order (distance 1 − score):");
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

        console.WriteLine();
        foreach (var p in r.Pairs.Where(p => p.Result.Verdict.Label != WeightPrint.Verdict.Verdict.Inconclusive || r.Pairs.Count <= 6))
        {
            string label = p.Result.Verdict.Label.ToUpperInvariant();
            string colour = p.Result.Verdict.Label switch { "derived" => "red", "independent" => "green", _ => "yellow" };
            console.MarkupLine($"{labels[p.A]} × {labels[p.B]}: [bold {colour}]{label}[/] — {Markup.Escape(p.Result.Verdict.Reason)}");
        }
    }
}
