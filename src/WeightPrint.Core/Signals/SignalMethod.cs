using System.Text.Json;
using System.Text.Json.Nodes;
using WeightPrint.IO;
using WeightPrint.Model;

namespace WeightPrint.Signals;

/// <summary>
/// One similarity method (pdf, pcs, neuron-match, cka, spectral, layers). A method may extract a compact
/// per-model signature (saved in fingerprint files) or need both models' weights (pairwise methods).
/// </summary>
internal abstract class SignalMethod
{
    /// <summary>Stable id used by <c>--methods</c> and JSON ("pdf", "pcs", …).</summary>
    public abstract string Id { get; }

    /// <summary>One sentence: what the statistic measures.</summary>
    public abstract string Description { get; }

    /// <summary>How the method's null distribution / p-value is obtained ("none: descriptive" when it has none).</summary>
    public abstract string NullDescription { get; }

    /// <summary>Known failure modes, for the report's methods section.</summary>
    public virtual string FailureModes => "";

    /// <summary>What kind of null this method's p-value has; the verdict reads it (exact kinds may decide alone).</summary>
    public virtual NullKind NullKind => NullKind.None;

    /// <summary>Transforms of model B that leave this method's score unchanged (for the methods table and reports).</summary>
    public virtual IReadOnlyList<string> Invariances => [];

    /// <summary>True when the method's signature can be saved in a fingerprint file and compared without weights.</summary>
    public virtual bool HasSignature => false;

    /// <summary>True when the score is a similarity on the 0–1 scale (1 = alike), so models can be clustered on
    /// 1 − score and plotted on a fixed 0–1 colour scale; false for other quantities (a contrast, a count).</summary>
    public virtual bool ScoreIsSimilarity => true;

    /// <summary>Bytes that <see cref="ExtractSignature"/> reads from <paramref name="model"/> (what it reports to
    /// <see cref="MethodContext.Progress"/>), for progress bars. By default every layer tensor's bytes.</summary>
    public virtual long SignatureBytes(ModelView model) => LayerBytes(model);

    /// <summary>Bytes behind a model's layer tensors (experts included), counting each view's sources.</summary>
    public static long LayerBytes(ModelView model)
    {
        long total = 0;
        foreach (var layer in model.Layers)
        {
            foreach (var t in layer.Tensors.Values) total = checked(total + TensorBytes(t));
            foreach (var e in layer.Experts)
            {
                foreach (var t in e.Tensors.Values) total = checked(total + TensorBytes(t));
            }
        }

        return total;
    }

    /// <summary>Bytes behind a view: its sources' stored bytes (a fused tensor's whole size for each of its slices).</summary>
    public static long TensorBytes(TensorView view) => view.Sources.Sum(s => s.ByteLength);

    /// <summary><see cref="ExtractSignature"/> as a progress step named after the method, of
    /// <see cref="SignatureBytes"/> bytes: what callers use.</summary>
    public JsonObject Extract(ModelView model, MethodContext context)
    {
        context.Progress?.Begin(Id, SignatureBytes(model));
        return ExtractSignature(model, context);
    }

    /// <summary>Extracts this method's per-model signature as JSON (only when <see cref="HasSignature"/>).</summary>
    public virtual JsonObject ExtractSignature(ModelView model, MethodContext context)
        => throw new NotSupportedException($"method {Id} compares weights pairwise and has no per-model signature");

