namespace WeightPrint.Signals.Pdf;

/// <summary>
/// The arithmetic of the LLM-Fingerprint ("intrinsic fingerprint", PDF) statistic, in double precision:
/// z-scoring a depth curve (population standard deviation), <c>numpy.interp</c>-style resampling of the shorter
/// curve onto the longer one's length, and Pearson correlation. Undefined values are NaN, never a made-up number.
/// </summary>
internal static class PdfStatistic
{
    /// <summary>Z-scores a curve: (x − mean) / population std. All NaN when the curve is constant (undefined).</summary>
    public static double[] ZScore(IReadOnlyList<double> curve)
    {
        int n = curve.Count;
        var z = new double[n];
        if (n == 0) return z;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += curve[i];
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (curve[i] - mean) * (curve[i] - mean);
        double sd = Math.Sqrt(ss / n);
        for (int i = 0; i < n; i++) z[i] = sd > 0 && double.IsFinite(sd) ? (curve[i] - mean) / sd : double.NaN;
        return z;
    }

    /// <summary>
    /// Resamples <paramref name="curve"/> to <paramref name="length"/> points as
    /// <c>numpy.interp(linspace(0, n−1, length), arange(n), curve)</c>.
    /// </summary>
    public static double[] Interpolate(IReadOnlyList<double> curve, int length)
    {
        int n = curve.Count;
        if (n == 0) throw new ArgumentException("empty curve", nameof(curve));
        var result = new double[length];
        if (n == 1 || length == 1)
        {
            // A one-point curve is constant; linspace(0, n−1, 1) is [0].
            Array.Fill(result, curve[0]);
            return result;
        }

        for (int i = 0; i < length; i++)
        {
            // numpy.linspace: start + i * step, with the last point exactly stop.
            double x = i == length - 1 ? n - 1 : i * ((double)(n - 1) / (length - 1));
            int j = (int)Math.Floor(x);
            if (j >= n - 1)
            {
                result[i] = curve[n - 1];
                continue;
            }

            double t = x - j;
            result[i] = t == 0 ? curve[j] : curve[j] + (t * (curve[j + 1] - curve[j]));
        }

        return result;
    }

    /// <summary>Pearson correlation; NaN when either series is constant or contains a non-finite value.</summary>
    public static double Pearson(double[] x, double[] y) => WeightPrint.Statistics.Correlation.Pearson(x, y);

    /// <summary>
    /// Correlation of two depth curves as the statistic defines it: z-score each, resample the shorter onto the
    /// longer's length, Pearson r. NaN when either curve is constant.
    /// </summary>
    public static double CurveCorrelation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count == 0 || b.Count == 0) return double.NaN;
        var za = ZScore(a);
        var zb = ZScore(b);
        if (za.Length < zb.Length) za = Interpolate(za, zb.Length);
        else if (zb.Length < za.Length) zb = Interpolate(zb, za.Length);
        return Pearson(za, zb);
    }
}
