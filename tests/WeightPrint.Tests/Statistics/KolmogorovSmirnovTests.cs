using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class KolmogorovSmirnovTests
{
    [Fact]
    public void Exact_distribution_for_one_observation()
    {
        // n = 1: D = max(u, 1 − u) so P(D ≥ d) = 2(1 − d) for d ≥ 1/2.
        var r = KolmogorovSmirnov.TestUniform([0.3]);
        Assert.Equal(0.7, r.D, 14);
        Assert.True(r.Exact);
        Assert.Equal(0.6, r.PValue, 10);
    }

    [Fact]
    public void Exact_distribution_for_two_observations()
    {
        // n = 2: D = max(1/2 − u₁, u₁, 1 − u₂, u₂ − 1/2) for sorted u₁ ≤ u₂; integrate P(D < d) on a fine grid.
        const int grid = 2000;
        foreach (double d in new[] { 0.3, 0.55, 0.8 })
        {
            long inside = 0;
            for (int i = 0; i < grid; i++)
            {
                for (int j = 0; j < grid; j++)
                {
                    double a = (i + 0.5) / grid, b = (j + 0.5) / grid;
                    double lo = Math.Min(a, b), hi = Math.Max(a, b);
                    double dn = Math.Max(Math.Max(0.5 - lo, lo), Math.Max(1 - hi, hi - 0.5));
                    if (dn < d) inside++;
                }
            }

            Assert.Equal((double)inside / grid / grid, KolmogorovSmirnov.ExactCdf(2, d), 3);
        }
    }

    [Fact]
    public void Asymptotic_matches_published_critical_values()
    {
        Assert.Equal(0.05, KolmogorovSmirnov.KolmogorovSurvival(1.3580986393225505), 6);
        Assert.Equal(0.01, KolmogorovSmirnov.KolmogorovSurvival(1.6276236115189504), 6);
    }

    [Fact]
    public void Exact_and_asymptotic_agree_for_large_n()
    {
        foreach (double lambda in new[] { 0.8, 1.0, 1.36, 1.8 })
        {
            const int n = 1000;
            double d = lambda / Math.Sqrt(n);
            Assert.InRange(KolmogorovSmirnov.AsymptoticSurvival(n, d) - (1 - KolmogorovSmirnov.ExactCdf(n, d)), -0.005, 0.005); // Stephens: ~3e-3
        }
    }

    [Fact]
    public void Uniform_sample_is_not_rejected_and_skewed_sample_is()
    {
        var rnd = new Random(11);
        var uniform = Enumerable.Range(0, 500).Select(_ => rnd.NextDouble()).ToArray();
        Assert.True(KolmogorovSmirnov.TestUniform(uniform).PValue > 0.001);
        var skewed = uniform.Select(u => u * u).ToArray();
        Assert.True(KolmogorovSmirnov.TestUniform(skewed).PValue < 1e-6);
    }
}
