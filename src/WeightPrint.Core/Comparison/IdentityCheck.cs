using WeightPrint.Model;

namespace WeightPrint.Comparison;

/// <summary>
/// Finds canonical tensors whose values are identical in two models (whatever the container: a llama2.c file and
/// its safetensors conversion hold identical weights). Cheap for different models: a few sampled rows are
/// compared first, and only tensors that agree there are read in full.
/// </summary>
public static class IdentityCheck
{
    /// <summary>Rows compared before a full read.</summary>
    public const int SampleRows = 3;

    public sealed record Result(int Compared, int Identical, int OnlyInOne)
    {
        /// <summary>True when every canonical tensor exists in both models with identical values.</summary>
        public bool AllIdentical => Compared > 0 && Identical == Compared && OnlyInOne == 0;
    }

    public static Result Run(ModelView a, ModelView b, int threads)
    {
        var pa = Pairs(a);
        var pb = Pairs(b);
        DropTiedHead(pa, pb);
        DropTiedHead(pb, pa);
        var keys = pa.Keys.Intersect(pb.Keys).ToList();
        int onlyInOne = pa.Count + pb.Count - 2 * keys.Count;
        int identical = 0;
        Parallel.ForEach(keys, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, key =>
        {
            if (SameValues(pa[key], pb[key])) Interlocked.Increment(ref identical);
        });
        return new Result(keys.Count, identical, onlyInOne);
    }

    /// <summary>True when two views hold bit-identical float values (after dtype conversion).</summary>
    public static bool SameValues(TensorView x, TensorView y)
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
