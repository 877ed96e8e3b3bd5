using WeightPrint.Signals;
using WeightPrint.Verdict;

namespace WeightPrint.Tests.Signals;

public class VerdictRulesTests
{
    // The verdict reads each result's kind of null, never its id: the ids here only label the sentences.
    private static MethodResult R(string id, double? p, Evidence evidence = Evidence.Unclear, double? percentile = null, double score = 0.5, IReadOnlyList<PartTest>? parts = null, string? transform = null)
        => new()
        {
            Id = id, PValue = p, NullDescription = "test", Evidence = evidence, BackgroundPercentile = percentile, Score = score,
            NullKind = p == null ? NullKind.None : id == "spectral" ? NullKind.Calibrated : NullKind.ExactPermutation,
            Parts = parts ?? [], Transform = transform,
        };

    private static MethodResult NotApplicable(string id) => new() { Id = id, Status = MethodStatus.NotApplicable, Reason = "no vocabulary", NullDescription = "test", NullKind = NullKind.ExactPermutation };

    [Fact]
    public void Rules_are_an_ordered_list_ending_with_independent()
    {
        Assert.Equal(["identical weights", "shared tensors", "exact rejection", "calibrated or simulated rejection only", "no exact test", "weak evidence", "independent"], VerdictRules.Rules.Select(r => r.Name));
    }

    [Fact]
    public void Identical_weights_are_derived()
    {
        var v = VerdictRules.Decide([], identicalWeights: true);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.Equal("identical weights", v.Reason);
    }

