namespace WeightPrint.Statistics;

/// <summary>
/// Fisher's method: for L independent p-values, X = −2 Σ ln pᵢ follows χ² with 2L degrees of freedom under
/// the joint null; the combined p-value is its survival function.
/// </summary>
internal static class FisherMethod
{
    /// <summary>Smallest p-value used (a p-value of exactly 0 would make X infinite).</summary>
    public const double MinPValue = 1e-300;

    /// <summary>The χ² statistic −2 Σ ln pᵢ.</summary>
    public static double Statistic(IEnumerable<double> pValues)
    {
        double x = 0;
        foreach (double p in pValues)
        {
            if (double.IsNaN(p)) throw new ArgumentException("p-values must not be NaN", nameof(pValues));
            x -= 2 * Math.Log(Math.Clamp(p, MinPValue, 1));
        }

        return x;
    }

    /// <summary>The combined p-value; NaN for an empty list.</summary>
    public static double Combine(IReadOnlyCollection<double> pValues)
    {
        if (pValues.Count == 0) return double.NaN;
        return Distributions.ChiSquareSurvival(Statistic(pValues), 2.0 * pValues.Count);
    }
}