    /// <summary>Compares two inputs. Returns a result with <see cref="MethodStatus.NotApplicable"/> and a reason
    /// (never throws) when the inputs lack what the method needs.</summary>
    public abstract MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context);

    /// <summary>Compares two inputs given the results of the methods that ran before on the same pair (a method that
    /// builds on others, such as <c>layers</c>, reuses them instead of running them again).</summary>
    public virtual MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context, IReadOnlyList<MethodResult> earlier) => Compare(a, b, context);

    /// <summary>
    /// <see cref="Compare(ComparisonInput, ComparisonInput, MethodContext)"/>, for callers: a signature read from a fingerprint file is untrusted input, so when
    /// decoding one fails (a missing field, a wrong type, an array of the wrong shape) the failure becomes an
    /// <see cref="InvalidModelFileException"/> naming the file and the method, whatever the method's decoder
    /// threw. Methods therefore read saved signatures with plain accessors and need no checks of their own. A method
    /// that needs rows a fingerprint's sample does not hold is "not applicable", with the reason.
    /// </summary>
    public MethodResult CompareInputs(ComparisonInput a, ComparisonInput b, MethodContext context, IReadOnlyList<MethodResult>? earlier = null)
    {
        try
        {
            // The step is named even when the method reports no size (it reads nothing, or nothing it can count).
            context.Progress?.Begin(Id, 0);
            return Compare(a, b, context, earlier ?? []);
        }
        catch (SampleNotStoredException e)
        {
            // A fingerprint holds sampled rows only: a method that needs others does not apply, whoever calls it
            // (the runner, or layers re-running a method).
            return NotApplicable(e.Message);
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(x => x is SampleNotStoredException))
        {
            // The same, raised on worker threads (a fingerprint without this method's signature, read in parallel).
            return NotApplicable(inner[0].Message);
        }
        catch (Exception e) when (e is not InvalidModelFileException and not OperationCanceledException and not OutOfMemoryException
            && (a.Signatures.ContainsKey(Id) || b.Signatures.ContainsKey(Id)))
        {
            var file = a.Signatures.ContainsKey(Id) ? a : b;
            var cause = e is AggregateException { InnerExceptions.Count: > 0 } agg ? agg.InnerExceptions[0] : e;
            // Decoders' own messages explain the damage; a runtime exception's (a null reference) only leaks .NET.
            string detail = cause is FormatException ? ": " + cause.Message : "";
            throw new InvalidModelFileException(file.Label, $"malformed fingerprint: the saved {Id} signature lacks a field or has one of the wrong type{detail}", e);
        }
    }

    /// <summary>The signature of an input: from its fingerprint file when present, else extracted from its weights.</summary>
    protected JsonObject? SignatureOf(ComparisonInput input, MethodContext context)
    {
        if (input.Signatures.TryGetValue(Id, out var saved)) return saved;
        if (input.View == null || input.IsFingerprint) return null;
        return input.CachedSignature(Id, () => Extract(input.View, context));
    }

    protected MethodResult NotApplicable(string reason) => new() { Id = Id, Status = MethodStatus.NotApplicable, Reason = reason, NullDescription = NullDescription, NullKind = NullKind };
}

/// <summary>One side of a comparison: a model's weights, a fingerprint file's signatures, or both.</summary>
internal sealed class ComparisonInput(string label, ModelView? view, IReadOnlyDictionary<string, JsonObject>? signatures = null)
{
    private readonly OnceCache<string, JsonObject> _cache = new();

    /// <summary>Path or name shown to the user.</summary>
    public string Label { get; } = label;

    /// <summary>The model's canonical view; null when only a fingerprint file was given.</summary>
    public ModelView? View { get; } = view;

    /// <summary>True when the input is a fingerprint file: <see cref="View"/> (when not null) then holds only the
    /// fingerprint's sampled rows, and signatures are never extracted from it.</summary>
    public bool IsFingerprint { get; init; }

    /// <summary>Signatures read from a fingerprint file, by method id.</summary>
    public IReadOnlyDictionary<string, JsonObject> Signatures { get; } = signatures ?? new Dictionary<string, JsonObject>();

    /// <summary>Extracts a signature once per input (matrix runs compare each model with many others).</summary>
    public JsonObject CachedSignature(string id, Func<JsonObject> extract) => _cache.GetOrAdd(id, extract); // once, even when comparisons run side by side on this input (identify)
}

/// <summary>Options shared by all methods.</summary>
internal sealed class MethodContext
{
    /// <summary>Seed for every sampled or permuted quantity (same inputs + seed = same output bytes).</summary>
    public int Seed { get; init; } = 20250701;

    /// <summary>Permutations for permutation tests.</summary>
    public int Permutations { get; init; } = 999;

    /// <summary>Degree of parallelism for reading tensors.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Receives progress (steps and the tensors, layers or bytes done in each) when set.</summary>
    public IWorkProgress? Progress { get; init; }

