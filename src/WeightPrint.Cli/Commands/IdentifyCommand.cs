using System.CommandLine;
using Spectre.Console;
using WeightPrint.Catalog;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint identify MODEL [--db …] [--top K]</c>: which catalog entry is MODEL derived from.</summary>
internal static class IdentifyCommand
{
    /// <summary>Candidates that reach the exact tests by default.</summary>
    public const int DefaultTop = 5;

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The suspect: a model (file, folder, hf:ORG/NAME) or a fingerprint file" };
        var db = DbCommand.DbOption();
        var top = new Option<int>("--top") { Description = "Catalog entries that reach the exact tests (ranked by the prefilter)", DefaultValueFactory = _ => DefaultTop };
        var common = new CommonOptions();
        var report = new ReportOptions();
        var command = new Command("identify", "Rank the catalog's entries by evidence that MODEL derives from them: prefilter, then the exact tests with Bonferroni over the entries tested") { model, db, top };
        common.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            int k = parse.GetValue(top);
            if (k < 1) throw new UsageException("--top must be at least 1");
            var methods = common.SelectedMethods(parse);
            var progress = common.ProgressReporter(parse, context);
            var steps = new ProgressSteps(progress);
            var methodContext = common.Context(parse, steps);
            using var store = DbCommand.OpenStore(parse, db);
            string path = parse.GetValue(model)!;
            using var suspect = new HubTransferDisplay(progress).Open(path);
            Fingerprint suspectFingerprint;
            if (suspect.Fingerprint is { } given) suspectFingerprint = given;
            else
            {
                suspectFingerprint = steps.Run("fingerprinting suspect", () => FingerprintBuilder.Build(suspect.Input.View!, suspect.Summary,
                    new Dictionary<string, System.Text.Json.Nodes.JsonObject>(), methodContext.Seed, hashFiles: false, progress: steps));
            }

            // A remote suspect is compared through its fingerprint (the sampled rows just fetched): extracting the signatures
            // of the methods that read whole tensors would otherwise fetch nearly all of the model. A local one is compared
            // as a model (its full view adds what a fingerprint cannot hold, at no network cost).
            using var remoteAsFingerprint = suspect.Transfer != null && suspect.Fingerprint == null ? OpenedInput.Of(suspectFingerprint, path) : null;
            var compared = remoteAsFingerprint ?? suspect;
            // No signature prefetch: a method extracts the suspect's signature (once, shared by the candidates) only when a
            // candidate it is compared with has one; entries added from hf: hold samples only, and a local 7B suspect's
            // whole tensors would otherwise be read for nothing.
            var result = steps.Run("comparing with the catalog", () => Identify.Run(store, compared, suspectFingerprint, k, methods, methodContext));
            if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, [suspect]);
            if (parse.GetValue(common.Json))
                context.Out.WriteLine(Identify.ToJson(result, suspect.Summary, methodContext.Seed, store.Display).ToJsonString(ComparisonJson.Options));
            else Print(context, result, path, store.Display);
            if (report.Requested(parse))
            {
                var shown = result.Best ?? (result.Candidates.Count > 0 ? result.Candidates[0] : null);
                if (shown == null) throw new UsageException("no catalog entry was compatible with the model, so there is no comparison to report");
                report.Write(parse, context, parse.GetValue(common.Quiet), () => HtmlReport.Compare(shown.Comparison, methods));
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    private static void Print(CliContext context, IdentifyResult r, string path, string catalog)
    {
        var console = context.Console;
        console.WriteLine($"suspect  {path}");
        console.WriteLine($"catalog  {catalog}: {r.Entries} entries, {r.Compatible} with the same hidden size, {r.Tested} tested exactly");
        console.WriteLine();
        if (r.Tested == 0)
        {
            console.WriteLine(r.Entries == 0
                ? "no match: the catalog is empty (add bases with 'weightprint db add MODEL', or 'weightprint db import samples/catalog.jsonl')"
                : "no match: no catalog entry has the suspect's hidden size, so none can be tested (pcs and neuron-match need equal residual widths)");
            return;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumn("entry").AddColumn(new TableColumn("prefilter").RightAligned()).AddColumn("verdict")
            .AddColumn(new TableColumn("pcs p (raw)").RightAligned()).AddColumn(new TableColumn("neuron-match p (raw)").RightAligned()).AddColumn("reason");
        foreach (var c in r.Candidates)
        {
            table.AddPlainRow(c.Entry.Name, double.IsFinite(c.PrefilterScore) ? c.PrefilterScore.ToString("F3") : "—", c.Verdict.Label,
                P(c.Comparison.Methods, "pcs"), P(c.Comparison.Methods, "neuron-match"), c.Verdict.Reason);
        }

        console.Write(table);
        console.WriteLine();
        if (r.Best is { } best)
        {
            console.WriteLine($"best match: {best.Entry.Name} — {best.Verdict.Label.ToUpperInvariant()}: {best.Verdict.Reason}");
            var others = r.Candidates.Skip(1).Where(c => c.Verdict.Label == WeightPrint.Verdict.Verdict.Derived).Select(c => c.Entry.Name).ToList();
            if (others.Count > 0) console.WriteLine($"also derived (shared ancestry with the best match is likely): {string.Join(", ", others)}");
        }
        else
        {
            console.WriteLine($"no match: none of the {r.Tested} catalog entries tested is a base of this model by the exact tests (no verdict 'derived'); "
                + $"closest by the prefilter: {r.Candidates.OrderByDescending(c => double.IsFinite(c.PrefilterScore) ? c.PrefilterScore : double.MinValue).First().Entry.Name}.");
        }
    }

    private static string P(IReadOnlyList<MethodResult> methods, string id)
        => methods.FirstOrDefault(m => m.Id == id) is { PValue: double p } ? CompareCommand.FormatP(p) : "—";
}
