using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Tests.Calibration;
using WeightPrint.Tests.Support;
using WeightPrint.Verdict;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Signals;

/// <summary>
/// Pairs whose residual widths differ: hidden-dimension-pruned derivatives (written by <see cref="WidthPruning"/> from
/// models of <c>../shared/zoo</c>, skipped when absent) must come out derived with their parent, with evidence per part,
/// and never derived against an unrelated model; the cross-width tests' p-values on unrelated pairs must stay valid.
/// </summary>
public class CrossWidthTests(ITestOutputHelper output)
{
    private static readonly SignalMethod[] Tests = [new PcsMethod(), new NeuronMatchMethod(), new SpectralMethod()];

    private static readonly MethodContext Context = new() { Seed = 20250701, Permutations = 999, Threads = 2 };

    private static ModelView Zoo(string name)
    {
        string? root = ZooCalibrationTests.ZooRoot();
        Skip.If(root == null, "../shared/zoo is not present");
        return ModelViewBuilder.Build(CheckpointLoader.Open(Path.Combine(root!, name)));
    }

    private (IReadOnlyList<MethodResult> Results, WeightPrint.Verdict.Verdict Verdict) Judge(ModelView a, ModelView b)
    {
        var (ia, ib) = (new ComparisonInput("A", a), new ComparisonInput("B", b));
        var results = Tests.Select(m => m.CompareInputs(ia, ib, Context)).ToList();
        var verdict = VerdictRules.Decide(results, identicalWeights: false);
        foreach (var r in results) output.WriteLine(MethodTestKit.Describe(r));
        output.WriteLine($"→ {verdict.Label}: {verdict.Reason}");
        return (results, verdict);
    }

    [Fact]
    public void A_channel_selection_is_recovered_from_the_embeddings_whichever_model_is_narrower()
    {
        var parent = SyntheticModels.Generate(seed: 41, hidden: 64, heads: 4, kvHeads: 2);
        var child = WidthPruning.PruneResidual(parent, keep: 48, sortByImportance: true);
        var (pv, cv) = (parent.ToView(name: "parent"), child.ToView(name: "child"));
        foreach (var (a, b) in new[] { (pv, cv), (cv, pv) })
        {
            var frame = CrossWidthFrame.For(a, b, seed: 7, threads: 1);
            Assert.NotNull(frame);
            Assert.True(frame!.Accepted, frame.Note);
            Assert.Equal(48, frame.Dimension);
            Assert.StartsWith("channel selection", frame.Transform, StringComparison.Ordinal);
            // Each child channel found its parent channel: the child's embedding column j is the parent's column Sources[j].
            var e = parent.Embedding;
            for (int j = 0; j < 48; j++) Assert.Equal(e[frame.Selection!.Sources[j]], child.Embedding[j] * frame.Selection.Signs[j]);
        }

        Assert.Null(CrossWidthFrame.For(pv, parent.ToView(name: "same width"), seed: 7, threads: 1)); // equal widths: no cross-width work
    }

    [SkippableTheory]
    [InlineData("llama-wide-s4", 96, true, 0.2, false, false, 1)]
    [InlineData("llama-wide-s4", 80, false, 0.3, true, false, 2)]
    [InlineData("llama-base-s1", 72, true, 0.1, false, true, 3)]
    [InlineData("llama-base-s2", 64, true, 0.3, true, true, 4)]
    public void A_width_pruned_child_is_derived_from_its_parent_with_evidence_per_part(string parentName, int keep, bool sortByImportance, double noise, bool dropHeads, bool permuteNeurons, int seed)
    {
        var parentView = Zoo(parentName);
        var child = WidthPruning.PruneResidual(WidthPruning.FromView(parentView), keep, sortByImportance);
        if (dropHeads) child = WidthPruning.DropLastKvGroup(child);
        if (permuteNeurons) child = SyntheticModels.PermuteNeurons(child, seed);
        child = SyntheticModels.AddNoise(child, noise, seed);
        var childView = child.ToView(name: "pruned");
        foreach (var (a, b) in new[] { (parentView, childView), (childView, parentView) })
        {
            var (results, verdict) = Judge(a, b);
            Assert.Equal(WeightPrint.Verdict.Verdict.Derived, verdict.Label);
            Assert.Contains("channel selection", verdict.Reason, StringComparison.Ordinal);
            Assert.Contains("By part:", verdict.Reason, StringComparison.Ordinal);
            Assert.Contains("have no partner and are not tested", verdict.Reason, StringComparison.Ordinal);
            var parts = results.SelectMany(r => r.Parts).ToList();
            Assert.Contains(parts, p => p.Part == "mlp" && p.PValue < 1e-3);
            if (!dropHeads) Assert.Contains(parts, p => p.Part == "attention" && p.PValue < 1e-3);
        }
    }

