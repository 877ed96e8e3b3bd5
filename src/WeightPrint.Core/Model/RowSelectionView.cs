using WeightPrint.Formats;
using WeightPrint.Numerics;
using WeightPrint.IO;

namespace WeightPrint.Model;

/// <summary>
/// Selected rows of a matrix, in a given order: Q/K/V slices of a fused qkv tensor, per-head
/// interleaved layouts (NeoX, BLOOM, Falcon), or the inverse RoPE permutation of llama.cpp and llama2.c.
/// The selection is a list of runs of consecutive rows of the inner view (a stored tensor, a transposed
/// Conv1D, a LoRA ΔW …).
/// </summary>
internal sealed class RowSelectionView : TensorView
{
    private readonly (long Start, long Count)[] _runs;
    private readonly long[] _runStartsInView;

    /// <summary>Rows of a stored tensor viewed as [Shape[0], product of the other dimensions].</summary>
    public RowSelectionView(TensorInfo tensor, IReadOnlyList<(long Start, long Count)> runs, string transform)
        : this(SliceView.Whole(tensor), runs, transform)
    {
    }

    /// <summary>Rows of any view.</summary>
    public RowSelectionView(TensorView inner, IReadOnlyList<(long Start, long Count)> runs, string transform)
    {
        Inner = inner;
        _runs = [.. runs];
        _runStartsInView = new long[_runs.Length];
        long total = 0;
        string name = inner.Sources.Count > 0 ? inner.Sources[0].Source.Name : inner.Description;
        for (int i = 0; i < _runs.Length; i++)
        {
            var (s, c) = _runs[i];
            if (s < 0 || c < 0 || s > inner.Rows - c)
                throw new InvalidModelFileException(name, $"{inner.Description}: row selection {s}+{c} outside {inner.Rows} rows");
            _runStartsInView[i] = total;
            total += c;
        }

        Rows = total;
        Transform = transform;
    }

    /// <summary>The view the rows are taken from.</summary>
    public TensorView Inner { get; }

    /// <summary>The (first) stored tensor the rows come from.</summary>
    public TensorInfo Tensor => Inner.Sources[0];

    /// <summary>What the selection means ("rows 0..4095 of fused qkv", "RoPE un-permuted").</summary>
    public string Transform { get; }

    /// <summary>The runs (start, count) of inner rows, in view order.</summary>
    public IReadOnlyList<(long Start, long Count)> Runs => _runs;

    public override long Rows { get; }

    public override long Columns => Inner.Columns;

    public override TensorDType DType => Inner.DType;

    public override string Description => $"{Inner.Description} ({Transform})";

    public override IReadOnlyList<TensorInfo> Sources => Inner.Sources;

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        if (count == 0) return;
        long cols = Columns;
        int run = FindRun(firstRow);
        long row = firstRow;
        int written = 0;
        while (written < count)
        {
            var (start, runCount) = _runs[run];
            long offsetInRun = row - _runStartsInView[run];
            int take = (int)Math.Min(runCount - offsetInRun, count - written);
            if (take > 0)
            {
                Inner.ReadRows(start + offsetInRun, take, destination.Slice((int)(written * cols), (int)(take * cols)));
                written += take;
                row += take;
            }

            run++;
        }
    }

    public override Moments ComputeMoments()
    {
        var m = Moments.Empty;
        foreach (var (start, count) in MergedRuns(_runs))
            m.Add(Inner.ComputeRowMoments(start, count));
        return m;
    }

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        var pieces = new List<(long Start, long Count)>();
        if (rowCount > 0)
        {
            int run = FindRun(firstRow);
            long row = firstRow, end = firstRow + rowCount;
            while (row < end)
            {
                var (start, runCount) = _runs[run];
                long offsetInRun = row - _runStartsInView[run];
                long take = Math.Min(runCount - offsetInRun, end - row);
                if (take > 0) pieces.Add((start + offsetInRun, take));
                row += Math.Max(take, 0);
                run++;
            }
        }

        var m = Moments.Empty;
        foreach (var (start, count) in MergedRuns(pieces))
            m.Add(Inner.ComputeRowMoments(start, count));
        return m;
    }

    /// <summary>The last run starting at or before <paramref name="viewRow"/> (empty runs share the next run's start).</summary>
    private int FindRun(long viewRow)
    {
        int lo = 0, hi = _runStartsInView.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_runStartsInView[mid] <= viewRow) lo = mid;
            else hi = mid - 1;
        }

        return lo;
    }

    /// <summary>Runs sorted and merged: moments do not depend on order, so contiguous runs stream in one pass.</summary>
    private static List<(long Start, long Count)> MergedRuns(IEnumerable<(long Start, long Count)> runs)
    {
        var sorted = runs.Where(r => r.Count > 0).OrderBy(r => r.Start).ToList();
        var merged = new List<(long Start, long Count)>();
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && merged[^1].Start + merged[^1].Count == r.Start)
                merged[^1] = (merged[^1].Start, merged[^1].Count + r.Count);
            else merged.Add(r);
        }

        return merged;
    }

    /// <summary>
    /// The rows that undo llama.cpp's / llama2.c's interleaved RoPE order, giving Hugging Face's rotate-half
    /// order: HF row h·d + j comes from stored row h·d + 2j for j &lt; d/2 and h·d + 2(j − d/2) + 1 otherwise.
    /// </summary>
    public static (long Start, long Count)[] RopeUnpermutation(int heads, int headDim) => RopeUnpermutation(heads, headDim, 0);

    /// <summary><see cref="RopeUnpermutation(int, int)"/> for a block of rows starting at <paramref name="offset"/>.</summary>
    public static (long Start, long Count)[] RopeUnpermutation(int heads, int headDim, long offset)
    {
        var runs = new (long, long)[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int j = 0; j < headDim; j++)
            {
                long src = offset + (long)h * headDim + (j < half ? 2 * j : 2 * (j - half) + 1);
                runs[h * headDim + j] = (src, 1);
            }
        }

        return runs;
    }

    /// <summary>One run per group: rows [g·stride + offset, g·stride + offset + count) for g in [0, groups).</summary>
    public static (long Start, long Count)[] Strided(long groups, long stride, long offset, long count)
    {
        var runs = new (long, long)[groups];
        for (long g = 0; g < groups; g++) runs[g] = (g * stride + offset, count);
        return runs;
    }
}