    /// <summary>Stops a comparison between methods when cancelled.</summary>
    public CancellationToken Cancellation { get; init; }
}

/// <summary>Whether a method ran on a pair.</summary>
public enum MethodStatus
{
    /// <summary>The method ran; its score and p-value are set.</summary>
    Ok,
    /// <summary>The inputs lack what the method needs; the reason says what.</summary>
    NotApplicable,
}

/// <summary>One per-layer entry: the layer of each model (equal unless depths differ) and its score / p-value.</summary>
public sealed record LayerScore(int LayerA, int LayerB, double Score, double? PValue = null);

/// <summary>What one method concluded about one pair.</summary>
public sealed class MethodResult
{
    /// <summary>The method's stable id (<c>pdf</c>, <c>pcs</c>, <c>neuron-match</c> …).</summary>
    public required string Id { get; init; }

    /// <summary>Whether the method ran on this pair.</summary>
    public MethodStatus Status { get; init; } = MethodStatus.Ok;

    /// <summary>Why the method did not apply (NotApplicable), or a caveat.</summary>
    public string? Reason { get; init; }

    /// <summary>The headline statistic (NaN when undefined).</summary>
    public double Score { get; init; } = double.NaN;

    /// <summary>p-value under the stated null; null for descriptive methods.</summary>
    public double? PValue { get; init; }

    /// <summary>How the null was obtained.</summary>
    public required string NullDescription { get; init; }

    /// <summary>The kind of null behind <see cref="PValue"/> (the method's <see cref="SignalMethod.NullKind"/>).</summary>
    public NullKind NullKind { get; init; } = NullKind.None;

    /// <summary>Tests of one part of the models (attention or MLP of a layer pair, embeddings), for the verdict's per-part evidence.</summary>
    public IReadOnlyList<PartTest> Parts { get; init; } = [];

    /// <summary>The residual-stream transform found between B and A ("identity", "permutation", "signed permutation",
    /// "orthogonal", optionally "+ scaling"), or null when the method did not look for one or none was accepted.</summary>
    public string? Transform { get; init; }

    /// <summary>Percentile of <see cref="Score"/> among unrelated model pairs, when a background exists.</summary>
    public double? BackgroundPercentile { get; init; }

    /// <summary>Scores per tensor kind or curve (pdf: "q", "k", "v", "o"); NaN = undefined.</summary>
    public IReadOnlyDictionary<string, double> PerCurve { get; init; } = new Dictionary<string, double>();

    /// <summary>Per-layer scores (empty when the method has none).</summary>
    public IReadOnlyList<LayerScore> PerLayer { get; init; } = [];

    /// <summary>Layer × layer similarity (rows: model A's layers, columns: model B's), for localisation.</summary>
    public double[][]? LayerMatrix { get; init; }

    /// <summary>Method-specific details (curves, per-tensor values, samples, seeds): a <see cref="MethodDetails"/> record of
    /// the method's own type (<c>PdfDetails</c>, <c>PcsDetails</c> …), written under "raw" in JSON; null when the method
    /// did not run (or reports none).</summary>
    public MethodDetails? Details { get; init; }

    /// <summary>What the method's effect says about lineage, for the verdict's consistency check.</summary>
    public Evidence Evidence { get; init; } = Evidence.None;

    /// <summary>One human sentence summarising the result.</summary>
    public string Summary { get; init; } = "";

    /// <summary>This result with its p-values (the method's and each part's) multiplied by <paramref name="factor"/>
    /// (capped at 1; a p-value at the floor stands for "below the floor" and stays), every other field kept: a
    /// Bonferroni adjustment, as <c>identify</c> makes over the catalog entries it tests.</summary>
    internal MethodResult MultiplyPValues(int factor)
    {
        double Adjust(double p) => double.IsNaN(p) || Statistics.PValueText.AtFloor(p) ? p : Math.Min(1, p * factor);
        return new MethodResult
        {
            Id = Id, Status = Status, Reason = Reason, Score = Score, PValue = PValue is double p ? Adjust(p) : null, NullDescription = NullDescription,
            NullKind = NullKind, Parts = Parts.Select(t => t with { PValue = Adjust(t.PValue) }).ToList(), Transform = Transform,
            BackgroundPercentile = BackgroundPercentile, PerCurve = PerCurve, PerLayer = PerLayer, LayerMatrix = LayerMatrix, Details = Details,
            Evidence = Evidence, Summary = Summary,
        };
    }
}

