using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Signals.Pdf;

public class PdfMlpMethodTests
{
    private static long Bytes(ModelView view, params TensorRole[] roles) =>
        view.Layers.Sum(l => roles.Sum(r => l.Get(r)?.Sources.Sum(s => s.ByteLength) ?? 0));

    [Fact]
    public void Pdf_reads_the_attention_projections_and_norms_only_and_pdf_mlp_the_mlp()
    {
        var view = SyntheticModels.Generate(1).ToView(name: "m");
        long attention = Bytes(view, TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO);
        long norms = Bytes(view, TensorRole.AttnNorm, TensorRole.MlpNorm);
        long mlp = Bytes(view, TensorRole.MlpGate, TensorRole.MlpUp, TensorRole.MlpDown);
        Assert.True(attention > 0 && norms > 0 && mlp > attention);

        var pdfRead = new RecordingProgress();
        var pdf = new PdfMethod().Extract(view, new MethodContext { Progress = pdfRead });
        Assert.Equal(attention + norms, pdfRead.Steps.Single().Done);
        Assert.Equal(attention + norms, new PdfMethod().SignatureBytes(view));
        Assert.Null(pdf["mlp_std"]);

        var mlpRead = new RecordingProgress();
        var s = new PdfMlpMethod().Extract(view, new MethodContext { Progress = mlpRead });
        Assert.Equal(mlp, mlpRead.Steps.Single().Done);
        Assert.Equal(mlp, new PdfMlpMethod().SignatureBytes(view));
        double gate0 = SignatureJson.ReadDoubles(s["std"]!["gate"])[0];
        Assert.Equal(view.Layers[0].Get(TensorRole.MlpGate)!.ComputeMoments().StandardDeviation, gate0, 12);
        Assert.Equal(view.Layers.Count, SignatureJson.ReadDoubles(s["std"]!["down"]).Length);
    }

    [Fact]
    public void A_model_scores_one_against_itself_and_is_never_a_test()
    {
        var a = SyntheticModels.Generate(2, layers: 6);
        var self = MethodTestKit.Compare(new PdfMlpMethod(), a, a);
        Assert.Equal(MethodStatus.Ok, self.Status);
        Assert.Equal(1, self.Score, 9);
        Assert.Equal(["gate", "up", "down"], self.PerCurve.Keys);
        Assert.Null(self.PValue);
        Assert.Equal(Evidence.None, self.Evidence);

        var other = MethodTestKit.Compare(new PdfMlpMethod(), a, SyntheticModels.Generate(3, layers: 6));
        Assert.True(other.Score < 0.999, MethodTestKit.Describe(other));
    }

    [Fact]
    public void Attention_only_models_are_not_applicable()
    {
        var a = InMemoryModels.Llama("a", 3, 4, (l, p, i) => i + l);
        var r = MethodTestKit.Compare(new PdfMlpMethod(), a, a);
        Assert.Equal(MethodStatus.NotApplicable, r.Status);
        Assert.Contains("MLP", r.Reason);
    }
}
