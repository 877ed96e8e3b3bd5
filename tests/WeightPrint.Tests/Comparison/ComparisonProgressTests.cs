using WeightPrint.Comparison;
using WeightPrint.Signals;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Comparison;

/// <summary>Issue 14, item 9: a compare reports per tensor (or layer, or MLP) and per method, not 0% then 100%.</summary>
public class ComparisonProgressTests
{
    private static string Sample(params string[] parts) => Path.Combine([SharedModels.RepoRoot, "samples", .. parts]);

    [Fact]
    public void A_compare_reports_each_method_as_a_step_that_climbs_tensor_by_tensor_to_its_total()
    {
        using var a = OpenedInput.Open(Sample("stories260K-llama2c", "stories260K.bin"));
        using var b = OpenedInput.Open(Sample("llama2xs-hf-f32"));
        var recorder = new RecordingProgress();
        var methods = MethodRegistry.All;
        ComparisonRunner.Run(a, b, methods, new MethodContext { Threads = 2, Progress = recorder });

        var steps = recorder.Steps;
        var names = steps.Select(s => s.Name).ToList();
        Assert.Equal(IdentityCheck.Step, names[0]);
        // Every method names its step, in the order the methods run (a method may begin a step it reads for, such as
        // spectral's signature of each model, before its own).
        var order = methods.Select(m => names.LastIndexOf(m.Id)).ToList();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);

        foreach (var s in steps.Where(s => s.Total > 0))
        {
            // Monotonic, never beyond the total, and ending exactly at it.
            Assert.True(s.Counts.Zip(s.Counts.Skip(1)).All(p => p.First < p.Second), s.Name);
            Assert.True(s.Counts.Count > 0 && s.Done == s.Total, $"{s.Name}: {s.Done} of {s.Total} {s.Unit}");
        }

        // The identity check reads every tensor of both models: one report per tensor, not one at the end.
        var identity = steps[0];
        Assert.Null(identity.Unit);
        Assert.True(identity.Counts.Count >= 40, $"{identity.Counts.Count} reports");

        var pcs = steps.Last(s => s.Name == "pcs");
        Assert.Equal(("layer pairs", 5L), (pcs.Unit, pcs.Total));
        Assert.Equal([1L, 2, 3, 4, 5], pcs.Counts);
        var neurons = steps.Last(s => s.Name == "neuron-match");
        Assert.Equal(("MLPs", 5L, 5), (neurons.Unit, neurons.Total, neurons.Counts.Count));
        // Signatures are read inside the compare when nothing extracted them before: bytes, tensor by tensor.
        var pdf = steps.First(s => s.Name == "pdf");
        Assert.Equal(new WeightPrint.Signals.Pdf.PdfMethod().SignatureBytes(a.Input.View!), pdf.Total);
        Assert.True(pdf.Counts.Count >= 20, $"{pdf.Counts.Count} reports"); // Q, K, V, O and norms of 5 layers
        Assert.Equal(2, steps.Count(s => s.Name == "spectral" && s.Unit == null && s.Counts.Count == 5));
    }

    [Fact]
    public void A_fingerprint_reports_its_samples_block_by_block_and_its_hashes_chunk_by_chunk()
    {
        using var input = OpenedInput.Open(Sample("llama2xs-hf-f32"));
        var recorder = new RecordingProgress();
        var view = input.Input.View!;
        FingerprintBuilder.Build(view, input.Summary, new Dictionary<string, System.Text.Json.Nodes.JsonObject>(), 7, progress: recorder);

        var steps = recorder.Steps;
        Assert.Equal([FingerprintBuilder.SamplingStep, FingerprintBuilder.HashingStep], steps.Select(s => s.Name));
        Assert.Equal(FingerprintBuilder.SampleReadBytes(view, 7), steps[0].Total);
        Assert.True(steps[0].Counts.Count >= 20, $"{steps[0].Counts.Count} reports");
        Assert.All(steps, s => Assert.Equal(s.Total, s.Done));
        Assert.True(steps[1].Counts.Count >= 20, $"{steps[1].Counts.Count} reports");
    }
}
