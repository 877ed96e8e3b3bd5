using WeightPrint.Comparison;
using WeightPrint.Signals;
using WeightPrint.Signals.Layers;
using WeightPrint.Tests.Support;
using WeightPrint.Verdict;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Signals;

/// <summary>Independently initialised pairs must never come out "derived"; real derived copies must.</summary>
public class IndependenceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(21, 22)]
    [InlineData(23, 24)]
    [InlineData(25, 26)]
    public void Independent_synthetic_models_are_never_derived(int seedA, int seedB)
    {
        var a = SyntheticModels.Generate(seedA, layers: 5).ToView();
        var b = SyntheticModels.Generate(seedB, layers: 5).ToView();
        var verdict = VerdictRules.Decide(RobustnessTests.RunAll(a, b, output), identicalWeights: false);
        output.WriteLine(verdict.ToString());
        Assert.NotEqual(Verdict.Verdict.Derived, verdict.Label);
    }

    [SkippableFact]
    public void Llama2xs_and_Stories260K_are_not_derived()
    {
        // Two llama.c models trained independently on TinyStories (models.json: "independent control").
        var a = MethodTestKit.OpenShared("derived-llama2xs-hf-f32");
        var b = MethodTestKit.OpenShared("derived-stories260K-hf-f32");
        var results = MethodRegistry.All.Select(m => MethodTestKit.Compare(m, a, b)).ToList();
        foreach (var r in results) output.WriteLine(MethodTestKit.Describe(r));
        var verdict = VerdictRules.Decide(results, identicalWeights: false);
        output.WriteLine(verdict.ToString());
        Assert.NotEqual(Verdict.Verdict.Derived, verdict.Label);
        Assert.Equal(MethodStatus.NotApplicable, results.Single(r => r.Id == "cka").Status); // no tokenizer.json in these folders
    }

    [SkippableTheory]
    [InlineData("tinygpt2-mlegkovskis-v1-random", "tinygpt2-mlegkovskis-v2-random")]
    [InlineData("tinygpt2-mlegkovskis-v1-random", "tinygpt2-mlegkovskis-v3-trained")]
    [InlineData("tinygpt2-mlegkovskis-v2-random", "tinygpt2-mlegkovskis-v3-trained")]
    public void Tiny_gpt2_models_are_not_derived(string first, string second)
    {
        var a = MethodTestKit.OpenShared(first);
        var b = MethodTestKit.OpenShared(second);
        Assert.NotEmpty(a.Layers); // the GPT-2 mapping must recognise every block (a regression here must fail, not skip)
        Assert.NotEmpty(b.Layers);
        var results = MethodRegistry.All.Select(m => MethodTestKit.Compare(m, a, b)).ToList();
        foreach (var r in results) output.WriteLine(MethodTestKit.Describe(r));
        Assert.NotEqual(Verdict.Verdict.Derived, VerdictRules.Decide(results, identicalWeights: false).Label);
    }

    [SkippableFact]
    public void Stories260K_copies_are_derived()
    {
        // The same weights re-exported: f32 safetensors vs bf16 safetensors, and llama2.c (RoPE-interleaved) vs HF.
        var hf = MethodTestKit.OpenShared("derived-stories260K-hf-f32");
        foreach (var other in new[] { "derived-stories260K-hf-bf16", "l2c-stories260K/stories260K.bin" })
        {
            var b = MethodTestKit.OpenShared(other);
            var results = RobustnessTests.RunAll(hf, b, output);
            var verdict = VerdictRules.Decide(results, identicalWeights: false);
            output.WriteLine($"{other}: {verdict}");
            Assert.Equal(Verdict.Verdict.Derived, verdict.Label);
        }
    }
}
