using System.Buffers;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// A weight matrix in canonical orientation [out_features, in_features], possibly a slice of a fused tensor,
/// a transposed Conv1D, a row permutation (RoPE un-permutation) or a LoRA-merged weight. Views never copy
/// the model: they read rows on demand from the stored tensor.
/// </summary>
internal abstract class TensorView
{
    /// <summary>Floats read per step by the default streaming implementations.</summary>
    public const int StepFloats = 1 << 18;

    /// <summary>Output features (rows).</summary>
    public abstract long Rows { get; }

    /// <summary>Input features (columns).</summary>
    public abstract long Columns { get; }

    public long ElementCount => Rows * Columns;

    /// <summary>The stored dtype the values come from.</summary>
    public abstract TensorDType DType { get; }

    /// <summary>Where the values come from, for display: a tensor name with the slice or transform applied.</summary>
    public abstract string Description { get; }

    /// <summary>The stored tensors read by this view.</summary>
    public abstract IReadOnlyList<TensorInfo> Sources { get; }

    /// <summary>Reads rows [firstRow, firstRow + count) as float, row-major, into <paramref name="destination"/>
    /// (length count × Columns).</summary>
    public abstract void ReadRows(long firstRow, int count, Span<float> destination);

    /// <summary>Reads the values at <paramref name="rows"/> × <paramref name="columns"/> straight into
    /// <paramref name="destination"/> (row-major) when this view can do so without reading whole rows; false (and
    /// nothing written) otherwise, and the caller reads rows. Views that hold only parts of rows (a fingerprint's sample)
    /// override it.</summary>
    public virtual bool TryReadSubmatrix(IReadOnlyList<int> rows, IReadOnlyList<int> columns, Span<float> destination) => false;

    /// <summary>Says that rows [<paramref name="firstRow"/>, +<paramref name="count"/>) are about to be read (a sampled
    /// block), so a remote source fetches exactly their bytes (<see cref="IO.IByteSource.PlanRead"/>); no-op by default.</summary>
    public virtual void PlanRows(long firstRow, long count)
    {
    }

    /// <summary>Moments over all elements. Order-free, so views override it with a streaming fast path.</summary>
    public virtual Moments ComputeMoments() => ComputeRowMoments(0, Rows);

    /// <summary>Moments over rows [firstRow, firstRow + rowCount), read in bounded steps.</summary>
    public virtual Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        var m = Moments.Empty;
        if (rowCount == 0 || Columns == 0) return m;
        int rowsPerStep = (int)Math.Clamp(StepFloats / Columns, 1, rowCount);
        float[] buffer = ArrayPool<float>.Shared.Rent(checked((int)(rowsPerStep * Columns)));
        try
        {
            for (long r = 0; r < rowCount; r += rowsPerStep)
            {
                int n = (int)Math.Min(rowsPerStep, rowCount - r);
                var span = buffer.AsSpan(0, (int)(n * Columns));
                ReadRows(firstRow + r, n, span);
                MomentKernels.Accumulate(span, ref m);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        return m;
    }

    /// <summary>Reads the whole matrix. Only for matrices known to be small enough.</summary>
    public float[] ReadAll()
    {
        if (ElementCount > Array.MaxLength) throw new InvalidOperationException($"{Description} is too large to load at once");
        var a = new float[ElementCount];
        ReadRows(0, (int)Rows, a);
        return a;
    }

    /// <summary>The shape as text, [rows, columns].</summary>
    public string ShapeText => $"[{Rows}, {Columns}]";

    public override string ToString() => $"{Description} {ShapeText}";

    /// <summary>Throws when [firstRow, firstRow + count) is not inside the view.</summary>
    protected void CheckRows(long firstRow, long count)
    {
        if (firstRow < 0 || count < 0 || firstRow > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"{Description}: rows {firstRow}+{count} outside {Rows}");
    }
}
