using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class CorrelationTests
{
    [Fact]
    public void Pearson_matches_hand_computed_value()
    {
        // x̄ = 3, ȳ = 4: Sxy = 6, Sxx = 10, Syy = 6 → r = 6/√60 = √0.6.
        Assert.Equal(Math.Sqrt(0.6), Correlation.Pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 14);
        Assert.Equal(-1, Correlation.Pearson([1, 2, 3], [3, 2, 1]), 14);
        Assert.True(double.IsNaN(Correlation.Pearson([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void Ranks_average_ties()
    {
        Assert.Equal([1, 2.5, 2.5, 4], Correlation.Ranks([10, 20, 20, 30]));
        Assert.Equal([3, 1, 3, 3, 5], Correlation.Ranks([7, 1, 7, 7, 9]));
    }

    [Fact]
    public void Spearman_with_ties_uses_average_ranks()
    {
        // Ranks x = (1, 2.5, 2.5, 4), y = (1, 3, 2, 4): Sxy = 4.5, Sxx = 4.5, Syy = 5 → ρ = 3/√10.
        Assert.Equal(3 / Math.Sqrt(10), Correlation.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 14);
        // Monotone but non-linear: ρ = 1 while r < 1.
        Assert.Equal(1, Correlation.Spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 125]), 14);
    }

    [Fact]
    public void Spearman_exact_p_values_count_permutations()
    {
        // n = 4: 24 permutations; ρ = 1 only for the identity, ρ ≥ 0.8 (Σd² ≤ 2) for the identity and 3 adjacent swaps.
        var r = SpearmanTest.Test([1, 2, 3, 4], [1, 2, 3, 4], Alternative.Greater);
        Assert.True(r.Exact);
        Assert.Equal(1.0 / 24, r.PValue, 14);
        r = SpearmanTest.Test([1, 2, 3, 4], [1, 2, 4, 3], Alternative.Greater);
        Assert.Equal(0.8, r.Rho, 14);
        Assert.Equal(4.0 / 24, r.PValue, 14);
        Assert.Equal(8.0 / 24, SpearmanTest.Test([1, 2, 3, 4], [1, 2, 4, 3]).PValue, 14);
        Assert.Equal(23.0 / 24, SpearmanTest.Test([1, 2, 3, 4], [1, 2, 4, 3], Alternative.Less).PValue, 14); // all but ρ = 1
    }

    [Fact]
    public void Spearman_asymptotic_p_value_uses_student_t()
    {
        // n = 12 (beyond the exact range): t = ρ √(10 / (1 − ρ²)) with 10 dof; pick ρ so that t is the 2.5% critical value.
        double t = 2.2281388519649385;
        double rho = t / Math.Sqrt(10 + t * t);
        Assert.Equal(0.05, SpearmanTest.AsymptoticPValue(rho, 12, Alternative.TwoSided), 9);
        Assert.Equal(0.025, SpearmanTest.AsymptoticPValue(rho, 12, Alternative.Greater), 9);
        Assert.Equal(0, SpearmanTest.AsymptoticPValue(1, 100, Alternative.Greater));
    }

    [Fact]
    public void Exact_and_asymptotic_agree_roughly_at_the_boundary()
    {
        var x = Enumerable.Range(0, 9).Select(i => (double)i).ToArray();
        double[] y = [1, 0, 3, 2, 5, 4, 8, 6, 7];
        var exact = SpearmanTest.Test(x, y, Alternative.Greater);
        Assert.True(exact.Exact);
        double approx = SpearmanTest.AsymptoticPValue(exact.Rho, 9, Alternative.Greater);
        Assert.InRange(exact.PValue / approx, 0.25, 4); // the t approximation is rough in the tail at n = 9
    }
}
