using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Signals;
using WeightPrint.Verdict;

namespace WeightPrint.Catalog;

/// <summary>One catalog entry that reached the exact tests: its prefilter score, the comparison (entry as A, suspect
/// as B) and the verdict after Bonferroni over the entries tested.</summary>
internal sealed record IdentifyCandidate(CatalogEntry Entry, double PrefilterScore, ComparisonResult Comparison, Verdict.Verdict Verdict);

/// <summary>What <c>identify</c> found.</summary>
internal sealed record IdentifyResult(long Entries, long Compatible, IReadOnlyList<IdentifyCandidate> Candidates)
{
    public int Tested => Candidates.Count;

    /// <summary>The best match: the first candidate called derived (candidates are ordered by evidence), else null.</summary>
    public IdentifyCandidate? Best => Candidates.Count > 0 && Candidates[0].Verdict.Label == Verdict.Verdict.Derived ? Candidates[0] : null;
}

/// <summary>
/// <c>identify</c>: which catalog entry is MODEL derived from. (1) A prefilter streams every entry once: entries whose
/// hidden size differs from the suspect's are left out (architecture compatibility is a filter, never evidence: pcs
/// and neuron-match need equal residual widths), the others are ranked by the cosine of their <see cref="Sketch"/>
/// with the suspect's, keeping only the best <c>top</c> (memory bounded by <c>top</c>, whatever the catalog's size).
/// (2) The exact tests run on those candidates, entry as model A and the suspect as model B; each p-value is
/// multiplied by the number of entries tested (Bonferroni) before the usual verdict rules decide.
/// </summary>
internal static class Identify
{
    public static IdentifyResult Run(CatalogStore store, OpenedInput suspect, Fingerprint suspectFingerprint, int top, IReadOnlyList<SignalMethod> methods,
        MethodContext context)
    {
        var (entries, compatible, shortlist) = Prefilter(store.Entries(), suspectFingerprint, top);
        int tested = shortlist.Count;
        // The candidates' comparisons are independent: they run side by side, one per thread (a comparison spends much
        // of its time on one thread at a time, so this is where the second core pays), reading the catalog one at a
        // time; each may still spread its own work over every thread, so the last one left has the machine to itself.
        // Results are the same bytes whatever the threads (each method's are).
        int workers = Math.Clamp(context.Threads, 1, Math.Max(1, tested));
        var each = new MethodContext
        {
            Seed = context.Seed,
            Permutations = context.Permutations,
            Threads = context.Threads,
            Cancellation = context.Cancellation,
            Progress = workers == 1 ? context.Progress : null,
        };
        var results = new IdentifyCandidate[tested];
        var gate = new Lock();
        if (workers > 1) context.Progress?.Begin("comparing with the candidates", tested, "candidates");
        // A candidate's error arrives wrapped in an AggregateException; the CLI reports its first cause.
        Parallel.For(0, tested, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = context.Cancellation }, i =>
        {
            var (entry, score) = shortlist[i];
            Fingerprint fp;
            lock (gate) fp = store.LoadFingerprint(entry);
            using var input = OpenedInput.Of(fp, "catalog:" + entry.Name);
            var result = ComparisonRunner.Run(input, suspect, methods, each);
            results[i] = new IdentifyCandidate(entry, score, result, Adjusted(result.Methods, tested));
            if (workers > 1)
            {
                lock (gate) context.Progress?.Advance(1);
            }
        });

