namespace WeightPrint.Verdict;

/// <summary>The answer: "derived", "independent" or "inconclusive", with one sentence naming the deciding evidence.</summary>
public sealed record Verdict(string Label, string Reason)
{
    public const string Derived = "derived";
    public const string Independent = "independent";
    public const string Inconclusive = "inconclusive";
}
