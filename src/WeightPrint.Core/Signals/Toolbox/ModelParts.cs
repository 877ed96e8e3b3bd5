using WeightPrint.Model;

namespace WeightPrint.Signals.Toolbox;

/// <summary>One MLP of a block: the dense MLP or one MoE expert (gate is null for non-gated MLPs).</summary>
internal sealed record MlpPart(string Label, TensorView? Gate, TensorView Up, TensorView Down)
{
    public long Neurons => Up.Rows;
}

/// <summary>Shared plumbing for the pairwise methods: which tensors to compare, bounded reads of rows and
/// columns, seeded index samples.</summary>
internal static class ModelParts
{
    /// <summary>Largest single matrix read whole into memory (floats): 2^28 = 1 GiB.</summary>
    public const long MaxMatrixElements = 1L << 28;

    /// <summary>The decoder blocks (all blocks for decoder-only models).</summary>
    public static IReadOnlyList<LayerView> Blocks(ModelView v) => v.DecoderLayers;

    /// <summary>The dense MLP (when present) and every expert of a block.</summary>
    public static IReadOnlyList<MlpPart> Mlps(LayerView layer)
    {
        var parts = new List<MlpPart>();
        if (layer.Get(TensorRole.MlpUp) is { } up && layer.Get(TensorRole.MlpDown) is { } down)
            parts.Add(new MlpPart("mlp", layer.Get(TensorRole.MlpGate), up, down));
        foreach (var e in layer.Experts)
        {
            if (e.Get(TensorRole.MlpUp) is { } eu && e.Get(TensorRole.MlpDown) is { } ed)
                parts.Add(new MlpPart((e.IsShared ? "shared_expert" : "expert") + e.Index, e.Get(TensorRole.MlpGate), eu, ed));
        }

        return parts;
    }

    /// <summary>
    /// Which MLPs of two blocks to compare: dense with dense; when exactly one side is MoE, each expert against the
    /// other side's dense MLP (sparse upcycling copies one dense MLP into every expert); when both are MoE, expert i
    /// with expert i of the other model.
    /// </summary>
    public static IReadOnlyList<(MlpPart A, MlpPart B)> MlpPairs(LayerView a, LayerView b)
    {
        var pa = Mlps(a);
        var pb = Mlps(b);
        var denseA = pa.FirstOrDefault(p => p.Label == "mlp");
        var denseB = pb.FirstOrDefault(p => p.Label == "mlp");
        var expertsA = pa.Where(p => p.Label != "mlp").ToList();
        var expertsB = pb.Where(p => p.Label != "mlp").ToList();
        var pairs = new List<(MlpPart, MlpPart)>();
        if (denseA != null && denseB != null) pairs.Add((denseA, denseB));
        if (denseA != null && expertsA.Count == 0) pairs.AddRange(expertsB.Select(e => (denseA, e)));
        if (denseB != null && expertsB.Count == 0) pairs.AddRange(expertsA.Select(e => (e, denseB)));
        if (expertsA.Count > 0 && expertsB.Count > 0)
        {
            for (int i = 0; i < Math.Min(expertsA.Count, expertsB.Count); i++) pairs.Add((expertsA[i], expertsB[i]));
        }

        return pairs;
    }

    /// <summary>A stable 32-bit seed from a base seed and a purpose string (FNV-1a; string.GetHashCode is randomised per process).</summary>
    public static int DeriveSeed(int seed, string purpose)
    {
        uint h = 2166136261;
        foreach (byte b in BitConverter.GetBytes(seed))
        {
            h ^= b;
            h *= 16777619;
        }

        foreach (char c in purpose)
        {
            h ^= c;
            h *= 16777619;
        }

        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>k distinct indices of 0..n−1 (all of them when k ≥ n), sorted, chosen by a seeded shuffle.</summary>
    public static int[] Sample(int n, int k, int seed)
    {
        if (k >= n) return Enumerable.Range(0, n).ToArray();
#pragma warning disable CA5394 // sampling, not security
        var rnd = new Random(seed);
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + rnd.Next(n - i);
            (p[i], p[j]) = (p[j], p[i]);
        }
#pragma warning restore CA5394

        var s = p[..k];
        Array.Sort(s);
        return s;
    }

