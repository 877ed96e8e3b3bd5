using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>A rectangle of a matrix stored in a fingerprint: rows [RowStart, RowStart + RowCount) × columns
/// [ColumnStart, ColumnStart + ColumnCount), row-major values.</summary>
public sealed record SampleBlock(int RowStart, int RowCount, int ColumnStart, int ColumnCount, float[] Values)
{
    /// <summary>True when the block holds row <paramref name="row"/>.</summary>
    public bool HasRow(long row) => row >= RowStart && row < RowStart + RowCount;
}

/// <summary>Raised when a method asks a fingerprint for rows it does not hold.</summary>
internal sealed class SampleNotStoredException(string message) : Exception(message)
{
    public SampleNotStoredException() : this("the fingerprint does not hold these rows")
    {
    }

    public SampleNotStoredException(string message, Exception inner) : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// A matrix known only on a few stored blocks (a fingerprint's sample), with the full model's shape. Reading a
/// row that no block covers throws <see cref="SampleNotStoredException"/>; within a covered row, columns outside
/// the stored blocks read as NaN, so a method that strays outside the sample cannot produce a plausible number.
/// </summary>
internal sealed class SampledTensorView(string name, long rows, long columns, IReadOnlyList<SampleBlock> blocks) : TensorView
{
    public IReadOnlyList<SampleBlock> Blocks { get; } = blocks;

    public override long Rows { get; } = rows;

    public override long Columns { get; } = columns;

    public override TensorDType DType => TensorDType.BF16;

    public override string Description { get; } = name + " (fingerprint sample)";

    public override IReadOnlyList<TensorInfo> Sources => [];

    public bool HasRow(long row) => Blocks.Any(b => b.HasRow(row));

    /// <summary>True when the stored blocks hold every value (a model no wider than the sample blocks): every row is
    /// stored, each by blocks spanning all columns.</summary>
    public bool IsComplete => StoredRows().Length == Rows && Blocks.All(b => b.ColumnStart == 0 && b.ColumnCount == Columns);

    /// <summary>The stored row indices, ascending.</summary>
    public int[] StoredRows() => Blocks.SelectMany(b => Enumerable.Range(b.RowStart, b.RowCount)).Distinct().Order().ToArray();

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        int width = checked((int)Columns);
        destination[..(count * width)].Fill(float.NaN);
        for (int i = 0; i < count; i++)
        {
            long r = firstRow + i;
            bool found = false;
            foreach (var b in Blocks)
            {
                if (!b.HasRow(r)) continue;
                found = true;
                b.Values.AsSpan((int)(r - b.RowStart) * b.ColumnCount, b.ColumnCount).CopyTo(destination.Slice(i * width + b.ColumnStart, b.ColumnCount));
            }

            if (!found) throw new SampleNotStoredException($"{Description}: row {r} is not in the fingerprint's sample");
        }
    }

    /// <summary>Reads rows × columns from the stored blocks without widening each row to the full width; a column
    /// outside every block holding the row reads as NaN, a row outside every block throws, as in <see cref="ReadRows"/>.</summary>
    public override bool TryReadSubmatrix(IReadOnlyList<int> rows, IReadOnlyList<int> columns, Span<float> destination)
    {
        int n = columns.Count;
        if (destination.Length != rows.Count * n) throw new ArgumentException("destination must hold rows × columns values", nameof(destination));
        int c0 = n > 0 ? columns[0] : 0;
        bool contiguous = true; // the sample blocks' columns are consecutive indices
        for (int c = 1; c < n && contiguous; c++) contiguous = columns[c] == c0 + c;
        for (int i = 0; i < rows.Count; i++)
        {
            long r = rows[i];
            CheckRows(r, 1);
            var dst = destination.Slice(i * n, n);
            dst.Fill(float.NaN);
            bool found = false;
            foreach (var b in Blocks)
            {
                if (!b.HasRow(r)) continue;
                found = true;
                var src = b.Values.AsSpan((int)(r - b.RowStart) * b.ColumnCount, b.ColumnCount);
                if (contiguous && n > 0)
                {
                    // Columns [c0, c0 + n): copy the overlap with the block's columns in one piece.
                    int from = Math.Max(c0, b.ColumnStart), to = Math.Min(c0 + n, b.ColumnStart + b.ColumnCount);
                    if (to > from) src.Slice(from - b.ColumnStart, to - from).CopyTo(dst.Slice(from - c0, to - from));
                    continue;
                }

                for (int c = 0; c < n; c++)
                {
                    int at = columns[c] - b.ColumnStart;
                    if ((uint)at < (uint)b.ColumnCount) dst[c] = src[at];
                }
            }

            if (!found) throw new SampleNotStoredException($"{Description}: row {r} is not in the fingerprint's sample");
        }

        return true;
    }

    public override Moments ComputeMoments()
        => throw new SampleNotStoredException($"{Description}: a fingerprint holds a sample, not the whole tensor");

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
        => throw new SampleNotStoredException($"{Description}: a fingerprint holds a sample, not the whole tensor");
}
