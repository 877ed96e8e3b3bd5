using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// A weight matrix in canonical orientation [out_features, in_features], possibly a slice of a fused tensor,
/// a transposed Conv1D, a row permutation (RoPE un-permutation) or a LoRA-merged weight. Views never copy
/// the model: they read rows on demand from the stored tensor.
/// </summary>
public abstract class TensorView
{
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

    /// <summary>Moments over all elements. Order-free, so views override it with a streaming fast path.</summary>
    public virtual Moments ComputeMoments()
    {
        var m = Moments.Empty;
        int rowsPerStep = (int)Math.Clamp((1 << 18) / Math.Max(1, Columns), 1, Math.Max(1, Rows));
        var buffer = new float[rowsPerStep * Columns];
        for (long r = 0; r < Rows; r += rowsPerStep)
        {
            int n = (int)Math.Min(rowsPerStep, Rows - r);
            var span = buffer.AsSpan(0, (int)(n * Columns));
            ReadRows(r, n, span);
            MomentKernels.Accumulate(span, ref m);
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
}