    /// <summary>Reads a whole matrix (rows × columns floats), refusing matrices above <see cref="MaxMatrixElements"/>.</summary>
    public static float[] ReadMatrix(TensorView t)
    {
        if (t.ElementCount > MaxMatrixElements) throw new InvalidOperationException($"{t.Description} has {t.ElementCount} elements, above the {MaxMatrixElements} read limit");
        return t.ReadAll();
    }

    /// <summary>Reads the given rows (all columns): result row i = tensor row rows[i].</summary>
    public static float[] ReadRows(TensorView t, IReadOnlyList<int> rows)
    {
        int cols = checked((int)t.Columns);
        if ((long)rows.Count * cols > MaxMatrixElements) throw new InvalidOperationException($"{rows.Count} rows of {t.Description} exceed the read limit");
        var result = new float[rows.Count * cols];
        for (int i = 0; i < rows.Count;)
        {
            // Read runs of consecutive rows in one call.
            int j = i + 1;
            while (j < rows.Count && rows[j] == rows[j - 1] + 1) j++;
            t.PlanRows(rows[i], j - i);
            t.ReadRows(rows[i], j - i, result.AsSpan(i * cols, (j - i) * cols));
            i = j;
        }

        return result;
    }

    /// <summary>Reads the sub-matrix at the given rows and columns (rows.Count × cols.Count), streaming blocks of
    /// rows so memory stays bounded by the result plus one block.</summary>
    public static float[] ReadSubmatrix(TensorView t, IReadOnlyList<int> rows, IReadOnlyList<int> cols)
    {
        int width = checked((int)t.Columns);
        if ((long)rows.Count * cols.Count > MaxMatrixElements) throw new InvalidOperationException($"sub-matrix of {t.Description} exceeds the read limit");
        var result = new float[rows.Count * cols.Count];
        if (t.TryReadSubmatrix(rows, cols, result)) return result;
        int block = Math.Max(1, (1 << 20) / Math.Max(1, width));
        var buffer = new float[Math.Min(block, Math.Max(1, rows.Count)) * width];
        for (int i = 0; i < rows.Count;)
        {
            int run = i + 1;
            while (run < rows.Count && rows[run] == rows[run - 1] + 1) run++;
            if (i == 0 || rows[i] != rows[i - 1] + 1) t.PlanRows(rows[i], run - i); // the whole contiguous run, read in chunks below
            int j = i + 1;
            while (j < rows.Count && j - i < block && rows[j] == rows[j - 1] + 1) j++;
            var span = buffer.AsSpan(0, (j - i) * width);
            t.ReadRows(rows[i], j - i, span);
            for (int r = i; r < j; r++)
            {
                var src = span.Slice((r - i) * width, width);
                var dst = result.AsSpan(r * cols.Count, cols.Count);
                for (int c = 0; c < cols.Count; c++) dst[c] = src[cols[c]];
            }

            i = j;
        }

        return result;
    }

    /// <summary>Transposes a row-major rows × cols float matrix.</summary>
    public static float[] Transpose(ReadOnlySpan<float> m, int rows, int cols)
    {
        var t = new float[m.Length];
        Transpose(m, rows, cols, t);
        return t;
    }

    /// <summary>Transposes a row-major rows × cols float matrix into <paramref name="t"/> (cols × rows).</summary>
    public static void Transpose(ReadOnlySpan<float> m, int rows, int cols, Span<float> t)
    {
        if (m.Length != rows * cols || t.Length != m.Length) throw new ArgumentException("shape mismatch");
        // In 32 × 32 tiles, so both the rows read and the rows written stay in cache.
        const int Tile = 32;
        for (int i0 = 0; i0 < rows; i0 += Tile)
        {
            int i1 = Math.Min(rows, i0 + Tile);
            for (int j0 = 0; j0 < cols; j0 += Tile)
            {
                int j1 = Math.Min(cols, j0 + Tile);
                for (int i = i0; i < i1; i++)
                {
                    for (int j = j0; j < j1; j++) t[j * rows + i] = m[i * cols + j];
                }
            }
        }
    }

    /// <summary>"Layer 3" style label of a block pair.</summary>
    public static string PairLabel(int a, int b) => a == b ? $"layer {a}" : $"layers {a}↔{b}";
}
