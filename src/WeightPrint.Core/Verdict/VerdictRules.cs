using System.Globalization;
using WeightPrint.Signals;

namespace WeightPrint.Verdict;

/// <summary>
/// Turns method results into a verdict. Null hypothesis throughout: the two models were trained from independent
/// random initialisations.
/// <list type="bullet">
/// <item><b>derived</b>: identical weights, or at least one non-trivial tensor of B holding A's values exactly
/// (bit for bit, transposed or permuted: <see cref="SharedTensors"/>), or some method's p-value rejects independence at α = <see cref="Alpha"/>
/// after Bonferroni correction over the methods that report p-values, and no invariant method
/// (<see cref="InvariantMethods"/>) contradicts it by placing the pair inside the unrelated background.</item>
/// <item><b>independent</b>: at least one test ran, every test has p &gt; <see cref="IndependenceLevel"/>, and every
/// invariant score sits inside the unrelated background (percentile ≤ <see cref="BackgroundUpper"/>).</item>
/// <item><b>inconclusive</b>: anything else — including descriptive methods alone (pdf), weak but not decisive
/// p-values, or a rejection contradicted by an invariant method.</item>
/// </list>
/// The reason is one sentence naming the deciding evidence.
/// </summary>
public static class VerdictRules
{
    /// <summary>Family-wise significance level for "derived".</summary>
    public const double Alpha = 1e-3;

    /// <summary>Every test must exceed this p-value for "independent".</summary>
    public const double IndependenceLevel = 0.05;

    /// <summary>Background percentile above which an invariant score counts as outside the unrelated background.</summary>
    public const double BackgroundUpper = 95;

    /// <summary>Methods invariant to residual rotations, permutations and attention rescaling: their "nothing beyond
    /// the background" contradicts a rejection, and their background placement gates "independent".</summary>
    public static IReadOnlySet<string> InvariantMethods { get; } = new HashSet<string>(StringComparer.Ordinal) { "cka", "spectral" };

    /// <summary>Tests whose null is simulated rather than exact (spectral's background is untrained Gaussian heads,
    /// and trained independent heads need not look like it): they count in the Bonferroni set and can agree with a
    /// rejection, but cannot call a pair derived on their own.</summary>
    public static IReadOnlySet<string> SupportingTests { get; } = new HashSet<string>(StringComparer.Ordinal) { "spectral" };

