using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Spectral;
using WeightPrint.Statistics;

namespace WeightPrint.Tests.Signals;

/// <summary>The nulls that come from the pair itself, checked against values worked out from their definitions.</summary>
public class PairNullTests
{
    [Fact]
    public void Best_monotone_pairing_keeps_depth_order()
    {
        // A 2-layer stack inside a 3-layer one: (0,0) and (1,2) give (1 + 1)/2; (0,1),(1,2) gives (0 + 1)/2.
        double[][] m = [[1, 0, 0], [0, 0.5, 1]];
        var (mean, pairs) = LayerOrderTest.BestMonotone(m, [0, 1, 2]);
        Assert.Equal(1.0, mean, 12);
        Assert.Equal([(0, 0), (1, 2)], pairs);
        // Transposed (B shorter than A): the same pairing from the other side.
        double[][] t = [[1, 0], [0, 0.5], [0, 1]];
        var (mt, pt) = LayerOrderTest.BestMonotone(t, [0, 1]);
        Assert.Equal(1.0, mt, 12);
        Assert.Equal([(0, 0), (2, 1)], pt);
    }

    [Fact]
    public void Exhaustive_layer_order_null_of_a_diagonal_matrix_is_one_over_l_factorial()
    {
        // Identity 3 × 3: only the stored order puts every 1 on the diagonal, so p = 1/3! exactly.
        double[][] m = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
        var r = LayerOrderTest.Run(m, 99, 1);
        Assert.True(r.Exhaustive);
        Assert.Equal(6, r.Orders);
        Assert.Equal(1.0 / 6, r.PValue, 12);
        // Null mean over the 6 orders: the diagonal holds 3, 1, 1, 1, 0, 0 ones → mean of (1, 1/3, 1/3, 1/3, 0, 0) = 1/3.
        Assert.Equal(1.0 / 3, r.NullMean, 12);
        Assert.Equal(6, LayerOrderTest.Permutations(3).Select(p => string.Join(",", p)).Distinct().Count());
    }

    [Fact]
    public void Constant_matrix_gives_p_one()
    {
        double[][] m = [[0.5, 0.5], [0.5, 0.5]];
        Assert.Equal(1.0, LayerOrderTest.Run(m, 99, 1).PValue, 12);
    }

    [Fact]
    public void Draw_tail_is_the_student_t_predictive_tail()
    {
        // Draws −1, 0, 1: mean 0, SD 1; observed 2 → t = 2 / √(1 + 1/3) = √3, and with 2 dof
        // P(T > t) = ½ (1 − t / √(t² + 2)) = ½ (1 − √3/√5).
        var (p, mean, sd, exceeding) = NeuronMatchMethod.DrawTail(2, [-1, 0, 1]);
        Assert.Equal(0, mean, 12);
        Assert.Equal(1, sd, 12);
        Assert.Equal(0, exceeding);
        Assert.Equal(0.5 * (1 - Math.Sqrt(3) / Math.Sqrt(5)), p, 10);
        Assert.Equal(Distributions.StudentTSurvival(Math.Sqrt(3), 2), p, 12);
    }

    [Fact]
    public void Signed_permutations_are_seeded_permutations_with_signs()
    {
        var a = NeuronMatchMethod.SignedPermutations(10, 5, 42);
        var b = NeuronMatchMethod.SignedPermutations(10, 5, 42);
        Assert.Equal(5, a.Length);
        for (int k = 0; k < a.Length; k++)
        {
            Assert.Equal(Enumerable.Range(0, 10), a[k].Perm.Order());
            Assert.All(a[k].Signs, s => Assert.True(s is 1f or -1f));
            Assert.Equal(a[k].Perm, b[k].Perm);
            Assert.Equal(a[k].Signs, b[k].Signs);
        }
    }
}
