namespace WeightPrint.Statistics;

/// <summary>Tail probabilities of the reference distributions used by the tests.</summary>
internal static class Distributions
{
    /// <summary>P(Z &gt; z) for a standard normal Z.</summary>
    public static double NormalSurvival(double z) => 0.5 * SpecialFunctions.Erfc(z / Math.Sqrt(2));

    /// <summary>P(Z ≤ z) for a standard normal Z.</summary>
    public static double NormalCdf(double z) => NormalSurvival(-z);

    /// <summary>P(X &gt; x) for X ~ χ² with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double ChiSquareSurvival(double x, double degreesOfFreedom)
    {
        if (degreesOfFreedom <= 0 || double.IsNaN(x)) return double.NaN;
        if (x <= 0) return 1;
        return SpecialFunctions.GammaQ(degreesOfFreedom / 2, x / 2);
    }

    /// <summary>P(T &gt; t) for T ~ Student's t with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double StudentTSurvival(double t, double degreesOfFreedom)
    {
        if (degreesOfFreedom <= 0 || double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(t)) return 0;
        if (double.IsNegativeInfinity(t)) return 1;
        double tail = 0.5 * SpecialFunctions.BetaRegularized(degreesOfFreedom / 2, 0.5, degreesOfFreedom / (degreesOfFreedom + t * t));
        return t >= 0 ? tail : 1 - tail;
    }
}
