namespace WeightPrint.Verdict;

/// <summary>The answer: "derived", "independent" or "inconclusive", with one sentence naming the deciding evidence.</summary>
public sealed record Verdict(string Label, string Reason)
{
    /// <summary>The label of a pair in which B was made from A's weights (or both from common ones).</summary>
    public const string Derived = "derived";
    /// <summary>The label of a pair whose applicable exact tests all pass and had power.</summary>
    public const string Independent = "independent";
    /// <summary>The label of a pair the evidence does not decide (the reason says why).</summary>
    public const string Inconclusive = "inconclusive";
}
