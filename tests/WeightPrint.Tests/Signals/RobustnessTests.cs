using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.Cka;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Tests.Support;
using WeightPrint.Verdict;
using Xunit.Abstractions;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Signals;

/// <summary>Derived variants of one generated Llama-shaped model (5 layers, d 64, 8 heads / 4 KV heads, d_ff 172,
/// vocabulary 256 — stories260K's shape): the verdict over pcs, neuron-match, cka and spectral must be "derived".</summary>
public class RobustnessTests(ITestOutputHelper output)
{
    private static readonly SyntheticModel Base = SyntheticModels.Generate(11, layers: 5);

    public static TheoryData<string> Variants => new()
    {
        "permute-neurons", "permute-heads", "permute-residual", "permute-all", "rescale-attention", "rotate-residual",
        "noise-0.3", "lora", "bf16", "q8_0-gguf", "q8_0-simulated", "remove-2-layers", "prune-25%-neurons", "moe-upcycled", "everything",
    };

    internal static ModelView Variant(string name) => name switch
    {
        "permute-neurons" => SyntheticModels.PermuteNeurons(Base, 1).ToView(),
        "permute-heads" => SyntheticModels.PermuteHeads(Base, 2).ToView(),
        "permute-residual" => SyntheticModels.PermuteResidual(Base, 3).ToView(),
        "permute-all" => SyntheticModels.PermuteResidual(SyntheticModels.PermuteHeads(SyntheticModels.PermuteNeurons(Base, 4), 5), 6).ToView(),
        "rescale-attention" => SyntheticModels.RescaleAttention(Base, 7).ToView(),
        "rotate-residual" => SyntheticModels.RotateResidual(Base, 8).ToView(),
        "noise-0.3" => SyntheticModels.AddNoise(Base, 0.3, 9).ToView(),
        "lora" => SyntheticModels.LoraUpdate(Base, rank: 8, relative: 0.5, seed: 10).ToView(),
        "bf16" => Base.ToView("BF16"),
        "q8_0-gguf" => Base.ToGgufView(TensorDType.Q8_0),
        "q8_0-simulated" => SyntheticModels.Q8RoundTrip(Base).ToView(),
        "remove-2-layers" => SyntheticModels.RemoveLayers(Base, 1, 3).ToView(),
        "prune-25%-neurons" => SyntheticModels.PruneNeurons(Base, 0.25, 11).ToView(),
        "moe-upcycled" => SyntheticModels.UpcycleMoE(Base, experts: 4, relative: 0.3, seed: 12).ToView(),
        "everything" => SyntheticModels.AddNoise(SyntheticModels.RotateResidual(SyntheticModels.RescaleAttention(
            SyntheticModels.PermuteHeads(SyntheticModels.PermuteNeurons(Base, 13), 14), 15), 16), 0.1, 17).ToView("BF16"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal static IReadOnlyList<MethodResult> RunAll(ModelView a, ModelView b, ITestOutputHelper? output = null)
    {
        SignalMethod[] methods = [new PcsMethod(), new NeuronMatchMethod(), new CkaMethod(), new SpectralMethod()];
        var ia = new ComparisonInput("A", a);
        var ib = new ComparisonInput("B", b);
        var results = methods.Select(m => m.Compare(ia, ib, MethodTestKit.Context)).ToList();
        foreach (var r in results) output?.WriteLine(MethodTestKit.Describe(r));
        return results;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Derived_variant_is_derived(string variant)
    {
        var results = RunAll(Base.ToView(), Variant(variant), output);
        var verdict = VerdictRules.Decide(results, identicalWeights: false);
        output.WriteLine($"{variant}: {verdict}");
        Assert.Equal(Verdict.Verdict.Derived, verdict.Label);
    }

    [Theory]
    [InlineData("permute-residual", "permutation")]
    [InlineData("rotate-residual", "orthogonal")]
    public void Parameter_cosine_sees_through_residual_transforms_and_names_them(string variant, string transform)
    {
        // The residual map is recovered from the shared-token embeddings and applied to B before the cosines.
        var r = MethodTestKit.Compare(new PcsMethod(), Base.ToView(), Variant(variant));
        Assert.Equal(transform, r.Transform);
        Assert.True(r.Score > 0.9, MethodTestKit.Describe(r));
        Assert.True(r.PValue < 1e-10);
    }

    [Fact]
    public void Neuron_match_sees_through_rotation_by_aligning_embeddings()
    {
        var r = MethodTestKit.Compare(new NeuronMatchMethod(), Base.ToView(), Variant("rotate-residual"));
        Assert.Equal("procrustes", ((NeuronMatchDetails)r.Details!).Alignment.Kind);
        Assert.True(r.PValue < 1e-10);
        Assert.True(r.Score > 0.9);
    }

    [Fact]
    public void Gguf_round_trip_really_quantises()
    {
        var view = Base.ToGgufView(TensorDType.Q8_0);
        Assert.Equal(TensorDType.Q8_0, view.Layers[0].Get(TensorRole.AttnQ)!.DType);
        Assert.Equal(TensorDType.F32, view.Layers[0].Get(TensorRole.MlpDown)!.DType); // rows of 172 are not whole Q8_0 blocks
        var cka = MethodTestKit.Compare(new CkaMethod(), Base.ToView(), view); // vocabulary from tokenizer.ggml.tokens
        Assert.Equal(MethodStatus.Ok, cka.Status);
        Assert.True(cka.Score > 0.95, MethodTestKit.Describe(cka));
        var pcs = MethodTestKit.Compare(new PcsMethod(), Base.ToView(), view);
        Assert.InRange(pcs.Score, 0.99, 0.99999); // quantisation error is visible but tiny
    }

    [Fact]
    public void Upcycled_experts_each_match_the_dense_mlp()
    {
        var r = MethodTestKit.Compare(new NeuronMatchMethod(), Base.ToView(), Variant("moe-upcycled"));
        var perMlp = ((NeuronMatchDetails)r.Details!).PerMlp;
        Assert.Equal(5 * 4, perMlp.Count);
        Assert.All(perMlp, m =>
        {
            Assert.StartsWith("mlp~expert", m.Part);
            Assert.True(m.Rho > 0.9);
        });
    }
}