    public static Verdict Decide(IReadOnlyList<MethodResult> results, bool identicalWeights, SharedTensors? sharedTensors = null)
    {
        if (identicalWeights) return new Verdict(Verdict.Derived, "identical weights");
        if (sharedTensors is { Matches.Count: > 0 }) return new Verdict(Verdict.Derived, sharedTensors.Sentence());
        var ok = results.Where(r => r.Status == MethodStatus.Ok).ToList();
        if (ok.Count == 0) return new Verdict(Verdict.Inconclusive, "no method applied to this pair" + NotApplicableSuffix(results) + ".");
        var tests = ok.Where(r => r.PValue is double p && !double.IsNaN(p)).ToList();
        if (tests.Count == 0)
            return new Verdict(Verdict.Inconclusive, $"no applicable method gives a p-value ({string.Join(", ", ok.Select(r => r.Id))} {(ok.Count == 1 ? "is" : "are")} descriptive), so independence cannot be tested.");

        double threshold = Alpha / tests.Count;
        string alphaText = tests.Count == 1 ? $"α = {Fmt(Alpha)}" : $"α = {Fmt(Alpha)}/{tests.Count} (Bonferroni over {tests.Count} tests)";
        var rejecting = tests.Where(r => r.PValue!.Value < threshold).OrderBy(r => SupportingTests.Contains(r.Id)).ThenBy(r => r.PValue!.Value).ToList();
        if (rejecting.Count > 0 && SupportingTests.Contains(rejecting[0].Id))
        {
            var exact = tests.Where(r => !SupportingTests.Contains(r.Id)).ToList();
            string others = exact.Count == 0 ? "no exact test applied" : $"the exact {(exact.Count == 1 ? "test does" : "tests do")} not ({string.Join(", ", exact.Select(r => $"{r.Id} {P(r.PValue!.Value)}"))})";
            return new Verdict(Verdict.Inconclusive,
                $"only {string.Join(" and ", rejecting.Select(r => $"{r.Id} ({P(r.PValue!.Value)})"))} rejects independence, against a simulated null of untrained weights, and {others}.");
        }

        if (rejecting.Count > 0)
        {
            var decider = rejecting[0];
            var contradicting = ok.Where(r => InvariantMethods.Contains(r.Id) && r.Evidence == Evidence.Independent && !rejecting.Contains(r)).ToList();
            string support = rejecting.Count > 1 ? $", with {string.Join(" and ", rejecting.Skip(1).Select(r => $"{r.Id} ({P(r.PValue!.Value)})"))} agreeing" : "";
            if (contradicting.Count == 0)
                return new Verdict(Verdict.Derived, $"{decider.Id} rejects independent initialisation ({P(decider.PValue!.Value)} < {alphaText}){support}.");
            return new Verdict(Verdict.Inconclusive,
                $"{decider.Id} rejects independent initialisation ({P(decider.PValue!.Value)}) but {string.Join(" and ", contradicting.Select(r => r.Id))} {(contradicting.Count == 1 ? "finds" : "find")} nothing beyond the unrelated background, so the evidence is inconsistent.");
        }

        var smallest = tests.OrderBy(r => r.PValue!.Value).First();
        var invariant = ok.Where(r => InvariantMethods.Contains(r.Id) && r.BackgroundPercentile is double q && !double.IsNaN(q)).ToList();
        var outside = invariant.Where(r => r.BackgroundPercentile!.Value > BackgroundUpper).OrderByDescending(r => r.BackgroundPercentile!.Value).ToList();
        if (smallest.PValue!.Value <= IndependenceLevel)
            return new Verdict(Verdict.Inconclusive,
                $"{smallest.Id} gives {P(smallest.PValue.Value)}: below {Fmt(IndependenceLevel)} but not below {alphaText}, which is neither a rejection nor a clean pass.");
        if (outside.Count > 0)
        {
            var o = outside[0];
            return new Verdict(Verdict.Inconclusive,
                $"no test rejects independence (smallest {P(smallest.PValue.Value)} from {smallest.Id}) but {o.Id}'s score {Fmt(o.Score)} sits at the {Percent(o.BackgroundPercentile!.Value)} percentile of the unrelated background.");
        }

        string invariantText = invariant.Count == 0
            ? "no invariant method (cka, spectral) applied, so hidden permutations or rotations were not checked"
            : $"{string.Join(" and ", invariant.Select(r => $"{r.Id} ({Percent(r.BackgroundPercentile!.Value)} percentile)"))} {(invariant.Count == 1 ? "sits" : "sit")} inside the unrelated background";
        return new Verdict(Verdict.Independent,
            $"no test rejects independence (every p > {Fmt(IndependenceLevel)}, smallest {Fmt(smallest.PValue.Value)} from {smallest.Id}) and {invariantText}.");
    }

    private static string NotApplicableSuffix(IReadOnlyList<MethodResult> results)
    {
        var first = results.FirstOrDefault(r => r.Status == MethodStatus.NotApplicable && !string.IsNullOrEmpty(r.Reason));
        return first == null ? "" : $" ({first.Id}: {first.Reason})";
    }

    private static string P(double p) => Statistics.PValueText.Equation(p, Fmt);

    private static string Fmt(double x) => x.ToString(x != 0 && Math.Abs(x) < 1e-3 ? "0.##E+0" : "0.###", CultureInfo.InvariantCulture);

    /// <summary>A percentile on the 0–100 scale as an ordinal ("70th", "99.9th").</summary>
    private static string Percent(double q)
    {
        double p = Math.Round(q, q > 99 && q < 100 ? 1 : 0);
        string text = p.ToString("0.#", CultureInfo.InvariantCulture);
        if (p != Math.Floor(p)) return text + "th";
        long n = (long)p;
        string suffix = (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return text + suffix;
    }
}
