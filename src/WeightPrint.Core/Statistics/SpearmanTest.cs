namespace WeightPrint.Statistics;

/// <summary>Which deviation from ρ = 0 a test looks for.</summary>
internal enum Alternative
{
    TwoSided,
    Greater,
    Less,
}

/// <summary>Spearman's ρ with its p-value and how the p-value was obtained.</summary>
internal sealed record SpearmanResult(double Rho, double PValue, int N, bool Exact);

/// <summary>
/// Test of ρ = 0 (independence of x and y). For n ≤ <see cref="MaxExactN"/> without ties the p-value is
/// exact: the proportion of all n! rank permutations whose ρ is at least as extreme. Otherwise it uses
/// Student's t approximation t = ρ √((n − 2) / (1 − ρ²)) with n − 2 degrees of freedom (as scipy's spearmanr).
/// </summary>
internal static class SpearmanTest
{
    /// <summary>Largest n whose null distribution is enumerated (9! = 362 880 permutations).</summary>
    public const int MaxExactN = 9;

    public static SpearmanResult Test(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Alternative alternative = Alternative.TwoSided)
    {
        int n = x.Length;
        if (n != y.Length) throw new ArgumentException("x and y must have the same length", nameof(y));
        if (n < 3) return new SpearmanResult(double.NaN, double.NaN, n, false);
        var rx = Correlation.Ranks(x);
        var ry = Correlation.Ranks(y);
        double rho = Correlation.Pearson(rx, ry);
        if (double.IsNaN(rho)) return new SpearmanResult(rho, double.NaN, n, false);
        bool ties = Correlation.HasTies(x) || Correlation.HasTies(y);
        if (n <= MaxExactN && !ties) return new SpearmanResult(rho, ExactPValue(rho, n, alternative), n, true);
        return new SpearmanResult(rho, AsymptoticPValue(rho, n, alternative), n, false);
    }

    /// <summary>Student's t approximation to the null distribution of ρ.</summary>
    public static double AsymptoticPValue(double rho, int n, Alternative alternative)
    {
        if (n < 3 || double.IsNaN(rho)) return double.NaN;
        double dof = n - 2;
        double oneMinus = Math.Max(0, (1 - rho) * (1 + rho));
        double t = oneMinus == 0 ? (rho > 0 ? double.PositiveInfinity : double.NegativeInfinity) : rho * Math.Sqrt(dof / oneMinus);
        return alternative switch
        {
            Alternative.Greater => Distributions.StudentTSurvival(t, dof),
            Alternative.Less => Distributions.StudentTSurvival(-t, dof),
            _ => Math.Min(1, 2 * Distributions.StudentTSurvival(Math.Abs(t), dof)),
        };
    }

    /// <summary>Exact null distribution for untied ranks: enumerates all permutations of 1..n.</summary>
    public static double ExactPValue(double rho, int n, Alternative alternative)
    {
        if (n > MaxExactN) throw new ArgumentOutOfRangeException(nameof(n), $"exact Spearman p-values are enumerated only up to n = {MaxExactN}");
        // ρ = 1 − 6 Σd² / (n(n² − 1)); count permutations by Σd² (an integer) to avoid float comparisons.
        double denominator = n * ((double)n * n - 1);
        long observedD2 = (long)Math.Round((1 - rho) * denominator / 6);
        var perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        long total = 0, atLeast = 0, atMost = 0;
        do
        {
            long d2 = 0;
            for (int i = 0; i < n; i++)
            {
                long d = perm[i] - i;
                d2 += d * d;
            }

            total++;
            if (d2 <= observedD2) atLeast++; // ρ ≥ observed
            if (d2 >= observedD2) atMost++;  // ρ ≤ observed
        }
        while (NextPermutation(perm));

        double greater = (double)atLeast / total;
        double less = (double)atMost / total;
        return alternative switch
        {
            Alternative.Greater => greater,
            Alternative.Less => less,
            _ => Math.Min(1, 2 * Math.Min(greater, less)), // the null distribution of ρ is symmetric
        };
    }

    private static bool NextPermutation(int[] a)
    {
        int i = a.Length - 2;
        while (i >= 0 && a[i] >= a[i + 1]) i--;
        if (i < 0) return false;
        int j = a.Length - 1;
        while (a[j] <= a[i]) j--;
        (a[i], a[j]) = (a[j], a[i]);
        Array.Reverse(a, i + 1, a.Length - i - 1);
        return true;
    }
}