    [Fact]
    public void Pdf_alone_is_inconclusive()
    {
        var v = VerdictRules.Decide([R("pdf", null, Evidence.Derived, score: 0.99)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("pdf is descriptive", v.Reason);
    }

    [Fact]
    public void Never_independent_without_an_exact_test()
    {
        var v = VerdictRules.Decide([R("spectral", 0.6), NotApplicable("pcs")], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.StartsWith("no exact test applied (only spectral (p = 0.6, calibrated null) ran)", v.Reason);
        Assert.Contains("not tested: pcs (no vocabulary)", v.Reason);
    }

    [Fact]
    public void P_values_at_the_floor_are_shown_as_bounds_not_estimates()
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
    public void A_calibrated_test_alone_cannot_call_a_pair_derived()
    {
        var alone = VerdictRules.Decide([R("pcs", 0.4), R("neuron-match", 0.3), R("spectral", 1e-20, Evidence.Derived)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, alone.Label);
        Assert.Contains("only spectral (p = 1e-20, calibrated null) rejects independence", alone.Reason);
        Assert.Contains("pcs p = 0.4", alone.Reason);

        var agreeing = VerdictRules.Decide([R("pcs", 1e-6, Evidence.Derived), R("neuron-match", 0.3), R("spectral", 1e-20, Evidence.Derived)], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, agreeing.Label);
        Assert.StartsWith("pcs rejects independent initialisation (p = 1e-6 <", agreeing.Reason);
        Assert.Contains("spectral (p = 1e-20) agreeing", agreeing.Reason);
        Assert.Contains("neuron-match (p = 0.3) does not reject", agreeing.Reason);
    }

    [Fact]
    public void Nothing_applicable_is_inconclusive()
    {
        var v = VerdictRules.Decide([NotApplicable("cka")], identicalWeights: false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("no vocabulary", v.Reason);
    }

    [Fact]
    public void Bonferroni_boundary_is_strict()
    {
        // Four tests: 2.5e-4 is not below 1e-3 / 4, 2.4e-4 is.
        MethodResult[] results = [R("pcs", 2.5e-4), R("neuron-match", 0.5), R("spectral", 0.5), R("other", 0.5)];
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, VerdictRules.Decide(results, false).Label);
        results[0] = R("pcs", 2.4e-4);
        var v = VerdictRules.Decide(results, false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.Contains("Bonferroni over 4 tests", v.Reason);
    }

    [Fact]
    public void Independent_needs_the_bonferroni_adjusted_smallest_p_above005_and_states_the_power()
    {
        var v = VerdictRules.Decide([R("pcs", 0.03), R("neuron-match", 0.7)], false); // 0.03 × 2 = 0.06 > 0.05
        Assert.Equal(WeightPrint.Verdict.Verdict.Independent, v.Label);
        Assert.Contains("smallest × 2 = 0.06 > 0.05", v.Reason);
        Assert.Contains(VerdictRules.PowerNote, v.Reason);

        // A test that ran under limits (across widths: only matched channels) keeps them in the reason, and the power
        // figure, measured on pairs seen whole, is not claimed for it.
        var limited = R("pcs", 0.5);
        limited = new MethodResult { Id = limited.Id, PValue = limited.PValue, NullDescription = limited.NullDescription, NullKind = limited.NullKind, Reason = "widths differ (96 vs 128): tested on 96 matched channels" };
        var across = VerdictRules.Decide([limited, R("neuron-match", 0.7)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Independent, across.Label);
        Assert.Contains("but not under the limits below, where power was not measured", across.Reason);
        Assert.EndsWith("Limits: widths differ (96 vs 128): tested on 96 matched channels.", across.Reason);
        Assert.DoesNotContain("Limits:", v.Reason);

        var weak = VerdictRules.Decide([R("pcs", 0.02), R("neuron-match", 0.7)], false); // 0.04 ≤ 0.05
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, weak.Label);
        Assert.StartsWith("pcs gives p = 0.02", weak.Reason);
    }

    [Fact]
    public void Derived_reason_names_the_parts_and_the_transform()
    {
        PartTest[] parts =
        [
            new("attention", 0, 0, 0.9, 1e-9, "pcs"), new("attention", 1, 1, 0.9, 1e-12, "pcs"),
            new("mlp", 0, 0, 0.9, 1e-9, "pcs"), new("mlp", 1, 1, 0.0, 0.7, "pcs"), new("mlp", 1, 1, 0.0, 0.5, "neuron-match"),
            new("embeddings", -1, -1, 0.9, 1e-30, "pcs"),
        ];
        var v = VerdictRules.Decide([R("pcs", 1e-20, Evidence.Derived, parts: parts, transform: "orthogonal"), R("neuron-match", 0.5)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
        Assert.Contains("By part: embeddings derived, attention of all 2 layers derived, MLP of 1 of 2 layers derived (layers 0 of A).", v.Reason);
        Assert.Contains("B's residual stream is an orthogonal map of A's", v.Reason);
    }

    [Fact]
    public void A_map_that_makes_only_one_part_agree_is_not_evidence()
    {
        PartTest[] parts = [new("attention", 0, 0, 0.0, 0.4, "pcs"), new("attention", 1, 1, 0.0, 0.6, "pcs"), new("mlp", 0, 0, 0.5, 1e-9, "pcs"), new("mlp", 1, 1, 0.5, 1e-9, "pcs")];
        var v = VerdictRules.Decide([R("pcs", 1e-9, parts: parts, transform: "orthogonal"), R("neuron-match", 0.3)], false);
        Assert.Equal(WeightPrint.Verdict.Verdict.Inconclusive, v.Label);
        Assert.Contains("the attention of no layer is derived", v.Reason);
        // Without a map (stored bases compared as they are) the same parts make the pair derived.
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, VerdictRules.Decide([R("pcs", 1e-9, parts: parts), R("neuron-match", 0.3)], false).Label);
    }

    [Fact]
    public void Partly_shared_layers_are_listed()
    {
        PartTest[] parts = [new("attention", 0, 0, 0.9, 1e-9, "pcs"), new("attention", 1, 1, 0.0, 0.01, "pcs"), new("attention", 2, 2, 0.9, 1e-9, "pcs")];
        Assert.Equal("By part: attention of 2 of 3 layers derived (layers 0, 2 of A).", VerdictRules.PartsSentence(new VerdictInput([R("pcs", 1e-9, parts: parts)], IdentityEvidence.None)));
    }

    [Fact]
    public void Reason_starts_with_the_deciding_evidence_and_ends_with_a_full_stop()
    {
        foreach (var v in new[]
        {
            VerdictRules.Decide([R("pcs", 1e-9, Evidence.Derived), R("spectral", 1e-5, Evidence.Derived, 100)], false),
            VerdictRules.Decide([R("pcs", 0.4), R("spectral", 0.3, Evidence.Independent, 70)], false),
            VerdictRules.Decide([R("pcs", 0.02)], false),
        })
        {
            Assert.EndsWith(".", v.Reason);
            Assert.Contains("pcs", v.Reason);
        }
    }
}
