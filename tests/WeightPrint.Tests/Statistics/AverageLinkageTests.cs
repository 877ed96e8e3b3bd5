using CsCheck;
using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class AverageLinkageTests
{
    [Fact]
    public void Two_tight_pairs_and_an_outlier_cluster_as_worked_out_by_hand()
    {
        // Leaves 0 and 2 are close (0.1), 1 and 3 are close (0.2), 4 is far from everyone.
        double[,] d =
        {
            { 0.0, 0.8, 0.1, 0.7, 0.9 },
            { 0.8, 0.0, 0.6, 0.2, 0.95 },
            { 0.1, 0.6, 0.0, 0.5, 0.85 },
            { 0.7, 0.2, 0.5, 0.0, 0.9 },
            { 0.9, 0.95, 0.85, 0.9, 0.0 },
        };
        var tree = AverageLinkage.Cluster(d);

        Assert.Equal([0, 2, 1, 3, 4], tree.Order);
        Assert.Equal(4, tree.Merges.Count);
        Assert.Equal(new Merge(0, 2, 0.1, 2), tree.Merges[0]);
        Assert.Equal(new Merge(1, 3, 0.2, 2), tree.Merges[1]);
        // {0,2} with {1,3}: mean of d(0,1)=0.8, d(0,3)=0.7, d(2,1)=0.6, d(2,3)=0.5 = 0.65.
        Assert.Equal(5, tree.Merges[2].Left);
        Assert.Equal(6, tree.Merges[2].Right);
        Assert.Equal(0.65, tree.Merges[2].Height, 12);
        // Everything with 4: mean of 0.9, 0.95, 0.85, 0.9 = 0.9.
        Assert.Equal(new Merge(7, 4, tree.Merges[3].Height, 5), tree.Merges[3]);
        Assert.Equal(0.9, tree.Merges[3].Height, 12);
    }

    [Fact]
    public void Average_linkage_differs_from_single_linkage_on_a_chain()
    {
        // 0–1 at 1.0, 1–2 at 1.1, 0–2 at 3.0, and leaf 3 at 1.9 from 0 and 1 but 3.0 from 2.
        // After {0,1}: average to 2 = (3.0 + 1.1)/2 = 2.05, to 3 = (1.9 + 1.9)/2 = 1.9, so 3 joins before 2
        // (single linkage would take 2 first at 1.1).
        double[,] d =
        {
            { 0, 1.0, 3.0, 1.9 },
            { 1.0, 0, 1.1, 1.9 },
            { 3.0, 1.1, 0, 3.0 },
            { 1.9, 1.9, 3.0, 0 },
        };
        var tree = AverageLinkage.Cluster(d);
        Assert.Equal([0, 1, 3, 2], tree.Order);
        Assert.Equal(1.9, tree.Merges[1].Height, 12);
        Assert.Equal((3.0 + 1.1 + 3.0) / 3, tree.Merges[2].Height, 12);
    }

    [Fact]
    public void Undefined_distances_join_last_and_ties_are_deterministic()
    {
        double[,] d =
        {
            { 0, 0.5, double.NaN },
            { 0.5, 0, double.NaN },
            { double.NaN, double.NaN, 0 },
        };
        var tree = AverageLinkage.Cluster(d);
        Assert.Equal([0, 1, 2], tree.Order);
        Assert.Equal(0.5, tree.Merges[1].Height);

        double[,] ties = { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } };
        Assert.Equal(new Merge(0, 1, 1, 2), AverageLinkage.Cluster(ties).Merges[0]);
    }

    [Fact]
    public void One_leaf_and_no_leaves()
    {
        Assert.Equal([0], AverageLinkage.Cluster(new double[1, 1]).Order);
        Assert.Empty(AverageLinkage.Cluster(new double[0, 0]).Merges);
    }

    [Fact]
    public void Order_is_a_permutation_and_heights_never_decrease()
    {
        Gen.Int[2, 9].SelectMany(n => Gen.Double[0, 1].Array[n * n].Select(v => (n, v))).Sample(t =>
        {
            var (n, v) = t;
            var d = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++) d[i, j] = i == j ? 0 : v[Math.Min(i, j) * n + Math.Max(i, j)];
            }

            var tree = AverageLinkage.Cluster(d);
            Assert.Equal(Enumerable.Range(0, n), tree.Order.Order());
            Assert.Equal(n - 1, tree.Merges.Count);
            Assert.Equal(n, tree.Merges[^1].Size);
            // Average linkage (UPGMA) is monotone: no inversions in the tree.
            for (int m = 1; m < tree.Merges.Count; m++) Assert.True(tree.Merges[m].Height >= tree.Merges[m - 1].Height - 1e-12);
        }, iter: 200);
    }

    [Fact]
    public void Average_linkage_matches_hand_computed_merges()
    {
        // Points on a line at 0, 1, 5, 6.5: merges {0,1} at 1, {2,3} at 1.5, then the two pairs at the mean of
        // the four cross distances (5 + 6.5 + 4 + 5.5) / 4 = 5.25.
        double[] x = [0, 1, 5, 6.5];
        var d = new double[4, 4];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) d[i, j] = Math.Abs(x[i] - x[j]);
        }

        var merges = AverageLinkage.Cluster(d).Merges;
        Assert.Equal(new Merge(0, 1, 1, 2), merges[0]);
        Assert.Equal(new Merge(2, 3, 1.5, 2), merges[1]);
        Assert.Equal(new Merge(4, 5, 5.25, 4), merges[2]);
    }
}
