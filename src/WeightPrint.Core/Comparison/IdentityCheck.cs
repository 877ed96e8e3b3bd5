using System.Runtime.CompilerServices;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Verdict;

namespace WeightPrint.Comparison;

/// <summary>
/// Finds canonical tensors whose values are identical in two models (whatever the container: a llama2.c file and
/// its safetensors conversion hold identical weights), and, with fingerprints, the non-trivial tensors of B that
/// hold a tensor of A's values bit for bit, transposed, or with rows and/or columns permuted, whatever their
/// role or layer (<see cref="TensorFingerprint"/>: one streaming pass per tensor, memory bounded, cached per view so a
/// matrix reads each model once). Without fingerprints (Hub models, where they would fetch every weight) a few
/// sampled rows are compared first, and only tensors that agree there are read in full.
/// </summary>
public static class IdentityCheck
{
    /// <summary>Rows compared before a full read.</summary>
    public const int SampleRows = 3;

    /// <param name="Compared">Canonical tensors present in both models under the same key.</param>
    /// <param name="Identical">Of those, tensors with identical values.</param>
    /// <param name="OnlyInOne">Canonical tensors present in one model only.</param>
    /// <param name="Shared">Non-trivial tensors of B holding A's values exactly (null when fingerprints were not computed).</param>
    public sealed record Result(int Compared, int Identical, int OnlyInOne, SharedTensors? Shared = null)
    {
        /// <summary>True when every canonical tensor exists in both models with identical values.</summary>
        public bool AllIdentical => Compared > 0 && Identical == Compared && OnlyInOne == 0;
    }

    private static readonly ConditionalWeakTable<TensorView, TensorFingerprint> Cache = new();

    /// <summary>The fingerprint of a view, computed once per view.</summary>
    internal static TensorFingerprint FingerprintOf(TensorView view) => Cache.GetValue(view, TensorFingerprint.Of);

    /// <summary>The progress step of the check.</summary>
    internal const string Step = "identity";

    /// <param name="a">Model A.</param>
    /// <param name="b">Model B.</param>
    /// <param name="threads">Tensors read at once.</param>
    /// <param name="fingerprints">Fingerprint every tensor (one full read), or compare same-key tensors only.</param>
    /// <param name="progress">Receives the step: bytes fingerprinted, tensor by tensor (or tensor pairs compared).</param>
    internal static Result Run(ModelView a, ModelView b, int threads, bool fingerprints = true, IWorkProgress? progress = null)
    {
        var pa = Pairs(a);
        var pb = Pairs(b);
        DropTiedHead(pa, pb);
        DropTiedHead(pb, pa);
        var keys = pa.Keys.Intersect(pb.Keys).ToList();
        int onlyInOne = pa.Count + pb.Count - 2 * keys.Count;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        if (!fingerprints)
        {
            int identical = 0;
            progress?.Begin(Step, keys.Count, "tensors");
            Parallel.ForEach(keys, options, key =>
            {
                if (SameValues(pa[key], pb[key])) Interlocked.Increment(ref identical);
                progress?.Advance(1);
            });
            return new Result(keys.Count, identical, onlyInOne);
        }

        var views = pa.Values.Concat(pb.Values).Distinct().ToList();
        progress?.Begin(Step, views.Sum(SignalMethod.TensorBytes));
        Parallel.ForEach(views, options, v =>
        {
            FingerprintOf(v);
            progress?.Advance(SignalMethod.TensorBytes(v));
        });
        int same = keys.Count(k => FingerprintOf(pa[k]) is var x && FingerprintOf(pb[k]) is var y
            && x.Rows == y.Rows && x.Columns == y.Columns && x.Flat == y.Flat && x.Values == y.Values);
        return new Result(keys.Count, same, onlyInOne, Match(pa, pb));
    }

