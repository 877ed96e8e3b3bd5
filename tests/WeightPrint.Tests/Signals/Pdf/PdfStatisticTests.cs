using WeightPrint.Signals.Pdf;

namespace WeightPrint.Tests.Signals.Pdf;

public class PdfStatisticTests
{
    [Fact]
    public void ZScore_uses_the_population_standard_deviation()
    {
        // [1, 2, 3, 4]: mean 2.5, population variance 1.25.
        var z = PdfStatistic.ZScore([1, 2, 3, 4]);
        double sd = Math.Sqrt(1.25);
        Assert.Equal([-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], z);
    }

    [Fact]
    public void Interpolation_matches_numpy_interp_on_worked_examples()
    {
        // numpy.interp(np.linspace(0, 2, 5), [0, 1, 2], [0, 10, 20]) = [0, 5, 10, 15, 20]
        Assert.Equal([0, 5, 10, 15, 20], PdfStatistic.Interpolate([0, 10, 20], 5));
        // numpy.interp(np.linspace(0, 2, 4), [0, 1, 2], [1, 3, 2]): x = 0, 2/3, 4/3, 2 -> 1, 7/3, 8/3, 2
        var r = PdfStatistic.Interpolate([1, 3, 2], 4);
        Assert.Equal(1, r[0], 15);
        Assert.Equal(7.0 / 3, r[1], 14);
        Assert.Equal(8.0 / 3, r[2], 14);
        Assert.Equal(2, r[3], 15);
        // Same length is the identity; one point is constant.
        Assert.Equal([4, 5, 6], PdfStatistic.Interpolate([4, 5, 6], 3));
        Assert.Equal([7, 7, 7], PdfStatistic.Interpolate([7], 3));
    }

    [Fact]
    public void Pearson_on_a_hand_computed_example()
    {
        // x = [1,2,3,4,5], y = [2,4,5,4,5]: sxy = 6, sxx = 10, syy = 6 -> r = 6 / sqrt(60)
        Assert.Equal(6 / Math.Sqrt(60), PdfStatistic.Pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 14);
    }

    [Fact]
    public void Correlation_is_invariant_to_affine_rescaling_of_a_curve()
    {
        double[] a = [0.21, 0.25, 0.19, 0.3, 0.27, 0.24];
        double[] b = [0.11, 0.09, 0.14, 0.13, 0.1, 0.16];
        double r = PdfStatistic.CurveCorrelation(a, b);
        double[] scaled = a.Select(v => 3.7 * v + 0.4).ToArray();
        Assert.Equal(r, PdfStatistic.CurveCorrelation(scaled, b), 12);
        double[] negated = b.Select(v => -2 * v).ToArray();
        Assert.Equal(-r, PdfStatistic.CurveCorrelation(a, negated), 12);
    }

    [Fact]
    public void A_constant_curve_makes_r_undefined()
    {
        Assert.True(double.IsNaN(PdfStatistic.CurveCorrelation([0.02, 0.02, 0.02], [0.1, 0.2, 0.3])));
        Assert.True(double.IsNaN(PdfStatistic.CurveCorrelation([0.1, 0.2, 0.3], [5, 5, 5, 5])));
        Assert.All(PdfStatistic.ZScore([3, 3, 3]), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Different_depths_resample_the_shorter_curve()
    {
        // b is a on a finer grid: linear in depth, so after resampling the curves coincide.
        double[] a = [1, 2, 3];
        double[] b = [1, 1.5, 2, 2.5, 3];
        Assert.Equal(1, PdfStatistic.CurveCorrelation(a, b), 12);
        Assert.Equal(1, PdfStatistic.CurveCorrelation(b, a), 12);
    }

    [Fact]
    public void Agrees_with_an_independent_reference_to_1e9_on_identical_inputs()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            int la = rng.Next(2, 40), lb = rng.Next(2, 40);
            var a = Enumerable.Range(0, la).Select(_ => rng.NextDouble()).ToArray();
            var b = Enumerable.Range(0, lb).Select(_ => rng.NextDouble()).ToArray();
            Assert.Equal(ReferencePdfCurve(a, b), PdfStatistic.CurveCorrelation(a, b), 9);
        }
    }

    /// <summary>The published definition written out independently: z-score, numpy.interp, Pearson via
    /// E[xy] − E[x]E[y] on z-scores (which have mean 0 and population variance 1).</summary>
    private static double ReferencePdfCurve(double[] a, double[] b)
    {
        static double[] Z(double[] c)
        {
            double m = c.Average();
            double sd = Math.Sqrt(c.Select(v => (v - m) * (v - m)).Sum() / c.Length);
            return c.Select(v => (v - m) / sd).ToArray();
        }

        static double[] Interp(double[] fp, int n)
        {
            var outp = new double[n];
            for (int i = 0; i < n; i++)
            {
                double x = (fp.Length - 1) * (double)i / (n - 1);
                int lo = Math.Min((int)x, fp.Length - 2);
                outp[i] = fp[lo] + (x - lo) * (fp[lo + 1] - fp[lo]);
            }

            return outp;
        }

        double[] za = Z(a), zb = Z(b);
        if (za.Length < zb.Length) za = Interp(za, zb.Length);
        if (zb.Length < za.Length) zb = Interp(zb, za.Length);
        double mx = za.Average(), my = zb.Average();
        double cov = za.Zip(zb, (x, y) => (x - mx) * (y - my)).Sum();
        return cov / Math.Sqrt(za.Sum(x => (x - mx) * (x - mx)) * zb.Sum(y => (y - my) * (y - my)));
    }

    [Fact]
    public void Background_percentile_counts_unrelated_pairs_at_or_below_the_score()
    {
        var bg = PdfBackground.Published;
        Assert.Equal(8698, bg.Unrelated.Count);
        Assert.Equal(618, bg.Related.Count);
        Assert.Equal(100, bg.UnrelatedPercentile(1.0));
        Assert.Equal(0, bg.UnrelatedPercentile(-1.0));
        Assert.InRange(PdfBackground.Quantile(bg.Unrelated, 0.5), 0.43, 0.445); // published median 0.438
        Assert.InRange(bg.Unrelated[^1], 0.92, 0.93); // published maximum 0.928
        Assert.Null(bg.UnrelatedPercentile(double.NaN));
    }
}
