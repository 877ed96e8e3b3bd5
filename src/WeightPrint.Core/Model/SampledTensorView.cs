using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>A rectangle of a matrix stored in a fingerprint: rows [RowStart, RowStart + RowCount) × columns
/// [ColumnStart, ColumnStart + ColumnCount), row-major BF16 values as stored (<see cref="Bytes"/>: little-endian, two
/// bytes each), widened to float only when read, so a loaded fingerprint takes the bytes it stores.</summary>
public sealed record SampleBlock
{
    /// <summary>A block of stored BF16 bytes (exactly rows × columns × 2 of them).</summary>
    public SampleBlock(int rowStart, int rowCount, int columnStart, int columnCount, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (rowCount < 0 || columnCount < 0 || bytes.Length != 2L * rowCount * columnCount)
            throw new ArgumentException($"a block of {rowCount} × {columnCount} BF16 values needs {2L * rowCount * columnCount} bytes, not {bytes.Length}", nameof(bytes));
        (RowStart, RowCount, ColumnStart, ColumnCount, Bytes) = (rowStart, rowCount, columnStart, columnCount, bytes);
    }

    /// <summary>First stored row.</summary>
    public int RowStart { get; }

    /// <summary>Stored rows.</summary>
    public int RowCount { get; }

    /// <summary>First stored column.</summary>
    public int ColumnStart { get; }

    /// <summary>Stored columns (of every stored row).</summary>
    public int ColumnCount { get; }

    /// <summary>The values, row-major, as little-endian BF16.</summary>
    public byte[] Bytes { get; }

    /// <summary>A block of float values, each rounded to the nearest BF16 (what a fingerprint stores).</summary>
    public static SampleBlock FromSingles(int rowStart, int rowCount, int columnStart, int columnCount, ReadOnlySpan<float> values)
    {
        var bytes = new byte[2 * values.Length];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), FloatConversion.SingleToBF16(values[i]));
        return new SampleBlock(rowStart, rowCount, columnStart, columnCount, bytes);
    }

    /// <summary>True when the block holds row <paramref name="row"/>.</summary>
    public bool HasRow(long row) => row >= RowStart && row < RowStart + RowCount;

    /// <summary>Values of row <paramref name="row"/> (inside the block) from the block's column
    /// <paramref name="fromColumn"/> on, as many as <paramref name="destination"/> holds.</summary>
    public void ReadRow(long row, int fromColumn, Span<float> destination)
    {
        int at = (int)(row - RowStart) * ColumnCount + fromColumn;
        FloatConversion.ToSingle(TensorDType.BF16, Bytes.AsSpan(2 * at, 2 * destination.Length), destination);
    }

    /// <summary>Every value, row-major, as float.</summary>
    public float[] ToSingles()
    {
        var values = new float[Bytes.Length / 2];
        FloatConversion.ToSingle(TensorDType.BF16, Bytes, values);
        return values;
    }

    /// <summary>Value (row, column), both relative to the block.</summary>
    public float At(int row, int column) => FloatConversion.BF16ToSingle(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(2 * (row * ColumnCount + column))));
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
                b.ReadRow(r, 0, destination.Slice(i * width + b.ColumnStart, b.ColumnCount));
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
            // Columns no block holds read as NaN; skip the fill when one block holds them all (the usual case).
            if (!(contiguous && HoldsColumns(r, c0, n))) dst.Fill(float.NaN);
            bool found = false;
            foreach (var b in Blocks)
            {
                if (!b.HasRow(r)) continue;
                found = true;
                if (contiguous && n > 0)
                {
                    // Columns [c0, c0 + n): widen the overlap with the block's columns in one piece.
                    int from = Math.Max(c0, b.ColumnStart), to = Math.Min(c0 + n, b.ColumnStart + b.ColumnCount);
                    if (to > from) b.ReadRow(r, from - b.ColumnStart, dst.Slice(from - c0, to - from));
                    continue;
                }

                int br = (int)(r - b.RowStart);
                for (int c = 0; c < n; c++)
                {
                    int at = columns[c] - b.ColumnStart;
                    if ((uint)at < (uint)b.ColumnCount) dst[c] = b.At(br, at);
                }
            }

            if (!found) throw new SampleNotStoredException($"{Description}: row {r} is not in the fingerprint's sample");
        }

        return true;
    }

    /// <summary>True when one block holds columns [<paramref name="c0"/>, +<paramref name="n"/>) of row <paramref name="r"/>.</summary>
    private bool HoldsColumns(long r, int c0, int n)
    {
        foreach (var b in Blocks)
        {
            if (b.HasRow(r) && b.ColumnStart <= c0 && c0 + n <= b.ColumnStart + b.ColumnCount) return true;
        }

        return false;
    }

    public override Moments ComputeMoments()
        => throw new SampleNotStoredException($"{Description}: a fingerprint holds a sample, not the whole tensor");

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
        => throw new SampleNotStoredException($"{Description}: a fingerprint holds a sample, not the whole tensor");
}