/// <summary>The kind of null distribution behind a method's p-value.</summary>
public enum NullKind
{
    /// <summary>No p-value: descriptive.</summary>
    None,

    /// <summary>Exact under "independent initialisations" by a symmetry of the independent model's distribution
    /// (permutations or sign flips of residual dimensions, neurons, heads), whatever the training did: may decide alone.</summary>
    ExactPermutation,

    /// <summary>A permutation null whose exchangeability is an assumption about trained models (not a symmetry of
    /// training), checked on labelled independent pairs: counts for "independent" and supports, never decides alone.</summary>
    Calibrated,

    /// <summary>Simulated from an idealised model (e.g. untrained Gaussian weights): supports only.</summary>
    Simulated,
}

/// <summary>Evidence levels shared by the methods (each result's <see cref="Evidence"/>) and the verdict.</summary>
internal static class EvidenceLevels
{
    /// <summary>Family-wise significance level for "derived" (before Bonferroni over the tests that ran).</summary>
    public const double Derived = 1e-3;

    /// <summary>Bonferroni-adjusted smallest p-value above which the tests pass ("independent").</summary>
    public const double Independent = 0.05;

    /// <summary>The evidence direction of a p-value.</summary>
    public static Evidence Of(double p) => p < Derived ? Evidence.Derived : p > Independent ? Evidence.Independent : Evidence.Unclear;
}

/// <summary>One part of the models tested on its own: <paramref name="Part"/> is "attention", "mlp", "experts" or
/// "embeddings"; layers are block positions (−1 for model-level parts).</summary>
public sealed record PartTest(string Part, int LayerA, int LayerB, double Score, double PValue, string Method);

/// <summary>The direction a method's effect points.</summary>
public enum Evidence
{
    /// <summary>Descriptive only, or not applicable.</summary>
    None,
    /// <summary>The method's evidence says derived.</summary>
    Derived,
    /// <summary>The method's evidence says independent.</summary>
    Independent,
    /// <summary>The method ran but its evidence decides nothing.</summary>
    Unclear,
}

/// <summary>JSON helpers for signatures, and the one policy for numbers JSON cannot hold: NaN and ±Infinity are
/// written as <c>null</c> (<see cref="Number"/> for one value, <see cref="FiniteOnly"/> for a whole tree).</summary>
internal static class SignatureJson
{
    /// <summary>The value, or null (JSON null) when it is NaN or ±Infinity.</summary>
    public static JsonValue? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    public static JsonArray ToArray(IEnumerable<double> values)
    {
        var a = new JsonArray();
        foreach (var v in values) a.Add((JsonNode?)Number(v));
        return a;
    }

    /// <summary>Replaces, in place, every NaN or ±Infinity number in the tree by null; returns the tree.</summary>
    public static JsonNode? FiniteOnly(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).ToList())
                {
                    if (IsNonFinite(o[key])) o[key] = null;
                    else FiniteOnly(o[key]);
                }

                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    if (IsNonFinite(a[i])) a[i] = null;
                    else FiniteOnly(a[i]);
                }

                break;
        }

        return node;
    }

    /// <summary>True for a JSON number that is NaN or ±Infinity (which JSON text cannot hold).</summary>
    public static bool IsNonFinite(JsonNode? node) =>
        node is JsonValue v && node.GetValueKind() == System.Text.Json.JsonValueKind.Number
        && (v.TryGetValue(out double d) ? !double.IsFinite(d) : v.TryGetValue(out float f) && !float.IsFinite(f));

    public static double[] ReadDoubles(JsonNode? node)
    {
        if (node is not JsonArray a) throw new FormatException("expected an array of numbers");
        var result = new double[a.Count];
        for (int i = 0; i < a.Count; i++) result[i] = a[i] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN;
        return result;
    }

    public static JsonObject Parse(JsonElement element) => JsonNode.Parse(element.GetRawText()) as JsonObject ?? throw new FormatException("expected an object");
}
