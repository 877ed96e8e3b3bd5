using WeightPrint.Comparison;
using System.Text.Json.Nodes;
using WeightPrint.Signals;
using WeightPrint.Signals.Cka;
using WeightPrint.Signals.Layers;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Tests.Support;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Tests.Signals;

public class MethodUnitTests
{
    private static readonly SyntheticModel Base = SyntheticModels.Generate(31, layers: 4);

    [Fact]
    public void Registry_lists_every_method_once_with_its_descriptions()
    {
        var ids = MethodRegistry.All.Select(m => m.Id).ToList();
        Assert.Equal(["pdf", "pdf-mlp", "pcs", "neuron-match", "cka", "spectral", "layers"], ids);
        foreach (var m in MethodRegistry.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(m.Description));
            Assert.False(string.IsNullOrWhiteSpace(m.NullDescription));
            Assert.Same(m.GetType(), MethodRegistry.Find(m.Id)!.GetType());
        }
    }

    [Fact]
    public void Identical_models_score_one()
    {
        var a = Base.ToView();
        var b = Base.ToView();
        Assert.Equal(1, MethodTestKit.Compare(new PcsMethod(), a, b).Score, 6);
        Assert.Equal(1, MethodTestKit.Compare(new NeuronMatchMethod(), a, b).Score, 6);
        Assert.Equal(1, MethodTestKit.Compare(new CkaMethod(), a, b).Score, 6);
        Assert.Equal(1, MethodTestKit.Compare(new SpectralMethod(), a, b).Score, 6);
    }

    [Fact]
    public void Results_are_deterministic_for_a_seed()
    {
        var a = Base.ToView();
        var b = SyntheticModels.AddNoise(Base, 1.0, 2).ToView();
        foreach (var m in MethodRegistry.All)
        {
            var r1 = MethodTestKit.Compare(m, a, b);
            var r2 = MethodTestKit.Compare(m, a, b);
            Assert.Equal(JsonText.Serialize(MethodDetailsJson.ToJson(r1.Details)), JsonText.Serialize(MethodDetailsJson.ToJson(r2.Details)));
            Assert.Equal(r1.PValue, r2.PValue);
            Assert.Equal(r1.Score, r2.Score);
        }
    }

    [Fact]
    public void Neuron_match_works_without_gates()
    {
        var plain = Base.Clone();
        plain.GatedMlp = false;
        var derived = SyntheticModels.PermuteNeurons(plain, 3);
        var r = MethodTestKit.Compare(new NeuronMatchMethod(), plain, derived);
        Assert.True(r.PValue < 1e-10, MethodTestKit.Describe(r));
        var other = SyntheticModels.Generate(32, layers: 4);
        other.GatedMlp = false;
        Assert.True(MethodTestKit.Compare(new NeuronMatchMethod(), plain, other).PValue > 1e-3);
    }

    [Fact]
    public void Neuron_match_draws_no_agreement_null_where_the_position_test_is_at_the_floor()
    {
        // A copy: every MLP's up matching is the identity, its position test at the floor, so the forty re-matchings of the
        // agreement null are skipped and the method's p-value is the floor. An unrelated model draws them in every MLP.
        var copy = MethodTestKit.Compare(new NeuronMatchMethod(), Base, Base.Clone());
        var d = (NeuronMatchDetails)copy.Details!;
        Assert.All(d.PerMlp, m => Assert.True(m.PositionPValue <= 1e-300 && double.IsNaN(m.NullRhoMean), $"layer {m.LayerA}: position p {m.PositionPValue:G3}, null mean {m.NullRhoMean}"));
        Assert.True(double.IsNaN(d.AgreementPValue));
        Assert.Equal(2e-300, copy.PValue!.Value, 1e-310);
        Assert.Contains("null was not drawn", copy.Summary, StringComparison.Ordinal);

        var other = MethodTestKit.Compare(new NeuronMatchMethod(), Base, SyntheticModels.Generate(32, layers: 4));
        var o = (NeuronMatchDetails)other.Details!;
        Assert.All(o.PerMlp, m => Assert.False(double.IsNaN(m.NullRhoMean)));
        Assert.InRange(o.AgreementPValue, 1e-3, 1);
    }

    [Fact]
    public void Neuron_match_matches_pruned_mlps_rectangularly()
    {
        var r = MethodTestKit.Compare(new NeuronMatchMethod(), Base, SyntheticModels.PruneNeurons(Base, 0.25, 4));
        Assert.All(((NeuronMatchDetails)r.Details!).PerMlp, m => Assert.Equal(129, m.Matched)); // 172 − 43
        Assert.True(r.Score > 0.99);
    }

    [Fact]
    public void Cka_needs_vocabularies()
    {
        var noVocab = Base.Clone();
        noVocab.Vocabulary = null;
        var r = MethodTestKit.Compare(new CkaMethod(), Base, noVocab);
        Assert.Equal(MethodStatus.NotApplicable, r.Status);
        Assert.Contains("vocabular", r.Reason);
        Assert.Null(r.PValue);
    }

    [Fact]
    public void Cka_sees_through_rotation_and_sits_in_background_for_unrelated_models()
    {
        var rotated = MethodTestKit.Compare(new CkaMethod(), Base, SyntheticModels.RotateResidual(Base, 5));
        Assert.True(rotated.Score > 0.8, MethodTestKit.Describe(rotated));
        Assert.True(rotated.BackgroundPercentile > 99.9);
        var unrelated = MethodTestKit.Compare(new CkaMethod(), Base, SyntheticModels.Generate(33, layers: 4));
        Assert.InRange(unrelated.Score, -0.1, 0.1);
        Assert.True(unrelated.BackgroundPercentile < 99.9);
    }

    [Fact]
    public void Spectral_signature_is_invariant_and_round_trips()
    {
        var method = new SpectralMethod();
        var context = MethodTestKit.Context;
        var plain = method.ExtractSignature(Base.ToView(), context);
        var transformed = method.ExtractSignature(SyntheticModels.PermuteResidual(SyntheticModels.RescaleAttention(Base, 6), 7).ToView(), context);
        var sa = SpectralSignature.FromJson(plain);
        var sb = SpectralSignature.FromJson(transformed);
        for (int l = 0; l < sa.LayerCount; l++)
        {
            for (int h = 0; h < sa.Qk[l].Length; h++)
            {
                for (int i = 0; i < sa.HeadDim; i++)
                {
                    Assert.Equal(sa.Qk[l][h][i], sb.Qk[l][h][i], 3);
                    Assert.Equal(sa.Ov[l][h][i], sb.Ov[l][h][i], 3);
                }
            }
        }

        // A comparison from saved signatures alone (fingerprint files) equals one from weights.
        var fromWeights = method.Compare(new ComparisonInput("A", Base.ToView()), new ComparisonInput("B", SyntheticModels.AddNoise(Base, 0.3, 8).ToView()), context);
        var noisy = method.ExtractSignature(SyntheticModels.AddNoise(Base, 0.3, 8).ToView(), context);
        var fromFiles = method.Compare(new ComparisonInput("A", null, new Dictionary<string, JsonObject> { ["spectral"] = JsonNode.Parse(plain.ToJsonString())!.AsObject() }),
            new ComparisonInput("B", null, new Dictionary<string, JsonObject> { ["spectral"] = JsonNode.Parse(noisy.ToJsonString())!.AsObject() }), context);
        Assert.Equal(fromWeights.Score, fromFiles.Score, 4);
        Assert.Equal(MethodStatus.NotApplicable, new PcsMethod().Compare(new ComparisonInput("A", null), new ComparisonInput("B", null), context).Status);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"hidden\": 64, \"head_dim\": \"eight\", \"kv_heads\": 4, \"layers\": []}")]
    [InlineData("{\"hidden\": 64, \"head_dim\": 8, \"kv_heads\": 4, \"layers\": [{\"qk\": [[1, 2]], \"ov\": [[1, 2]]}]}")]
    [InlineData("{\"hidden\": 64, \"head_dim\": 8, \"kv_heads\": 4, \"layers\": []}")]
    [InlineData("{\"error\": \"no transformer layers were recognised\"}")]
    public void Malformed_saved_signatures_are_not_applicable(string json)
    {
        var saved = new ComparisonInput("saved", null, new Dictionary<string, JsonObject> { ["spectral"] = JsonNode.Parse(json)!.AsObject() });
        var r = new SpectralMethod().Compare(saved, new ComparisonInput("B", Base.ToView()), MethodTestKit.Context);
        Assert.Equal(MethodStatus.NotApplicable, r.Status);
        Assert.Contains("saved", r.Reason);
    }

    [Fact]
    public void Wishart_draws_have_the_right_mean()
    {
        // E[W Wᵀ] = d·I for a p × d standard normal W.
        var rnd = new Random(3);
        const int p = 4, d = 50, draws = 4000;
        var sum = new double[p * p];
        for (int k = 0; k < draws; k++)
        {
            var g = SpectralComparison.Wishart(p, d, rnd);
            for (int i = 0; i < p * p; i++) sum[i] += g[i] / draws;
        }

        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++) Assert.Equal(i == j ? d : 0, sum[i * p + j], 0);
        }
    }

    [Fact]
    public void Layers_localise_removed_layers()
    {
        var a = SyntheticModels.Generate(34, layers: 6);
        var r = MethodTestKit.Compare(new LayerLocalisationMethod(), a, SyntheticModels.RemoveLayers(a, 1, 4));
        var shared = ((LayersDetails)r.Details!).SharedLayers.Select(s => (s.LayerA, s.LayerB)).ToList();
        Assert.Equal([(0, 0), (2, 1), (3, 2), (5, 3)], shared);
        Assert.StartsWith("4 of 6 layers of A have a distinct partner in B", r.Summary);
        Assert.Equal(6, r.LayerMatrix!.Length);
        Assert.Equal(4, r.LayerMatrix[0].Length);
        var unrelated = MethodTestKit.Compare(new LayerLocalisationMethod(), a, SyntheticModels.Generate(35, layers: 6));
        Assert.Empty(((LayersDetails)unrelated.Details!).SharedLayers);
        Assert.StartsWith("0 of 6 layers of A have", unrelated.Summary);
    }

    [Fact]
    public void Residual_alignment_finds_the_transform()
    {
        var a = Base.ToView();
        var identity = ResidualAlignment.Estimate(a, SyntheticModels.AddNoise(Base, 0.3, 9).ToView(), 1);
        Assert.True(identity.Accepted && identity.IsIdentity);
        var rotated = ResidualAlignment.Estimate(a, SyntheticModels.RotateResidual(Base, 10).ToView(), 1);
        Assert.Equal("procrustes", rotated.Kind);
        Assert.True(rotated.TransformFit > 0.99);
        // A signed permutation is tried before a rotation: it recovers permutations exactly.
        var small = SyntheticModels.Generate(36, layers: 2, vocab: 128);
        var permuted = ResidualAlignment.Estimate(small.ToView(), SyntheticModels.PermuteResidual(small, 11).ToView(), 1);
        Assert.Equal("signed-permutation", permuted.Kind);
        Assert.True(permuted.Accepted);
        var unrelated = ResidualAlignment.Estimate(a, SyntheticModels.Generate(37, layers: 4).ToView(), 1);
        Assert.False(unrelated.Accepted);
        Assert.True(unrelated.IsIdentity);
    }

    [Fact]
    public void A_signature_is_extracted_once_when_comparisons_ask_for_it_at_once_and_again_after_a_failure()
    {
        var input = new ComparisonInput("m", null);
        int calls = 0;
        using var started = new ManualResetEventSlim();
        JsonObject Slow()
        {
            Interlocked.Increment(ref calls);
            started.Set();
            Thread.Sleep(200); // the other callers arrive meanwhile
            return new JsonObject { ["v"] = 1 };
        }

        var results = new JsonObject[4];
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() => results[i] = input.CachedSignature("s", Slow))).ToList();
        threads[0].Start();
        started.Wait();
        foreach (var t in threads.Skip(1)) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Same(results[0], r));

        Assert.Throws<InvalidOperationException>(() => input.CachedSignature("f", () => throw new InvalidOperationException("boom")));
        Assert.Equal(2, input.CachedSignature("f", () => new JsonObject { ["v"] = 2 })["v"]!.GetValue<int>());
    }
}
