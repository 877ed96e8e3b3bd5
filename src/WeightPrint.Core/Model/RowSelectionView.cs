using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// Selected rows of a stored matrix, in a given order: Q/K/V slices of a fused qkv tensor, per-head
/// interleaved layouts (NeoX, BLOOM), or the inverse RoPE permutation of llama.cpp and llama2.c.
/// The selection is a list of runs of consecutive stored rows.
/// </summary>
public sealed class RowSelectionView : TensorView
{
    private readonly (long Start, long Count)[] _runs;
    private readonly long[] _runStartsInView;

    public RowSelectionView(TensorInfo tensor, IReadOnlyList<(long Start, long Count)> runs, string transform)
    {
        Tensor = tensor;
        _runs = [.. runs];
        _runStartsInView = new long[_runs.Length];
        long total = 0;
        for (int i = 0; i < _runs.Length; i++)
        {
            var (s, c) = _runs[i];
            if (s < 0 || c < 0 || s + c > tensor.Rows)
                throw new InvalidModelFileException(tensor.Source.Name, $"{tensor.Name}: row selection {s}+{c} outside {tensor.Rows} rows");
            _runStartsInView[i] = total;
            total += c;
        }

        Rows = total;
        Transform = transform;
    }

    public TensorInfo Tensor { get; }

    /// <summary>What the selection means ("rows 0..4095 of fused qkv", "RoPE un-permuted").</summary>
    public string Transform { get; }

    public override long Rows { get; }

    public override long Columns => Tensor.Columns;

    public override TensorDType DType => Tensor.DType;

    public override string Description => $"{Tensor.Name} ({Transform})";

    public override IReadOnlyList<TensorInfo> Sources => [Tensor];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        long cols = Columns;
        int run = Array.BinarySearch(_runStartsInView, firstRow);
        if (run < 0) run = ~run - 1;
        long row = firstRow;
        int written = 0;
        while (written < count)
        {
            var (start, runCount) = _runs[run];
            long offsetInRun = row - _runStartsInView[run];
            int take = (int)Math.Min(runCount - offsetInRun, count - written);
            TensorReader.ReadFloats(Tensor, (start + offsetInRun) * cols, destination.Slice((int)(written * cols), (int)(take * cols)));
            written += take;
            row += take;
            run++;
        }
    }

    public override Moments ComputeMoments()
    {
        var m = Moments.Empty;
        foreach (var (start, count) in MergedRuns())
            m.Add(TensorReader.ComputeMoments(Tensor, start * Columns, count * Columns));
        return m;
    }

    /// <summary>Runs sorted and merged: moments do not depend on order, so contiguous runs stream in one pass.</summary>
    private List<(long Start, long Count)> MergedRuns()
    {
        var sorted = _runs.Where(r => r.Count > 0).OrderBy(r => r.Start).ToList();
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
    public static (long Start, long Count)[] RopeUnpermutation(int heads, int headDim)
    {
        var runs = new (long, long)[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int j = 0; j < headDim; j++)
            {
                long src = (long)h * headDim + (j < half ? 2 * j : 2 * (j - half) + 1);
                runs[h * headDim + j] = (src, 1);
            }
        }

        return runs;
    }
}
