using WeightPrint.Signals;
using WeightPrint.Verdict;

namespace WeightPrint.Tests.Signals;

public class VerdictRulesTests
{
    private static MethodResult R(string id, double? p, Evidence evidence = Evidence.Unclear, double? percentile = null, double score = 0.5)
        => new() { Id = id, PValue = p, NullDescription = "test", Evidence = evidence, BackgroundPercentile = percentile, Score = score };

    private static MethodResult NotApplicable(string id) => new() { Id = id, Status = MethodStatus.NotApplicable, Reason = "no vocabulary", NullDescription = "test" };

    [Fact]
    public void IdenticalWeightsAreDerived()
    {
        var v = VerdictRules.Decide([], identicalWeights: true);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.Equal("identical weights", v.Reason);
    }

    [Fact]
    public void PdfAloneIsInconclusive()
    {
        var v = VerdictRules.Decide([R("pdf", null, Evidence.Derived, score: 0.99)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("pdf", v.Reason);
    }

    [Fact]
    public void PValuesAtTheFloorAreShownAsBoundsNotEstimates()
    {
        double floor = WeightPrint.Statistics.FisherMethod.MinPValue;
        var v = VerdictRules.Decide([R("pcs", floor, Evidence.Derived), R("neuron-match", floor, Evidence.Derived), R("spectral", 2e-95, Evidence.Derived)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.Contains("pcs rejects independent initialisation (p < 1e-300 < α", v.Reason);
        Assert.Contains("neuron-match (p < 1e-300)", v.Reason);
        Assert.Contains("spectral (p = 2e-95)", v.Reason);
        Assert.DoesNotContain("1E-300", v.Reason);
    }

    [Fact]
    public void SpectralAloneCannotCallAPairDerived()
    {
        // spectral's null is simulated from untrained weights: it may agree with an exact test, never decide alone.
        var alone = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 0.3), R("spectral", 1e-20, Evidence.Derived)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, alone.Label);
        Assert.Contains("only spectral (p = 1e-20) rejects independence", alone.Reason);
        Assert.Contains("pcs p = 0.4", alone.Reason);

        var agreeing = VerdictRules.Decide([R("pcs", 1e-6, Evidence.Derived), R("neuron-match", 0.3), R("spectral", 1e-20, Evidence.Derived)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, agreeing.Label);
        Assert.StartsWith("pcs rejects independent initialisation (p = 1e-6 <", agreeing.Reason);
        Assert.Contains("spectral (p = 1e-20) agreeing", agreeing.Reason);
    }

    [Fact]
    public void NothingApplicableIsInconclusive()
    {
        var v = VerdictRules.Decide([NotApplicable("cka")], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("no vocabulary", v.Reason);
    }

    [Fact]
    public void RejectionAfterBonferroniIsDerived()
    {
        // Three tests: the threshold is 1e-3 / 3.
        var v = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 2e-4, Evidence.Derived), R("spectral", 0.3, Evidence.Independent, 70), R("pdf", null)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label); // spectral (invariant) contradicts it

        v = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 2e-4, Evidence.Derived), R("spectral", 0.01, Evidence.Unclear, 99), R("pdf", null)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.StartsWith("neuron-match rejects", v.Reason);
        Assert.Contains("Bonferroni over 3 tests", v.Reason);
    }

    [Fact]
    public void BonferroniBoundaryIsStrict()
    {
        // Four tests: 2.5e-4 is not below 1e-3 / 4.
        MethodResult[] results = [R("pcs", 2.5e-4), R("neuron-match", 0.5), R("spectral", 0.5, Evidence.Independent, 50), R("cka", 0.5)];
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, VerdictRules.Decide(results, false).Label);
        results[0] = R("pcs", 2.4e-4);
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, VerdictRules.Decide(results, false).Label); // spectral contradicts
        results[2] = R("spectral", 0.5, Evidence.Unclear, 50);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, VerdictRules.Decide(results, false).Label);
    }

    [Fact]
    public void AllHighPValuesInsideBackgroundAreIndependent()
    {
        var v = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 0.7), R("spectral", 0.3, Evidence.Independent, 70), R("cka", null, Evidence.Independent, 40)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Independent, v.Label);
        Assert.Contains("70th percentile", v.Reason);
    }

    [Fact]
    public void InvariantScoreOutsideBackgroundBlocksIndependent()
    {
        var v = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 0.7), R("cka", null, Evidence.Unclear, 99.9)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("cka", v.Reason);
    }

    [Fact]
    public void WeakPValueIsInconclusive()
    {
        var v = VerdictRules.Decide([R("pcs", 0.01), R("neuron-match", 0.7)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("pcs gives p = 0.01", v.Reason);
    }

    [Fact]
    public void ReasonIsOneSentence()
    {
        foreach (var v in new[]
        {
            VerdictRules.Decide([R("pcs", 1e-9, Evidence.Derived), R("spectral", 1e-5, Evidence.Derived, 100)], false),
            VerdictRules.Decide([R("pcs", 0.4), R("spectral", 0.3, Evidence.Independent, 70)], false),
            VerdictRules.Decide([R("pcs", 0.02)], false),
        })
        {
            Assert.EndsWith(".", v.Reason);
            Assert.DoesNotContain(". ", v.Reason.TrimEnd('.'));
        }
    }
}
