using System.CommandLine;
using System.Text.Json.Nodes;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint fingerprint MODEL -o fp.json [--methods …]</c>: saves each method's per-model signature.</summary>
internal static class FingerprintCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The model: " + HelpText.Model };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the fingerprint JSON (default: stdout)", HelpName = "FILE" }.OutputFile();
        var common = new CommonOptions();
        var command = new Command("fingerprint", HelpText.Describe(
            "Write a model's fingerprint (sampled rows for pcs and neuron-match, signatures, file hashes) that compare, identify and db accept in place of the model (stdout without -o, or with --json)",
            [
                "weightprint fingerprint model/ -o model.fp.json",
                "weightprint fingerprint hf:ORG/NAME -o fp.json",
                "weightprint compare model.fp.json candidate/",
            ])) { model, output };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var methods = common.SelectedMethods(parse).Where(m => m.HasSignature).ToList();
            var progress = common.ProgressReporter(parse, context);
            var steps = new ProgressSteps(progress);
            var methodContext = common.Context(parse, steps);
            string path = parse.GetValue(model)!;
            methods = SignatureMethods(path, methods, parse.GetValue(common.Methods) != null, parse.GetValue(common.Quiet), context);

            var fingerprint = Make(path, methods, methodContext, steps, progress, context, parse.GetValue(common.Quiet));
            string? target = parse.GetValue(output);
            // --json: the fingerprint document on stdout (as without -o), also when it is written to a file.
            if (string.IsNullOrEmpty(target) || parse.GetValue(common.Json)) context.Out.WriteLine(fingerprint.ToJsonLine());
            if (!string.IsNullOrEmpty(target))
            {
                ReportOptions.Writing("--output", target, () =>
                {
                    using var file = File.Create(target);
                    fingerprint.Write(file);
                });
                if (!parse.GetValue(common.Quiet))
                    context.Err.WriteLine($"wrote {target} ({fingerprint.Samples.Count} sampled tensors, {fingerprint.SampleBytes / 1e6:F1} MB of samples; signatures: {(fingerprint.Signatures.Count == 0 ? "none" : string.Join(", ", fingerprint.Signatures.Keys))})");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>The signature methods to run for a model: those selected, except for an <c>hf:</c> model without an
    /// explicit <c>--methods</c>, whose fingerprint then holds the samples only (said on stderr unless quiet).</summary>
    public static List<SignalMethod> SignatureMethods(string path, List<SignalMethod> selected, bool explicitMethods, bool quiet, CliContext context)
    {
        if (explicitMethods || selected.Count == 0 || !WeightPrint.Loading.HubLoader.IsHubReference(path)) return selected;
        // The signatures read whole tensors (pdf and spectral all attention weights, pdf-mlp all MLP weights: nearly the
        // whole model); the samples that let pcs and neuron-match say "derived" are a few percent of it.
        if (!quiet)
            context.Err.WriteLine($"{path}: samples only (for pcs and neuron-match, a few percent of the model's bytes); the pdf, pdf-mlp and spectral signatures read whole tensors, so they are made only when asked for (--methods all)");
        return [];
    }

    /// <summary>Opens a model and makes its fingerprint: the samples always, the signatures of <paramref name="methods"/>.</summary>
    public static Fingerprint Make(string path, IReadOnlyList<SignalMethod> methods, MethodContext methodContext, ProgressSteps steps,
        ProgressReporter progress, CliContext context, bool quiet)
    {
        using var input = new HubTransferDisplay(progress).Open(path);
        if (input.Input.IsFingerprint || input.Input.View == null) throw new UsageException($"{path} is already a fingerprint file");
        SignaturePrefetch.Run([input], [path], methods, methodContext, steps);
        // The signatures were extracted above under the progress bars; a failure there is raised here, where it is reported.
        var fingerprint = steps.Run($"fingerprinting {path}", () => FingerprintBuilder.Of(input, methods, methodContext, steps));

        if (!quiet) HubTransferDisplay.WriteSummary(context.Err, [input]);
        return fingerprint;
    }
}
