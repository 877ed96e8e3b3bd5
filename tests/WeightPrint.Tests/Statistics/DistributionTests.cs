using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class DistributionTests
{
    [Theory]
    [InlineData(0.5, 0.5723649429247004)]   // ln √π
    [InlineData(10, 12.801827480081467)]     // ln 9!
    [InlineData(100.5, 361.4355404677776)]
    [InlineData(1, 0)]
    public void Log_gamma_matches_known_values(double x, double expected)
        => Assert.Equal(expected, SpecialFunctions.LogGamma(x), 11);

    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]   // published χ² critical values
    [InlineData(6.634896601021214, 1, 0.01)]
    [InlineData(18.307038053275146, 10, 0.05)]
    [InlineData(124.34211340400407, 100, 0.05)]
    public void Chi_square_survival_matches_tables(double x, double dof, double expected)
        => Assert.Equal(expected, Distributions.ChiSquareSurvival(x, dof), 9);

    [Theory]
    [InlineData(0.3)]
    [InlineData(4)]
    [InlineData(60)]
    [InlineData(900)]
    public void Chi_square_with_even_dof_matches_closed_form(double x)
    {
        // For 2k degrees of freedom Q(k, x/2) = e^(−x/2) Σ_{j<k} (x/2)^j / j!.
        for (int k = 1; k <= 6; k++)
        {
            double h = x / 2, term = 1, sum = 0;
            for (int j = 0; j < k; j++)
            {
                sum += term;
                term *= h / (j + 1);
            }

            double expected = Math.Exp(-h) * sum;
            double actual = Distributions.ChiSquareSurvival(x, 2 * k);
            Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Max(expected, 1e-300) + 1e-300, $"k={k} x={x}: {actual} vs {expected}");
        }
    }

    [Fact]
    public void Gamma_p_and_q_are_complementary()
    {
        foreach (double a in new[] { 0.5, 1, 3.3, 20 })
        {
            foreach (double x in new[] { 0.01, 0.7, 3, 25 })
                Assert.Equal(1, SpecialFunctions.GammaP(a, x) + SpecialFunctions.GammaQ(a, x), 12);
        }
    }

    [Theory]
    [InlineData(2.2281388519649385, 10, 0.025)] // published t critical values (two-sided 5%)
    [InlineData(12.706204736174707, 1, 0.025)]
    [InlineData(2.8453397097861091, 20, 0.005)]
    public void Student_t_survival_matches_tables(double t, double dof, double expected)
    {
        Assert.Equal(expected, Distributions.StudentTSurvival(t, dof), 9);
        Assert.Equal(1 - expected, Distributions.StudentTSurvival(-t, dof), 9);
    }

    [Fact]
    public void Normal_tails_match_known_quantiles()
    {
        Assert.Equal(0.025, Distributions.NormalSurvival(1.959963984540054), 12);
        Assert.Equal(0.5, Distributions.NormalSurvival(0), 14);
        Assert.Equal(0.975, Distributions.NormalCdf(1.959963984540054), 12);
        // Far tail stays relative-accurate: P(Z > 10) = 7.619853024160527e-24.
        Assert.InRange(Distributions.NormalSurvival(10) / 7.619853024160527e-24, 1 - 1e-9, 1 + 1e-9);
    }

    [Fact]
    public void Incomplete_beta_matches_closed_forms()
    {
        foreach (double x in new[] { 0.01, 0.3, 0.5, 0.77, 0.999 })
        {
            Assert.Equal(Math.Pow(x, 2.5), SpecialFunctions.BetaRegularized(2.5, 1, x), 12); // I_x(a, 1) = x^a
            Assert.Equal(1 - Math.Pow(1 - x, 3), SpecialFunctions.BetaRegularized(1, 3, x), 12);
        }

        Assert.Equal(0.5, SpecialFunctions.BetaRegularized(7, 7, 0.5), 12);
    }
}
