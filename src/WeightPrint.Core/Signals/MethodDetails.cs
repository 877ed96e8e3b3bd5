namespace WeightPrint.Signals;

/// <summary>
/// The method-specific part of a <see cref="MethodResult"/> (curves, samples, seeds, per-layer and per-tensor values):
/// one record type per method, in the method's namespace. The JSON contract writes it under <c>raw</c>; numbers that
/// are NaN or ±Infinity there are written as <c>null</c>, like everywhere else in the document.
/// </summary>
public abstract record MethodDetails
{
    /// <summary>Scores of unrelated pairs, or a sample of the method's null distribution, to draw the observed score
    /// against in reports (JSON <c>raw.background_scores</c>); null when the method has none.</summary>
    public IReadOnlyList<double>? BackgroundScores { get; init; }

    /// <summary>Scores of known related pairs for the same plot (JSON <c>raw.background_related_scores</c>), optional.</summary>
    public IReadOnlyList<double>? BackgroundRelatedScores { get; init; }

    /// <summary>Where <see cref="BackgroundScores"/> come from (JSON <c>raw.background_source</c>), optional.</summary>
    public string? BackgroundSource { get; init; }
}
