using System.Diagnostics;
using WeightPrint.Signals;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Statistics;
using WeightPrint.Tests.Support;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Signals;

/// <summary>Under the null (independently initialised models) every continuous exact p-value must be uniform: 200 random
/// pairs of a small shape, one-sample KS test against U(0, 1) (pcs, and neuron-match's two statistics). neuron-match's
/// own p is their Bonferroni minimum (valid, conservative, not uniform) and spectral's is discrete (multiples of 1/L!,
/// here 1/2): both are checked for validity, P(p ≤ α) ≤ α within binomial slack.</summary>
public class CalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void P_values_are_uniform_for_independent_pairs()
    {
        const int pairs = 200;
        SignalMethod[] methods = [new PcsMethod(), new NeuronMatchMethod(), new SpectralMethod()];
        var context = new MethodContext { Seed = 99, Permutations = 199, Threads = 1 };
        var pValues = methods.ToDictionary(m => m.Id, _ => new double[pairs]);
        var components = new[] { "position_p_value", "agreement_p_value" }.ToDictionary(k => k, _ => new double[pairs]);
        var sw = Stopwatch.StartNew();
        Parallel.For(0, pairs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var a = new ComparisonInput("A", SyntheticModels.Generate(5000 + 2 * i, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, vocab: 64).ToView());
            var b = new ComparisonInput("B", SyntheticModels.Generate(5001 + 2 * i, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, vocab: 64).ToView());
            foreach (var m in methods)
            {
                var r = m.Compare(a, b, context);
                pValues[m.Id][i] = r.PValue ?? double.NaN;
                foreach (var (k, v) in components.Where(_ => m is NeuronMatchMethod)) v[i] = k == "position_p_value" ? ((NeuronMatchDetails)r.Details!).PositionPValue : ((NeuronMatchDetails)r.Details!).AgreementPValue;
            }
        });
        output.WriteLine($"{pairs} pairs in {sw.Elapsed.TotalSeconds:F1} s");
        foreach (var (id, p) in pValues.Where(kv => kv.Key == "pcs").Select(kv => (kv.Key, kv.Value)).Concat(components.Select(kv => ("neuron-match " + kv.Key, kv.Value))))
        {
            var ks = KolmogorovSmirnov.TestUniform(p);
            output.WriteLine($"{id}: D = {ks.D:F3}, KS p = {ks.PValue:G3}, {p.Count(x => x < 0.05)} of {pairs} below 0.05");
            Assert.True(ks.PValue > 0.001, $"{id} p-values are not uniform (KS p = {ks.PValue:G3})");
        }

        foreach (var (id, p) in pValues)
        {
            output.WriteLine($"{id}: {p.Count(x => x < 0.01)} below 0.01, {p.Count(x => x < 0.05)} below 0.05, {p.Count(x => x <= 0.5)} at most 0.5");
            Assert.InRange(p.Count(x => x < 0.01), 0, 10); // expected ≤ 2; a valid test rarely exceeds 10
            Assert.InRange(p.Count(x => x < 0.05), 0, 20); // expected ≤ 10
            Assert.InRange(p.Count(x => x <= 0.5), 0, 120); // expected ≤ 100
        }
    }
}
