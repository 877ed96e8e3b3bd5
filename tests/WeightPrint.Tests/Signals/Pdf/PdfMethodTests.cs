using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Signals.Pdf;

public class PdfMethodTests
{
    private static readonly MethodContext Context = new();

    [Fact]
    public void Signature_holds_the_unbiased_std_of_each_projection()
    {
        // Layer 0's Q is [[1, 2], [3, 4]]: torch.std = sqrt(((1.5² + 0.5²) × 2) / 3) = sqrt(5/3).
        var view = InMemoryModels.Llama("m", 2, 2, (l, p, i) => p == "q" && l == 0 ? i + 1 : (i + 1) * (l + 1) * (p[0] - 'a'));
        var s = new PdfMethod().ExtractSignature(view, Context);
        Assert.Equal(2, (int)s["layers"]!);
        double q0 = SignatureJson.ReadDoubles(s["std"]!["q"])[0];
        Assert.Equal(Math.Sqrt(5.0 / 3), q0, 6);
    }

    [Fact]
    public void Kernel_std_matches_a_two_pass_double_reference()
    {
        var rng = new Random(3);
        var values = Enumerable.Range(0, 300_000).Select(_ => (float)(rng.NextDouble() * 0.04 - 0.02 + 0.001)).ToArray();
        using var c = InMemoryModels.Checkpoint("m", [("w", [600, 500], values)]);
        double std = TensorReader.ComputeMoments(c.Tensors[0]).StandardDeviation;
        double mean = values.Select(v => (double)v).Average();
        double reference = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        Assert.Equal(reference, std, reference * 1e-6);
    }

    [Fact]
    public void A_model_compared_with_itself_scores_one_and_with_a_rescaled_copy_too()
    {
        var a = InMemoryModels.Llama("a", 6, 8, (l, p, i) => (float)Math.Sin(i * 0.37 + l * 1.3 + p[0]) * (1 + l % 3));
        var b = InMemoryModels.Llama("b", 6, 8, (l, p, i) => 5 * (float)Math.Sin(i * 0.37 + l * 1.3 + p[0]) * (1 + l % 3));
        var r = new PdfMethod().Compare(new ComparisonInput("a", a), new ComparisonInput("b", b), Context);
        Assert.Equal(MethodStatus.Ok, r.Status);
        Assert.Equal(1, r.Score, 9);
        Assert.Null(r.PValue);
        Assert.Equal(100, r.BackgroundPercentile);
    }

    [Fact]
    public void Constant_curve_gives_an_undefined_score_never_a_number()
    {
        // Every layer's K has the same std: the K curve is constant.
        var a = InMemoryModels.Llama("a", 4, 4, (l, p, i) => p == "k" ? (i % 2 == 0 ? 1 : -1) : (float)Math.Cos(i + l * 2.1));
        var b = InMemoryModels.Llama("b", 4, 4, (l, p, i) => (float)Math.Sin(i * 1.7 + l));
        var r = new PdfMethod().Compare(new ComparisonInput("a", a), new ComparisonInput("b", b), Context);
        Assert.True(double.IsNaN(r.PerCurve["k"]));
        Assert.True(double.IsNaN(r.Score));
        Assert.Contains("undefined", r.Summary);
    }

    [SkippableFact]
    public void Stories260K_containers_compare_at_r_one_while_llama2xs_does_not()
    {
        string[] containers = ["l2c-stories260K/stories260K.bin", "derived-stories260K-hf-f32", "derived-stories260K-hf-bf16", "derived-stories260K-hf-sharded"];
        var paths = containers.Select(SharedModels.Require).ToList();
        using var reference = OpenedInput.Open(paths[0]);
        foreach (var p in paths.Skip(1))
        {
            using var other = OpenedInput.Open(p);
            var r = new PdfMethod().Compare(reference.Input, other.Input, Context);
            Assert.Equal(1, r.Score, 5);
        }

        using var xs = OpenedInput.Open(SharedModels.Require("derived-llama2xs-hf-f32"));
        var independent = new PdfMethod().Compare(reference.Input, xs.Input, Context);
        Assert.InRange(independent.Score, -1, 0.9);
    }
}
