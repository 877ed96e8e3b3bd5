namespace WeightPrint.Statistics;

/// <summary>Outcome of a Monte Carlo permutation test.</summary>
/// <param name="Observed">The statistic on the data as given.</param>
/// <param name="PValue">(b + 1) / (m + 1), where b of the m permuted statistics reached the observed one.</param>
/// <param name="Exceeding">b.</param>
/// <param name="Permutations">m.</param>
/// <param name="NullMean">Mean of the permuted statistics.</param>
/// <param name="NullStdDev">Standard deviation of the permuted statistics.</param>
internal sealed record PermutationResult(double Observed, double PValue, int Exceeding, int Permutations, double NullMean, double NullStdDev)
{
    /// <summary>(observed − null mean) / null standard deviation; NaN when the null has no spread.</summary>
    public double ZScore => NullStdDev > 0 ? (Observed - NullMean) / NullStdDev : double.NaN;
}

/// <summary>
/// Seeded Monte Carlo permutation tests (one-sided: large statistics are evidence against the null). The
/// p-value (b + 1) / (m + 1) counts the observed arrangement as one of the permutations, so it is valid
/// (never anti-conservative) for any m whenever the null makes the permuted data exchangeable.
/// </summary>
internal static class PermutationTest
{
    /// <summary>Relative tolerance under which a permuted statistic counts as reaching the observed one
    /// (floating-point sums in a different order must not turn ties into exceedances).</summary>
    public const double TieTolerance = 1e-12;

    /// <summary>Runs <paramref name="permutations"/> draws of <paramref name="permutedStatistic"/>, each given the
    /// shared seeded random generator.</summary>
    public static PermutationResult Run(double observed, Func<Random, double> permutedStatistic, int permutations, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permutations, 1);
#pragma warning disable CA5394 // Monte Carlo sampling, not security: a seeded generator is required for reproducibility.
        var random = new Random(seed);
#pragma warning restore CA5394
        double threshold = observed - TieTolerance * Math.Max(1, Math.Abs(observed));
        int b = 0;
        double sum = 0, sumSq = 0;
        for (int k = 0; k < permutations; k++)
        {
            double t = permutedStatistic(random);
            if (t >= threshold) b++;
            sum += t;
            sumSq += t * t;
        }

        double mean = sum / permutations;
        double variance = permutations > 1 ? Math.Max(0, (sumSq - permutations * mean * mean) / (permutations - 1)) : 0;
        return new PermutationResult(observed, MonteCarloP(b, permutations), b, permutations, mean, Math.Sqrt(variance));
    }

    /// <summary>Fisher–Yates shuffle of <paramref name="values"/> in place.</summary>
    public static void Shuffle<T>(Span<T> values, Random random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
#pragma warning disable CA5394
            int j = random.Next(i + 1);
#pragma warning restore CA5394
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>A uniformly random permutation of 0..n−1.</summary>
    public static int[] RandomPermutation(int n, Random random)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle<int>(p, random);
        return p;
    }

    /// <summary>
    /// Exact mean and variance of the linear permutation statistic T(π) = Σᵢ G[i, π(i)] over uniformly random
    /// permutations π of 0..n−1 (Hoeffding's combinatorial central limit theorem gives T its normal limit).
    /// </summary>
    public static (double Mean, double Variance) LinearStatisticMoments(ReadOnlySpan<double> g, int n)
    {
        if (g.Length != n * n) throw new ArgumentException("g must be n × n", nameof(g));
        if (n < 2) return (n == 1 ? g[0] : 0, 0);
        var rowMean = new double[n];
        var colMean = new double[n];
        double grand = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double v = g[i * n + j];
                rowMean[i] += v;
                colMean[j] += v;
                grand += v;
            }
        }

        for (int i = 0; i < n; i++)
        {
            rowMean[i] /= n;
            colMean[i] /= n;
        }

        grand /= (double)n * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double d = g[i * n + j] - rowMean[i] - colMean[j] + grand;
                ss += d * d;
            }
        }

        return (n * grand, ss / (n - 1));
    }

    /// <summary>The Monte Carlo permutation p-value (b + 1) / (m + 1): b of m permuted (or simulated) statistics reached
    /// the observed one, which counts as one more; valid at every sample size.</summary>
    public static double MonteCarloP(long exceeding, long permutations) => (exceeding + 1.0) / (permutations + 1.0);
}
