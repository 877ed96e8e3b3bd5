using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Tests.Signals;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Comparison;

/// <summary>
/// The claims of docs/fingerprint.md ("What a fingerprint can and cannot see through") on a model wider than the
/// fingerprint's samples (d 1024 > the 512-dimension residual block, d_ff 1024 > the 256-neuron block), as a 7B model
/// is: what fingerprint-vs-fingerprint and fingerprint-vs-model comparisons call derived.
/// </summary>
public class FingerprintSeeThroughTests
{
    private static readonly Lazy<SyntheticModel> Base = new(() => SyntheticModels.Generate(21, layers: 2, hidden: 1024, heads: 8, kvHeads: 8, intermediate: 1024, vocab: 1024));

    private static ComparisonInput Fingerprinted(ModelView view, string label)
    {
        var signatures = new Dictionary<string, JsonObject> { ["spectral"] = new SpectralMethod().ExtractSignature(view, MethodTestKit.Context) };
        return FingerprintBuilder.Build(view, ModelSummary.Of(view, label), signatures, MethodTestKit.Context.Seed, hashFiles: false).ToInput(label);
    }

    private static double P(SignalMethod method, ComparisonInput a, ComparisonInput b)
        => method.CompareInputs(a, b, MethodTestKit.Context).PValue ?? double.NaN;

    [Fact]
    public void Spectral_is_not_applicable_when_one_wide_fingerprint_lacks_its_signature()
    {
        // Sampled rows of a wide model cannot give singular values: without the stored signature spectral does not
        // apply (it used to surface as "malformed fingerprint" when the read failed on a worker thread).
        var view = Base.Value.ToView();
        var bare = FingerprintBuilder.Build(view, ModelSummary.Of(view, "bare"), new Dictionary<string, JsonObject>(), MethodTestKit.Context.Seed, hashFiles: false).ToInput("bare");
        var r = new SpectralMethod().CompareInputs(Fingerprinted(view, "signed"), bare, MethodTestKit.Context);
        Assert.Equal(MethodStatus.NotApplicable, r.Status);
    }

    [Fact]
    public void Fingerprint_against_fingerprint_sees_through_fine_tuning()
    {
        var a = Fingerprinted(Base.Value.ToView(), "base");
        var b = Fingerprinted(SyntheticModels.AddNoise(Base.Value, 0.3, 9).ToView("BF16"), "tuned");
        Assert.True(P(new PcsMethod(), a, b) < 1e-6);
        Assert.True(P(new NeuronMatchMethod(), a, b) < 1e-6);
    }

    [Fact]
    public void Between_two_wide_fingerprints_neuron_match_is_the_position_test_alone()
    {
        // The 256 stored neurons of d_ff 1024 are the same block on both sides: the permutation-invariant agreement
        // statistic is not run (no null draws, no Bonferroni factor); against the full model it is.
        var a = Fingerprinted(Base.Value.ToView(), "base");
        var tuned = SyntheticModels.AddNoise(Base.Value, 3.0, 9);
        var r = new NeuronMatchMethod().CompareInputs(a, Fingerprinted(tuned.ToView(), "tuned"), MethodTestKit.Context);
        var d = (NeuronMatchDetails)r.Details!;
        Assert.Equal(0, d.NullDraws);
        Assert.True(double.IsNaN(d.AgreementPValue));
        Assert.Equal(Math.Max(1e-300, d.PositionPValue), r.PValue!.Value, 1e-12);
        Assert.Contains("position test decides alone", r.Summary, StringComparison.Ordinal);
        var full = (NeuronMatchDetails)new NeuronMatchMethod().CompareInputs(a, new ComparisonInput("tuned", tuned.ToView()), MethodTestKit.Context).Details!;
        Assert.Equal(NeuronMatchMethod.NullDraws, full.NullDraws);
    }

    [Theory]
    [InlineData("permute-residual")]
    [InlineData("rotate-residual")]
    public void Fingerprint_against_fingerprint_does_not_see_through_a_residual_map_and_against_the_full_model_only_a_permutation(string variant)
    {
        var model = variant == "permute-residual" ? SyntheticModels.PermuteResidual(Base.Value, 3) : SyntheticModels.RotateResidual(Base.Value, 8);
        var a = Fingerprinted(Base.Value.ToView(), "base");
        var b = Fingerprinted(model.ToView(), variant);
        // The samples hold the same indices of both residual streams, which the map has moved: no exact test rejects.
        Assert.True(P(new PcsMethod(), a, b) > 1e-3);
        Assert.True(P(new NeuronMatchMethod(), a, b) > 1e-3);
        // With the full descendant as B, neuron-match maps its residual stream through the shared tokens' embeddings: a
        // signed permutation is found from the fingerprint's 512 token rows; a rotation would need 2 × d of them.
        double full = P(new NeuronMatchMethod(), a, new ComparisonInput(variant, model.ToView()));
        if (variant == "permute-residual") Assert.True(full < 1e-6);
        else Assert.True(full > 1e-3);
    }
}