    [SkippableTheory]
    [InlineData(80, 5)]
    public void A_width_pruned_child_with_a_smaller_vocabulary_is_derived_through_shared_token_strings(int keep, int seed)
    {
        var parentView = Zoo("llama-vocab320-s5");
        var child = WidthPruning.TruncateVocabulary(WidthPruning.PruneResidual(WidthPruning.FromView(parentView), keep, sortByImportance: true), 256);
        var (_, verdict) = Judge(parentView, SyntheticModels.AddNoise(child, 0.2, seed).ToView(name: "pruned, 256 tokens"));
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, verdict.Label);
        Assert.Contains("channel selection", verdict.Reason, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("llama-base-s1", 72, "llama-wide-s4")]
    [InlineData("llama-base-s1", 72, "llama-base-s2")]
    [InlineData("llama-wide-s4", 96, "llama-base-s3")]
    [InlineData("llama-wide-s4", 96, "llama-vocab320-s5")]
    [InlineData("llama-base-s2", 64, "gpt2-base-s1")]
    public void A_width_pruned_child_is_not_derived_from_an_unrelated_model(string parentName, int keep, string unrelatedName)
    {
        var child = SyntheticModels.AddNoise(WidthPruning.PruneResidual(WidthPruning.FromView(Zoo(parentName)), keep, sortByImportance: true), 0.2, seed: 9);
        var (results, verdict) = Judge(child.ToView(name: "pruned"), Zoo(unrelatedName));
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, verdict.Label);
        foreach (var r in results.Where(r => r.Status == MethodStatus.Ok && r.PValue is double)) Assert.True(r.PValue >= 1e-3, MethodTestKit.Describe(r));
    }

    [SkippableFact]
    public void Unrelated_zoo_pairs_of_different_widths_are_never_derived_and_their_p_values_stay_valid()
    {
        // Every third of the 27 pairs with the wide model (scripts/zoo-eval runs all of them).
        string[] others = ["llama-base-s1", "s1-sft", "s1-width-pruned", "s1-moe-upcycled", "llama-vocab320-s5", "gpt2-base-s1", "s1-sft-rotated", "distilled-from-s1", "s1-sft-gguf-q8_0"];
        var wide = Zoo("llama-wide-s4");
        string root = ZooCalibrationTests.ZooRoot()!;
        foreach (var name in others)
        {
            string dir = Path.Combine(root, name);
            var view = ModelViewBuilder.Build(CheckpointLoader.Open(Directory.GetFiles(dir, "*.gguf").FirstOrDefault() ?? dir));
            var (results, verdict) = Judge(wide, view);
            Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, verdict.Label);
            Assert.Contains(results, r => r.Status == MethodStatus.Ok && r.NullKind == NullKind.ExactPermutation);
            foreach (var r in results.Where(r => r.Status == MethodStatus.Ok && r.PValue is double)) Assert.True(r.PValue >= 1e-3, $"{name}: {MethodTestKit.Describe(r)}");
        }
    }

    [SkippableTheory]
    [InlineData(0.6)]
    [InlineData(0.8)]
    [InlineData(1.0)]
    public void A_child_whose_channel_selection_is_too_weak_to_trust_is_never_called_independent(double noise)
    {
        var parent = Zoo("llama-base-s1");
        var child = SyntheticModels.AddNoise(WidthPruning.PruneResidual(WidthPruning.FromView(parent), 72, sortByImportance: true), noise, seed: 11).ToView(name: "pruned, heavy noise");
        var frame = CrossWidthFrame.For(parent, child, Context.Seed, threads: 2)!;
        output.WriteLine($"noise {noise}: accepted {frame.Accepted}, fit {frame.Fit:F3}, column match {frame.Selection?.ColumnMatch:F3}, problem {frame.Problem}");
        var (results, verdict) = Judge(parent, child);
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Independent, verdict.Label);
        if (frame.Problem != null) Assert.All(results.Where(r => r.Id != "spectral"), r => Assert.Equal(MethodStatus.NotApplicable, r.Status));
    }
}
