using ScottPlot;

namespace WeightPrint.Reports.Plots;

/// <summary>Colours distinguishable for colour-blind readers (Okabe–Ito), cycled for many models.</summary>
internal static class Palette
{
    private static readonly Color[] Series =
    [
        Color.FromHex("#0072B2"), Color.FromHex("#D55E00"), Color.FromHex("#009E73"), Color.FromHex("#CC79A7"),
        Color.FromHex("#E69F00"), Color.FromHex("#56B4E9"), Color.FromHex("#000000"), Color.FromHex("#F0E442"),
    ];

    public static Color Of(int i) => Series[i % Series.Length];

    public static Color Unrelated => Color.FromHex("#7F8FA6");

    public static Color Related => Color.FromHex("#E69F00");

    public static Color Observed => Color.FromHex("#C0392B");
}
