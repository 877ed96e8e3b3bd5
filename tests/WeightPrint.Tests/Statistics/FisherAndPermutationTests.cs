using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class FisherAndPermutationTests
{
    [Fact]
    public void Fisher_matches_hand_computed_values()
    {
        // X = −4 ln 0.05 = 11.983, 4 dof: Q(2, X/2) = e^(−X/2)(1 + X/2) = 0.0174787.
        Assert.Equal(0.017478661367769956, FisherMethod.Combine([0.05, 0.05]), 14);
        // X = −2 ln(0.006), 6 dof: e^(−h)(1 + h + h²/2), h = X/2.
        Assert.Equal(0.11521621423478852, FisherMethod.Combine([0.1, 0.2, 0.3]), 13);
        Assert.Equal(1, FisherMethod.Combine([1.0, 1.0]), 14);
        Assert.Equal(0.3, FisherMethod.Combine([0.3]), 13); // one p-value combines to itself
        Assert.True(double.IsNaN(FisherMethod.Combine([])));
        Assert.InRange(FisherMethod.Combine([0.0, 0.5]), 0, 1e-290);
    }

    [Fact]
    public void Permutation_p_value_is_b_plus_one_over_m_plus_one()
    {
        // A deterministic "null" 0, 1, …, 9: with observed 7.5, b = 2 of m = 10 reach it.
        int k = 0;
        var r = PermutationTest.Run(7.5, _ => k++, 10, seed: 1);
        Assert.Equal(2, r.Exceeding);
        Assert.Equal(3.0 / 11, r.PValue, 14);
        Assert.Equal(4.5, r.NullMean, 12);
        // Ties count as reaching the observed value.
        var tie = PermutationTest.Run(1.0, _ => 1.0, 9, seed: 1);
        Assert.Equal(1.0, tie.PValue, 14);
    }

    [Fact]
    public void Permutation_test_is_seeded()
    {
        var data = Enumerable.Range(0, 30).Select(i => Math.Sin(i)).ToArray();
        double Stat(Random rnd)
        {
            var p = PermutationTest.RandomPermutation(data.Length, rnd);
            double s = 0;
            for (int i = 0; i < p.Length; i++) s += i * data[p[i]];
            return s;
        }

        var a = PermutationTest.Run(10, Stat, 200, seed: 42);
        var b = PermutationTest.Run(10, Stat, 200, seed: 42);
        var c = PermutationTest.Run(10, Stat, 200, seed: 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a.NullMean, c.NullMean);
    }

    [Fact]
    public void Linear_statistic_moments_match_enumeration()
    {
        const int n = 5;
        var rnd = new Random(3);
        var g = Enumerable.Range(0, n * n).Select(_ => rnd.NextDouble() * 4 - 1).ToArray();
        var perm = Enumerable.Range(0, n).ToArray();
        var values = new List<double>();
        Permute(0);
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        var (m, v) = PermutationTest.LinearStatisticMoments(g, n);
        Assert.Equal(mean, m, 12);
        Assert.Equal(variance, v, 12);

        void Permute(int k)
        {
            if (k == n)
            {
                values.Add(Enumerable.Range(0, n).Sum(i => g[i * n + perm[i]]));
                return;
            }

            for (int i = k; i < n; i++)
            {
                (perm[k], perm[i]) = (perm[i], perm[k]);
                Permute(k + 1);
                (perm[k], perm[i]) = (perm[i], perm[k]);
            }
        }
    }
}
