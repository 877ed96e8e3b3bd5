using System.CommandLine;
using System.Text.Json.Nodes;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint fingerprint MODEL -o fp.json [--methods …]</c>: saves each method's per-model signature.</summary>
public static class FingerprintCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The model: " + HelpText.Model };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the fingerprint JSON (default: stdout)", HelpName = "FILE" }.OutputFile();
        var common = new CommonOptions();
        var command = new Command("fingerprint", HelpText.Describe(
            "Write a model's per-method signatures to a JSON file that compare accepts in place of the model (stdout without -o, or with --json)",
            [
                "weightprint fingerprint model/ -o model.fp.json",
                "weightprint fingerprint hf:ORG/NAME --methods pdf --json > fp.json",
                "weightprint compare model.fp.json candidate/",
            ])) { model, output };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse).Where(m => m.HasSignature).ToList();
            if (methods.Count == 0) throw new UsageException("none of the selected methods has a per-model signature (pairwise methods need both models' weights)");
            var progress = common.ProgressReporter(parse, context);
            var router = new ProgressRouter();
            var methodContext = common.Context(parse, router);
            string path = parse.GetValue(model)!;
            using var input = common.Hub(parse, context, progress).Open(path);
            if (input.Input.View is not { } view) throw new UsageException($"{path} is already a fingerprint file");
            SignaturePrefetch.Run([input], [path], methods, methodContext, router, progress);
            // Extracted above under the progress bars; a failure there is raised here, where it is reported.
            var signatures = methods.ToDictionary(m => m.Id, m => input.Input.CachedSignature(m.Id, () => m.ExtractSignature(view, methodContext)));

            if (!parse.GetValue(common.Quiet)) HubTransferDisplay.WriteSummary(context.Err, [input]);
            string json = FingerprintFile.Serialize(input.Summary, signatures);
            string? target = parse.GetValue(output);
            // --json: the fingerprint document on stdout (as without -o), also when it is written to a file.
            if (string.IsNullOrEmpty(target) || parse.GetValue(common.Json)) context.Out.WriteLine(json);
            if (!string.IsNullOrEmpty(target))
            {
                ReportOptions.Writing("--output", target, () => File.WriteAllText(target, json + "\n"));
                if (!parse.GetValue(common.Quiet)) context.Err.WriteLine($"wrote {target} ({string.Join(", ", signatures.Keys)})");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }
}
