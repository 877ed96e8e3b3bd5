using System.Text.Json.Nodes;
using WeightPrint.Signals.Pdf;

namespace WeightPrint.Reports;

/// <summary>Reference scores a method's observed score is drawn against: unrelated pairs (or a null sample), and
/// optionally related pairs.</summary>
internal sealed record Background(IReadOnlyList<double> Unrelated, IReadOnlyList<double>? Related, string Source, string UnrelatedLabel, string RelatedLabel);

/// <summary>
/// Finds the background of a method result. Built in: pdf uses the published MDGBench background
/// (<see cref="PdfBackground"/>). Any other method opts in through its JSON <c>raw</c> object:
/// <list type="bullet">
/// <item><c>raw.background_scores</c>: array of numbers — scores of unrelated pairs, or a sample of the method's
/// null distribution (e.g. permuted scores); required.</item>
/// <item><c>raw.background_related_scores</c>: array of numbers — scores of known related pairs; optional.</item>
/// <item><c>raw.background_source</c>: string — where the scores come from; optional.</item>
/// </list>
/// Non-numeric entries are ignored; at most <see cref="MaxScores"/> are read from a method's raw object.
/// </summary>
internal static class Backgrounds
{
    /// <summary>Largest background read from a method's raw JSON.</summary>
    public const int MaxScores = 1_000_000;

    public static Background? For(string methodId, JsonObject? raw)
    {
        if (methodId == "pdf")
        {
            var pdf = PdfBackground.Published;
            return new Background(pdf.Unrelated, pdf.Related, PdfBackground.Citation, "unrelated pairs", "related pairs");
        }

        if (raw?["background_scores"] is not JsonArray scores) return null;
        var unrelated = Numbers(scores);
        if (unrelated.Count == 0) return null;
        var related = raw["background_related_scores"] is JsonArray r ? Numbers(r) : null;
        string source = raw["background_source"] is JsonValue s && s.TryGetValue(out string? text) ? text : "reported by the method";
        return new Background(unrelated, related is { Count: > 0 } ? related : null, source, "background (unrelated / null)", "related pairs");
    }

    private static List<double> Numbers(JsonArray a)
    {
        var list = new List<double>(Math.Min(a.Count, MaxScores));
        foreach (var n in a)
        {
            if (list.Count >= MaxScores) break;
            if (n is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d)) list.Add(d);
        }

        list.Sort();
        return list;
    }
}
