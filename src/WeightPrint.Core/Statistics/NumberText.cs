using System.Globalization;

namespace WeightPrint.Statistics;

/// <summary>How numbers read everywhere a user sees them (console, HTML): one scientific format ("2.3e-95"), p-values
/// at the floor as a bound ("&lt; 1e-300"), "—" for undefined values, counted nouns with their plural ("1 layer",
/// "5 layers") and ordinal percentiles ("25.2nd").</summary>
internal static class NumberText
{
    /// <summary>Shown for a number that is undefined (NaN) or absent.</summary>
    public const string Undefined = "—";

    /// <summary>A p-value: "&lt; 1e-300" at the floor, "2.3e-95" below 1e-4, else four decimals ("0.0288").</summary>
    public static string P(double p)
    {
        if (double.IsNaN(p)) return Undefined;
        if (PValueText.AtFloor(p)) return PValueText.FloorBound;
        return p < 1e-4 ? Scientific(p) : p.ToString("F4", CultureInfo.InvariantCulture);
    }

    /// <summary>Two significant digits in scientific notation with a plain exponent: "2.3e-95", "1e-300".</summary>
    public static string Scientific(double v)
    {
        if (!double.IsFinite(v)) return Undefined;
        return v.ToString("0.#e+0", CultureInfo.InvariantCulture);
    }

    /// <summary>"1 layer", "5 layers", "0 pairs" (regular plural: the noun plus "s" unless <paramref name="plural"/> is given).</summary>
    public static string Count(long n, string singular, string? plural = null)
        => n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? singular : plural ?? singular + "s");

    /// <summary>A percentile with one decimal and its ordinal suffix, as read aloud: "25.2nd", "100.0th", "0.1st" (the suffix follows the last digit shown).</summary>
    public static string Ordinal(double percentile)
    {
        if (!double.IsFinite(percentile)) return Undefined;
        string text = percentile.ToString("F1", CultureInfo.InvariantCulture);
        return text + text[^1] switch { '1' => "st", '2' => "nd", '3' => "rd", _ => "th" };
    }
}
