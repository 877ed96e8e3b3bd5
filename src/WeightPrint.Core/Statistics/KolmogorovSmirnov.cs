namespace WeightPrint.Statistics;

/// <summary>One-sample Kolmogorov–Smirnov statistic and p-value.</summary>
internal sealed record KsResult(double D, double PValue, int N, bool Exact);

/// <summary>
/// One-sample Kolmogorov–Smirnov test of a sample against the uniform distribution on [0, 1] (the check that
/// p-values are calibrated). The p-value P(Dₙ ≥ d) is exact for n ≤ <see cref="MaxExactN"/> (Marsaglia,
/// Tsang and Wang 2003, "Evaluating Kolmogorov's distribution", J. Stat. Softw. 8(18)); above it, the
/// limiting Kolmogorov distribution with Stephens' (1970) small-sample correction.
/// </summary>
internal static class KolmogorovSmirnov
{
    /// <summary>Largest n for which the exact distribution is evaluated.</summary>
    public const int MaxExactN = 2000;

    public static KsResult TestUniform(IEnumerable<double> sample)
    {
        var x = sample.ToArray();
        int n = x.Length;
        if (n == 0) return new KsResult(double.NaN, double.NaN, 0, false);
        foreach (double v in x)
        {
            if (double.IsNaN(v)) throw new ArgumentException("sample contains NaN", nameof(sample));
        }

        Array.Sort(x);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double u = Math.Clamp(x[i], 0, 1);
            d = Math.Max(d, Math.Max((i + 1.0) / n - u, u - (double)i / n));
        }

        bool exact = n <= MaxExactN && n * d * d < 18; // beyond nd² ≈ 18 the tail is below 1e-15 anyway
        double p = exact ? 1 - ExactCdf(n, d) : AsymptoticSurvival(n, d);
        return new KsResult(d, Math.Clamp(p, 0, 1), n, exact);
    }

    /// <summary>Kolmogorov's limiting survival function Q(λ) = 2 Σₖ (−1)^(k−1) exp(−2k²λ²).</summary>
    public static double KolmogorovSurvival(double lambda)
    {
        if (lambda <= 0) return 1;
        if (lambda < 0.2) return 1; // the series converges slowly there; the value is 1 to double precision
        double sum = 0;
        for (int k = 1; k <= 100; k++)
        {
            double term = Math.Exp(-2.0 * k * k * lambda * lambda);
            sum += (k % 2 == 1 ? 1 : -1) * term;
            if (term < 1e-17) break;
        }

        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>P(Dₙ ≥ d) from the limiting distribution with Stephens' correction λ = (√n + 0.12 + 0.11/√n) d.</summary>
    public static double AsymptoticSurvival(int n, double d)
    {
        double sn = Math.Sqrt(n);
        return KolmogorovSurvival((sn + 0.12 + 0.11 / sn) * d);
    }

    /// <summary>Exact P(Dₙ &lt; d) by the Durbin matrix method as given by Marsaglia, Tsang and Wang.</summary>
    public static double ExactCdf(int n, double d)
    {
        if (d <= 0) return 0;
        if (d >= 1) return 1;
        double nd = n * d;
        int k = (int)nd + 1;
        int m = 2 * k - 1;
        double h = k - nd;
        var hm = new double[m * m];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++) hm[i * m + j] = i - j + 1 < 0 ? 0 : 1;
        }

        for (int i = 0; i < m; i++)
        {
            hm[i * m] -= Math.Pow(h, i + 1);
            hm[(m - 1) * m + i] -= Math.Pow(h, m - i);
        }

        hm[(m - 1) * m] += 2 * h - 1 > 0 ? Math.Pow(2 * h - 1, m) : 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++)
            {
                if (i - j + 1 > 0)
                {
                    for (int g = 1; g <= i - j + 1; g++) hm[i * m + j] /= g;
                }
            }
        }

        var (q, exponent) = MatrixPower(hm, m, n);
        double s = q[(k - 1) * m + k - 1];
        // Multiply by n!/nⁿ step by step, rescaling by powers of 2^140 as the reference algorithm does (in log space here).
        double logScale = exponent * Math.Log(1e140);
        for (int i = 1; i <= n; i++) logScale += Math.Log((double)i / n);
        return s <= 0 ? 0 : Math.Clamp(Math.Exp(Math.Log(s) + logScale), 0, 1);
    }

    // Returns A^n as (matrix, e) with the true power = matrix × 10^(140 e); rescales to avoid overflow.
    private static (double[] Matrix, int Exponent) MatrixPower(double[] a, int m, int n)
    {
        if (n == 1) return ((double[])a.Clone(), 0);
        var (half, e) = MatrixPower(a, m, n / 2);
        var result = Multiply(half, half, m);
        int exponent = 2 * e;
        if (n % 2 == 1) result = Multiply(a, result, m);
        if (result[(m / 2) * m + m / 2] > 1e140)
        {
            for (int i = 0; i < result.Length; i++) result[i] *= 1e-140;
            exponent++;
        }

        return (result, exponent);
    }

    private static double[] Multiply(double[] x, double[] y, int m)
    {
        var r = new double[m * m];
        for (int i = 0; i < m; i++)
        {
            for (int k = 0; k < m; k++)
            {
                double xik = x[i * m + k];
                if (xik == 0) continue;
                for (int j = 0; j < m; j++) r[i * m + j] += xik * y[k * m + j];
            }
        }

        return r;
    }
}
