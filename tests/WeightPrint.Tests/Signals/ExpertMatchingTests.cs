using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Tests.Support;
using Xunit;
using WeightPrint.Comparison;

namespace WeightPrint.Tests.Signals;

/// <summary>MoE: experts matched to experts by assignment, a dense MLP to each expert (upcycling), with exact
/// residual-permutation p-values; independent models match nothing.</summary>
public class ExpertMatchingTests
{
    private static ExpertMatching.Outcome Run(ModelView a, ModelView b)
    {
        var ba = ModelParts.Blocks(a);
        var bb = ModelParts.Blocks(b);
        var pairs = Enumerable.Range(0, Math.Min(ba.Count, bb.Count)).Select(i => (i, i)).ToList();
        return Assert.IsType<ExpertMatching.Outcome>(ExpertMatching.Run(ba, bb, pairs, seed: 5, threads: 2));
    }

    private static double Floor(ExpertMatching.Outcome o) => 1.0 / (o.Permutations + 1);

    /// <summary>A model with <paramref name="experts"/> distinct experts per layer, each the dense MLP of an
    /// independently generated model.</summary>
    private static SyntheticModel DistinctExperts(int seed, int experts)
    {
        var m = SyntheticModels.Generate(seed, layers: 2);
        var donors = Enumerable.Range(0, experts).Select(e => SyntheticModels.Generate(seed * 100 + e, layers: 2)).ToList();
        var rnd = new Random(seed);
        for (int l = 0; l < m.Layers.Count; l++)
        {
            m.Layers[l].Experts = donors.Select(d => d.Layers[l].Mlp!.Clone()).ToList();
            m.Layers[l].Router = SyntheticModels.Gaussian(rnd, experts * m.Hidden, 0.02);
            m.Layers[l].Mlp = null;
        }

        return m;
    }

    [Fact]
    public void A_dense_mlp_matches_every_expert_it_was_upcycled_into()
    {
        var dense = SyntheticModels.Generate(31, layers: 3);
        var moe = SyntheticModels.UpcycleMoE(dense, experts: 4, relative: 0.3, seed: 9);
        var o = Run(dense.ToView(), moe.ToView());
        Assert.Equal(3, o.Layers.Count);
        foreach (var l in o.Layers)
        {
            Assert.Equal("dense-to-experts", l.Kind);
            Assert.Equal(4, l.Pairs.Count);
            Assert.All(l.Pairs, p => Assert.Equal(Floor(o), p.PValue, 12));
            Assert.All(l.Pairs, p => Assert.Equal("mlp", p.PartA));
        }

        Assert.Contains("layer 2: dense MLP of A ↔ experts 0,1,2,3 (each p ≤ 0.001, the permutation floor)", o.Summary());
    }

    [Fact]
    public void Experts_are_matched_to_their_copies_by_assignment_whatever_their_order()
    {
        var a = DistinctExperts(7, 4);
        var b = SyntheticModels.AddNoise(a, 0.2, 8);
        int[] order = [2, 0, 3, 1]; // expert e of B is expert order[e] of A
        foreach (var l in b.Layers) l.Experts = order.Select(e => l.Experts[e]).ToList();
        b = SyntheticModels.PermuteNeurons(b, 4);
        var o = Run(a.ToView(), b.ToView());
        foreach (var l in o.Layers)
        {
            Assert.Equal("experts", l.Kind);
            Assert.Equal(4, l.Pairs.Count);
            foreach (var p in l.Pairs)
            {
                int ea = int.Parse(p.PartA["expert".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal($"expert{Array.IndexOf(order, ea)}", p.PartB);
                Assert.Equal(Floor(o), p.PValue, 12);
            }

            Assert.Equal(Floor(o), l.PValue, 12);
        }
    }

    [Fact]
    public void Independent_moe_models_match_no_expert()
    {
        var o = Run(DistinctExperts(3, 4).ToView(), DistinctExperts(4, 4).ToView());
        Assert.All(o.Layers, l => Assert.True(l.PValue > 0.01, $"layer {l.LayerA}: p = {l.PValue}"));
        Assert.All(o.Layers.SelectMany(l => l.Pairs), p => Assert.True(p.PValue > Floor(o)));
        Assert.StartsWith("experts: no MLP of A matches an expert of B", o.Summary());
    }

    [Fact]
    public void The_same_inputs_and_seed_give_the_same_matches()
    {
        var dense = SyntheticModels.Generate(12, layers: 2);
        var moe = SyntheticModels.UpcycleMoE(dense, experts: 3, relative: 0.5, seed: 2);
        Assert.Equal(MethodDetailsJson.Experts(Run(dense.ToView(), moe.ToView()).ToDetails()).ToJsonString(), MethodDetailsJson.Experts(Run(dense.ToView(), moe.ToView()).ToDetails()).ToJsonString());
    }

    private static string Zoo(string name)
    {
        Skip.If(SharedModels.Root == null, "../shared is not present");
        string p = Path.GetFullPath(Path.Combine(SharedModels.Root!, "..", "zoo", name));
        Skip.If(!Directory.Exists(p), $"shared/zoo/{name} is not present");
        return p;
    }

    /// <summary>The zoo's upcycled Mixtral against its dense parent (every expert of every layer matches the dense MLP)
    /// and against an independently initialised twin (nothing matches).</summary>
    [SkippableFact]
    public void The_zoo_upcycled_moe_matches_its_dense_parent_expert_by_expert_and_not_an_independent_model()
    {
        string moe = Zoo("s1-moe-upcycled"), parent = Zoo("llama-base-s1"), other = Zoo("llama-base-s2");
        JsonNode Experts(string b)
        {
            var r = CliRunner.Run("compare", moe, b, "--methods", "neuron-match", "--json");
            Assert.Equal(0, r.ExitCode);
            return JsonNode.Parse(r.Stdout)!["methods"]![0]!["raw"]!["experts"]!;
        }

        var related = Experts(parent);
        double floor = 1.0 / ((int)related["permutations"]! + 1);
        var layers = related["layers"]!.AsArray();
        Assert.NotEmpty(layers);
        foreach (var l in layers)
        {
            Assert.Equal("dense-to-experts", (string)l!["kind"]!);
            Assert.Equal(4, l["pairs"]!.AsArray().Count);
            Assert.All(l["pairs"]!.AsArray(), p => Assert.Equal(floor, (double)p!["p_value"]!, 12));
        }

        var independent = Experts(other);
        Assert.All(independent["layers"]!.AsArray(), l => Assert.True((double)l!["p_value"]! > 0.01));
    }
}