    /// <summary>For each non-trivial tensor of B, the tensor of A it holds exactly: the same key first, then the
    /// strongest relation (<see cref="SharedTensor.Relations"/>), then A's order.</summary>
    private static SharedTensors Match(Dictionary<string, TensorView> pa, Dictionary<string, TensorView> pb)
    {
        var index = new Dictionary<ulong, List<string>>();
        foreach (var (key, view) in pa)
        {
            var f = FingerprintOf(view);
            if (!f.NonTrivial) continue;
            if (!index.TryGetValue(f.Values, out var list)) index[f.Values] = list = [];
            list.Add(key);
        }

        var matches = new List<SharedTensor>();
        int nonTrivial = 0;
        foreach (var (keyB, viewB) in pb)
        {
            var fb = FingerprintOf(viewB);
            if (!fb.NonTrivial) continue;
            nonTrivial++;
            if (!index.TryGetValue(fb.Values, out var candidates)) continue;
            var best = candidates
                .Select(k => (Key: k, Relation: FingerprintOf(pa[k]).RelationTo(fb)))
                .Where(c => c.Relation != null)
                .OrderBy(c => c.Key == keyB ? 0 : 1).ThenBy(c => SharedTensor.Rank(c.Relation!))
                .FirstOrDefault();
            if (best.Relation == null) continue;
            var viewA = pa[best.Key];
            string? dtypes = viewA.DType == viewB.DType ? null : $"{viewA.DType} in A, {viewB.DType} in B";
            matches.Add(new SharedTensor(best.Key, viewA.Description, keyB, viewB.Description, best.Relation, viewB.ElementCount, dtypes));
        }

        return new SharedTensors(nonTrivial, matches);
    }

    /// <summary>True when two views hold bit-identical float values (after dtype conversion).</summary>
    internal static bool SameValues(TensorView x, TensorView y)
    {
        try
        {
            return SameValuesCore(x, y);
        }
        finally
        {
            // Bounded memory: a sampled row of a transposed view (GPT-2's Conv1D) touches one mapped page per stored row,
            // so without this the mapped pages of every tensor stay resident (351 MB for two 170 MB models).
            ReleasePages(x);
            ReleasePages(y);
        }
    }

    /// <summary>Lets the mapped pages of a view's source tensors leave the resident set (the page cache keeps them).</summary>
    private static void ReleasePages(TensorView view)
    {
        foreach (var t in view.Sources)
        {
            if (t.Source is WeightPrint.IO.IPageAdvice advice) advice.DontNeed(t.DataOffset, t.ByteLength);
        }
    }

    private static bool SameValuesCore(TensorView x, TensorView y)
    {
        if (x.Rows != y.Rows || x.Columns != y.Columns) return false;
        if (x.Rows == 0) return true;
        long[] sample = [0, x.Rows / 2, x.Rows - 1];
        var bx = new float[x.Columns];
        var by = new float[y.Columns];
        foreach (long r in sample.Distinct())
        {
            x.ReadRows(r, 1, bx);
            y.ReadRows(r, 1, by);
            if (!Bitwise(bx, by)) return false;
        }

        int rowsPerStep = (int)Math.Clamp((1 << 18) / Math.Max(1, x.Columns), 1, x.Rows);
        bx = new float[rowsPerStep * x.Columns];
        by = new float[rowsPerStep * x.Columns];
        for (long r = 0; r < x.Rows; r += rowsPerStep)
        {
            int n = (int)Math.Min(rowsPerStep, x.Rows - r);
            int len = (int)(n * x.Columns);
            x.ReadRows(r, n, bx.AsSpan(0, len));
            y.ReadRows(r, n, by.AsSpan(0, len));
            if (!Bitwise(bx.AsSpan(0, len), by.AsSpan(0, len))) return false;
        }

        return true;
    }

    private static bool Bitwise(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b));

    /// <summary>
    /// A model that stores its output head as an explicit copy of the embedding (tied weights saved twice) matches
    /// a model that stores it once: the copy is not counted as a tensor only one model has.
    /// </summary>
    private static void DropTiedHead(Dictionary<string, TensorView> model, Dictionary<string, TensorView> other)
    {
        string head = nameof(ModelRole.LmHead), embedding = nameof(ModelRole.Embedding);
        if (model.TryGetValue(head, out var h) && !other.ContainsKey(head) && model.TryGetValue(embedding, out var e) && SameValues(h, e))
            model.Remove(head);
    }

    private static Dictionary<string, TensorView> Pairs(ModelView v)
    {
        var d = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        foreach (var (role, t) in v.ModelTensors) d[role.ToString()] = t;
        foreach (var layer in v.Layers)
        {
            foreach (var (role, t) in layer.Tensors) d[$"{layer.Stack}.{layer.Index}.{role}"] = t;
            foreach (var e in layer.Experts)
            {
                foreach (var (role, t) in e.Tensors) d[$"{layer.Stack}.{layer.Index}.expert{(e.IsShared ? "s" : "")}{e.Index}.{role}"] = t;
            }
        }

        return d;
    }
}
