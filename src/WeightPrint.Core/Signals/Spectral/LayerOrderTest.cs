using WeightPrint.Statistics;

namespace WeightPrint.Signals.Spectral;

/// <summary>
/// A permutation test on a layer × layer similarity matrix M (rows: A's layers, columns: B's). The statistic is the
/// mean of M over the best depth-order-preserving one-to-one pairing of the shorter stack into the longer one (the
/// diagonal when depths are equal; dynamic programming otherwise, so pruned or upscaled stacks pair as they were
/// built). Its null shuffles B's layers: the statistic of M with permuted columns (rows when B is the shorter stack).
/// Shuffling only reorders the already computed matrix, so the null costs no further weight reads.
/// </summary>
internal static class LayerOrderTest
{
    /// <summary>Up to this many layers in B every order is enumerated (8! = 40,320); beyond, seeded random orders.</summary>
    public const int MaxExhaustiveLayers = 8;

    public sealed record Result(double Observed, double PValue, double NullMean, double NullSd, double Z, int Exceeding, int Orders, bool Exhaustive,
        double BelowShare, IReadOnlyList<(int A, int B)> Pairs);

    public static Result Run(double[][] matrix, int permutations, int seed)
    {
        int la = matrix.Length, lb = la == 0 ? 0 : matrix[0].Length;
        if (la == 0 || lb == 0) throw new ArgumentException("empty layer matrix", nameof(matrix));
        var (observed, pairs) = BestMonotone(matrix, Identity(lb));
        var nulls = new List<double>();
        bool exhaustive = lb <= MaxExhaustiveLayers;
        if (exhaustive)
        {
            foreach (var order in Permutations(lb)) nulls.Add(BestMonotone(matrix, order).Mean);
        }
        else
        {
#pragma warning disable CA5394 // seeded permutation test, not security
            var rnd = new Random(seed);
#pragma warning restore CA5394
            for (int k = 0; k < Math.Max(1, permutations); k++) nulls.Add(BestMonotone(matrix, PermutationTest.RandomPermutation(lb, rnd)).Mean);
        }

        double tol = PermutationTest.TieTolerance * Math.Max(1, Math.Abs(observed));
        int exceeding = nulls.Count(x => x >= observed - tol);
        double mean = nulls.Average();
        double sd = Math.Sqrt(nulls.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, nulls.Count - 1));
        double z = sd > 0 ? (observed - mean) / sd : 0;
        double p;
        if (exhaustive) p = exceeding / (double)nulls.Count; // the identity order is among them, so p ≥ 1/L!
        else
        {
            p = PermutationTest.MonteCarloP(exceeding, nulls.Count);
            if (exceeding == 0 && sd > 0)
                p = Math.Min(p, Math.Max(FisherMethod.MinPValue, Distributions.StudentTSurvival((observed - mean) / (sd * Math.Sqrt(1 + 1.0 / nulls.Count)), nulls.Count - 1)));
        }

        double below = nulls.Count(x => x < observed - tol) / (double)nulls.Count;
        return new Result(observed, p, mean, sd, z, exceeding, nulls.Count, exhaustive, below, pairs);
    }

    /// <summary>The best depth-order-preserving pairing of M with B's layers taken in <paramref name="order"/>:
    /// its mean similarity and the pairs (A layer, B layer as stored).</summary>
    public static (double Mean, IReadOnlyList<(int A, int B)> Pairs) BestMonotone(double[][] m, int[] order)
    {
        int la = m.Length, lb = order.Length;
        bool rowsShort = la <= lb;
        int r = rowsShort ? la : lb, c = rowsShort ? lb : la;
        double At(int i, int j)
        {
            double v = rowsShort ? m[i][order[j]] : m[j][order[i]];
            return double.IsFinite(v) ? v : -1;
        }

        // dp[i, j]: best sum pairing the first i short-side layers into the first j long-side layers, in order.
        var dp = new double[r + 1, c + 1];
        for (int i = 1; i <= r; i++)
        {
            dp[i, i - 1] = double.NegativeInfinity;
            for (int j = i; j <= c; j++) dp[i, j] = Math.Max(j > i ? dp[i, j - 1] : double.NegativeInfinity, dp[i - 1, j - 1] + At(i - 1, j - 1));
        }

        var pairs = new List<(int, int)>(r);
        for (int i = r, j = c; i > 0; j--)
        {
            if (j > i && dp[i, j] == dp[i, j - 1]) continue;
            pairs.Add(rowsShort ? (i - 1, order[j - 1]) : (j - 1, order[i - 1]));
            i--;
        }

        pairs.Reverse();
        return (dp[r, c] / r, pairs);
    }

    private static int[] Identity(int n) => Enumerable.Range(0, n).ToArray();

    /// <summary>All permutations of 0..n−1 (Heap's algorithm).</summary>
    public static IEnumerable<int[]> Permutations(int n)
    {
        var a = Identity(n);
        var c = new int[n];
        yield return (int[])a.Clone();
        int i = 0;
        while (i < n)
        {
            if (c[i] < i)
            {
                int k = i % 2 == 0 ? 0 : c[i];
                (a[k], a[i]) = (a[i], a[k]);
                yield return (int[])a.Clone();
                c[i]++;
                i = 0;
            }
            else
            {
                c[i] = 0;
                i++;
            }
        }
    }
}
