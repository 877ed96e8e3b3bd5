using System.Globalization;

namespace WeightPrint.Statistics;

/// <summary>How p-values read in sentences: "p = 0.0288", or "p &lt; 1e-300" at <see cref="FisherMethod.MinPValue"/>,
/// the floor below which p-values are not resolved (a floored value is a bound, not an estimate).</summary>
public static class PValueText
{
    /// <summary>"p = …" with <paramref name="number"/> formatting the value, or "p &lt; 1e-300" at the floor.</summary>
    public static string Equation(double p, Func<double, string>? number = null) =>
        p <= FisherMethod.MinPValue ? "p < 1e-300" : "p = " + (number ?? (x => x.ToString("G3", CultureInfo.InvariantCulture)))(p);
}
