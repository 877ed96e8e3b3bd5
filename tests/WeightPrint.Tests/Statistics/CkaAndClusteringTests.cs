using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class CkaAndClusteringTests
{
    private static float[] RandomMatrix(int n, int p, Random rnd) => Enumerable.Range(0, n * p).Select(_ => (float)(rnd.NextDouble() * 2 - 1)).ToArray();

    // The unbiased HSIC is the U-statistic of order 4 with kernel h(i,j,q,r) = (1/4!) Σ over orderings (t,u,v,w) of
    // k_tu l_tu + k_tu l_vw − 2 k_tu l_tv (Song et al. 2012, Theorem 2). Enumerating it is O(n⁴): an independent check.
    private static double HsicByUStatistic(double[] k, double[] l, int n)
    {
        double sum = 0;
        long count = 0;
        var idx = new int[4];
        for (idx[0] = 0; idx[0] < n; idx[0]++)
        {
            for (idx[1] = 0; idx[1] < n; idx[1]++)
            {
                for (idx[2] = 0; idx[2] < n; idx[2]++)
                {
                    for (idx[3] = 0; idx[3] < n; idx[3]++)
                    {
                        if (idx.Distinct().Count() < 4) continue;
                        int t = idx[0], u = idx[1], v = idx[2], w = idx[3];
                        sum += k[t * n + u] * l[t * n + u] + k[t * n + u] * l[v * n + w] - 2 * k[t * n + u] * l[t * n + v];
                        count++;
                    }
                }
            }
        }

        return sum / count;
    }

    [Fact]
    public void Unbiased_hsic_equals_the_u_statistic()
    {
        var rnd = new Random(4);
        const int n = 7;
        var k = LinearAlgebra.Gram(RandomMatrix(n, 3, rnd), n, 3);
        var l = LinearAlgebra.Gram(RandomMatrix(n, 5, rnd), n, 5);
        Assert.Equal(HsicByUStatistic(k, l, n), Cka.UnbiasedHsic(k, l, n), 10);
    }

    [Fact]
    public void Cka_is_invariant_to_rotation_and_scale_and_near_zero_for_independent()
    {
        var rnd = new Random(8);
        const int n = 200, p = 12;
        var x = RandomMatrix(n, p, rnd);
        Assert.Equal(1, Cka.LinearCka(x, p, x, p, n), 10);
        // Rotate the features by a Givens rotation of columns 0 and 1 and scale by 3.
        var y = (float[])x.Clone();
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        for (int i = 0; i < n; i++)
        {
            float a = x[i * p], b = x[i * p + 1];
            y[i * p] = (float)(c * a - s * b);
            y[i * p + 1] = (float)(s * a + c * b);
            for (int j = 0; j < p; j++) y[i * p + j] *= 3;
        }

        Assert.Equal(1, Cka.LinearCka(x, p, y, p, n), 5);
        var z = RandomMatrix(n, 20, rnd);
        Assert.InRange(Cka.LinearCka(x, p, z, 20, n), -0.1, 0.1);
    }
}