        var ordered = results.OrderBy(c => Rank(c.Verdict.Label)).ThenBy(c => SmallestP(c.Comparison.Methods)).ThenByDescending(c => c.PrefilterScore).ToList();
        return new IdentifyResult(entries, compatible, ordered);
    }

    /// <summary>One pass over the entries: the compatible ones ranked by sketch cosine, the best <paramref name="top"/> kept.</summary>
    public static (long Entries, long Compatible, List<(CatalogEntry Entry, double Score)> Shortlist) Prefilter(IEnumerable<CatalogEntry> entries, Fingerprint suspect, int top)
    {
        var sketch = Sketch.Of(suspect);
        int hidden = suspect.Model.Geometry?.HiddenSize ?? 0;
        var heap = new PriorityQueue<(CatalogEntry Entry, double Score), (double Score, long NegId)>();
        long count = 0, compatible = 0;
        foreach (var e in entries)
        {
            count++;
            if (hidden > 0 && e.HiddenSize > 0 && e.HiddenSize != hidden) continue;
            compatible++;
            double s = Sketch.Similarity(sketch, e.Sketch);
            double key = double.IsNaN(s) ? double.NegativeInfinity : s;
            // Keep the top entries; on equal scores the earlier entry wins (deterministic).
            var item = (e with { Sketch = [] }, s);
            if (heap.Count < top) heap.Enqueue(item, (key, -e.Id));
            else if (heap.TryPeek(out _, out var worst) && (key, -e.Id).CompareTo(worst) > 0) heap.EnqueueDequeue(item, (key, -e.Id));
        }

        var list = new List<(CatalogEntry, double)>();
        while (heap.TryDequeue(out var x, out _)) list.Add(x);
        list.Reverse();
        return (count, compatible, list);
    }

    /// <summary>The verdict with each p-value multiplied by the number of entries tested. An "independent" verdict
    /// additionally needs the unadjusted p-values to allow it (adjusting up must not make independence easier).</summary>
    public static Verdict.Verdict Adjusted(IReadOnlyList<MethodResult> results, int tested)
    {
        int k = Math.Max(1, tested);
        var adjusted = results.Select(r => r.MultiplyPValues(k)).ToList();
        var v = VerdictRules.Decide(adjusted, false);
        string note = k == 1 ? "" : $" (p-values multiplied by {k}: Bonferroni over the {k} catalog entries tested)";
        if (v.Label == Verdict.Verdict.Independent && VerdictRules.Decide(results, false) is { Label: not Verdict.Verdict.Independent } raw)
            return new Verdict.Verdict(Verdict.Verdict.Inconclusive, raw.Reason);
        return new Verdict.Verdict(v.Label, v.Reason.TrimEnd('.') + note + ".");
    }

    private static int Rank(string label) => label switch
    {
        Verdict.Verdict.Derived => 0,
        Verdict.Verdict.Inconclusive => 1,
        _ => 2,
    };

    private static double SmallestP(IReadOnlyList<MethodResult> results)
        => results.Where(r => r.PValue is double p && !double.IsNaN(p)).Select(r => r.PValue!.Value).DefaultIfEmpty(1).Min();

    /// <summary>The JSON document of <c>identify --json</c>.</summary>
    public static JsonObject ToJson(IdentifyResult r, ModelSummary suspect, int seed, string catalog)
    {
        var candidates = new JsonArray();
        foreach (var c in r.Candidates)
        {
            var doc = ComparisonJson.ToJson(c.Comparison);
            candidates.Add((JsonNode)new JsonObject
            {
                ["name"] = c.Entry.Name,
                ["note"] = c.Entry.Note,
                ["source"] = c.Entry.Source,
                ["prefilter_score"] = double.IsFinite(c.PrefilterScore) ? c.PrefilterScore : null,
                ["verdict"] = new JsonObject { ["label"] = c.Verdict.Label, ["reason"] = c.Verdict.Reason },
                ["methods"] = doc["methods"]!.DeepClone(),
                ["models"] = doc["models"]!.DeepClone(),
            });
        }

        return new JsonObject
        {
            ["schema_version"] = 1,
            ["tool"] = "weightprint",
            ["kind"] = "identify",
            ["seed"] = seed,
            ["model"] = FingerprintFile.ModelJson(suspect),
            ["catalog"] = new JsonObject { ["location"] = catalog, ["entries"] = r.Entries, ["compatible"] = r.Compatible, ["tested"] = r.Tested },
            ["best"] = r.Best is { } b ? new JsonObject { ["name"] = b.Entry.Name, ["label"] = b.Verdict.Label, ["reason"] = b.Verdict.Reason } : null,
            ["candidates"] = candidates,
        };
    }
}
