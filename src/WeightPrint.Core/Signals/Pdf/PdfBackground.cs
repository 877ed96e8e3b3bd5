using System.Text.Json;

namespace WeightPrint.Signals.Pdf;

/// <summary>
/// The published background of the PDF statistic: MDGBench's similarities for 8,698 unrelated and 618 related
/// pairs of real models (TensorLock/TensorLock, commit d2562ed5; see Resources/README.md). Shipped as an
/// embedded resource.
/// </summary>
internal sealed class PdfBackground
{
    public const string Citation = "MDGBench (TensorLock/TensorLock@d2562ed5, evaluation/RQ4_effectiveness/cluster/pdf_similarity.csv): 8,698 unrelated and 618 related pairs of 137 public models";

    private static readonly Lazy<PdfBackground> Instance = new(Load);

    private PdfBackground(double[] unrelated, double[] related)
    {
        Unrelated = unrelated;
        Related = related;
    }

    public static PdfBackground Published => Instance.Value;

    /// <summary>Scores of unrelated pairs, sorted ascending.</summary>
    public IReadOnlyList<double> Unrelated { get; }

    /// <summary>Scores of related pairs, sorted ascending.</summary>
    public IReadOnlyList<double> Related { get; }

    /// <summary>Percentage of unrelated pairs scoring at or below <paramref name="score"/> (null when undefined).</summary>
    public double? UnrelatedPercentile(double score) => Percentile(Unrelated, score);

    public double? RelatedPercentile(double score) => Percentile(Related, score);

    public static double? Percentile(IReadOnlyList<double> sorted, double score)
    {
        if (!double.IsFinite(score) || sorted.Count == 0) return null;
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid] <= score) lo = mid + 1; else hi = mid;
        }

        return 100.0 * lo / sorted.Count;
    }

    /// <summary>The q-quantile (0..1) of a sorted list, linear interpolation.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int i = (int)Math.Floor(pos);
        if (i >= sorted.Count - 1) return sorted[^1];
        return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
    }

    private static PdfBackground Load()
    {
        using var stream = typeof(PdfBackground).Assembly.GetManifestResourceStream("pdf-background-mdgbench.json")
            ?? throw new InvalidOperationException("embedded resource pdf-background-mdgbench.json is missing");
        using var doc = JsonDocument.Parse(stream);
        var unrelated = new List<double>();
        var related = new List<double>();
        foreach (var pair in doc.RootElement.GetProperty("pairs").EnumerateArray())
        {
            if (!pair.TryGetProperty("pdf", out var v) || v.ValueKind != JsonValueKind.Number) continue;
            (pair.GetProperty("related").GetBoolean() ? related : unrelated).Add(v.GetDouble());
        }

        unrelated.Sort();
        related.Sort();
        return new PdfBackground([.. unrelated], [.. related]);
    }
}
