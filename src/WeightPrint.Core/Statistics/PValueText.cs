using System.Globalization;

namespace WeightPrint.Statistics;

/// <summary>How p-values read in sentences: "p = 0.0288", or "p &lt; 1e-300" at <see cref="FisherMethod.MinPValue"/>,
/// the floor below which p-values are not resolved (a floored value is a bound, not an estimate).</summary>
internal static class PValueText
{
    /// <summary>How a p-value at the floor reads in tables and sentences: a bound, not an estimate.</summary>
    public const string FloorBound = "< 1e-300";

    /// <summary>True when <paramref name="p"/> sits at (or below) <see cref="FisherMethod.MinPValue"/>.</summary>
    public static bool AtFloor(double p) => p <= FisherMethod.MinPValue;

    /// <summary>"p = …" with <paramref name="number"/> formatting values from 1e-4 up, "p = 2.3e-95" below (the one
    /// scientific format of <see cref="NumberText.Scientific"/>), or "p &lt; 1e-300" at the floor.</summary>
    public static string Equation(double p, Func<double, string>? number = null) =>
        AtFloor(p) ? "p " + FloorBound
        : "p = " + (p < 1e-4 ? NumberText.Scientific(p) : (number ?? (x => x.ToString("G3", CultureInfo.InvariantCulture)))(p));
}
