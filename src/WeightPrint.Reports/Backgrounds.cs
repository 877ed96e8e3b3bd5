using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;

namespace WeightPrint.Reports;

/// <summary>Reference scores a method's observed score is drawn against: unrelated pairs (or a null sample), and
/// optionally related pairs.</summary>
internal sealed record Background(IReadOnlyList<double> Unrelated, IReadOnlyList<double>? Related, string Source, string UnrelatedLabel, string RelatedLabel);

/// <summary>
/// Finds the background of a method result. Built in: pdf uses the published MDGBench background
/// (<see cref="PdfBackground"/>). Any other method opts in through its result's details
/// (<see cref="MethodDetails.BackgroundScores"/>, required: scores of unrelated pairs, or a sample of the method's null
/// distribution; <see cref="MethodDetails.BackgroundRelatedScores"/> and <see cref="MethodDetails.BackgroundSource"/>,
/// optional; JSON <c>raw.background_scores</c>, <c>raw.background_related_scores</c>, <c>raw.background_source</c>).
/// Non-finite scores are ignored; at most <see cref="MaxScores"/> are read.
/// </summary>
internal static class Backgrounds
{
    /// <summary>Largest background read from a method's details.</summary>
    public const int MaxScores = 1_000_000;

    public static Background? For(string methodId, MethodDetails? details)
    {
        if (methodId == "pdf")
        {
            var pdf = PdfBackground.Published;
            return new Background(pdf.Unrelated, pdf.Related, PdfBackground.Citation, "unrelated pairs", "related pairs");
        }

        if (details?.BackgroundScores is not { } scores) return null;
        var unrelated = Numbers(scores);
        if (unrelated.Count == 0) return null;
        var related = details.BackgroundRelatedScores is { } r ? Numbers(r) : null;
        return new Background(unrelated, related is { Count: > 0 } ? related : null, details.BackgroundSource ?? "reported by the method", "background (unrelated / null)", "related pairs");
    }

    private static List<double> Numbers(IReadOnlyList<double> a)
    {
        var list = new List<double>(Math.Min(a.Count, MaxScores));
        foreach (double d in a)
        {
            if (list.Count >= MaxScores) break;
            if (double.IsFinite(d)) list.Add(d);
        }

        list.Sort();
        return list;
    }
}
