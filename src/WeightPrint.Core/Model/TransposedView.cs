using System.Buffers;
using WeightPrint.Formats;
using WeightPrint.Numerics;
using WeightPrint.IO;

namespace WeightPrint.Model;

/// <summary>
/// A stored matrix kept as [in_features, out_features] (GPT-2's Conv1D, gpt-oss's stacked experts) presented
/// in canonical [out, in] orientation: view row i is stored column <c>FirstColumn + i·ColumnStep</c>. The stored
/// matrix may be a slice of a bigger tensor (one expert of [experts, in, out]). Reads stream one stored row
/// span at a time; nothing is copied ahead.
/// </summary>
internal sealed class TransposedView : TensorView
{
    private readonly string _transform;

    /// <summary>The whole 2-D tensor [R, C] as [C, R].</summary>
    public TransposedView(TensorInfo tensor, string transform = "Conv1D transposed")
        : this(tensor, 0, tensor.Rows, tensor.Columns, 0, tensor.Columns, 1, transform)
    {
    }

    /// <param name="tensor">The stored tensor.</param>
    /// <param name="firstElement">Element where the stored [storedRows, storedColumns] matrix starts.</param>
    /// <param name="storedRows">Rows of the stored matrix (= columns of the view).</param>
    /// <param name="storedColumns">Columns of the stored matrix.</param>
    /// <param name="firstColumn">Stored column giving view row 0.</param>
    /// <param name="columnCount">Stored columns selected (= rows of the view).</param>
    /// <param name="columnStep">Stride between selected stored columns (2 for interleaved gate/up).</param>
    /// <param name="transform">Description of the transform.</param>
    public TransposedView(TensorInfo tensor, long firstElement, long storedRows, long storedColumns, long firstColumn, long columnCount, long columnStep, string transform)
    {
        string file = tensor.Source.Name;
        if (firstElement < 0 || storedRows < 0 || storedColumns < 0 || firstColumn < 0 || columnCount < 0 || columnStep < 1)
            throw new InvalidModelFileException(file, $"{tensor.Name}: invalid transposed view");
        try
        {
            if (checked(firstElement + storedRows * storedColumns) > tensor.ElementCount)
                throw new InvalidModelFileException(file, $"{tensor.Name}: [{storedRows}, {storedColumns}] at element {firstElement} is outside the tensor");
            if (columnCount > 0 && checked(firstColumn + (columnCount - 1) * columnStep) >= storedColumns)
                throw new InvalidModelFileException(file, $"{tensor.Name}: columns {firstColumn}+{columnCount}×{columnStep} outside {storedColumns}");
        }
        catch (OverflowException)
        {
            throw new InvalidModelFileException(file, $"{tensor.Name}: transposed view overflows");
        }

        Tensor = tensor;
        FirstElement = firstElement;
        StoredRows = storedRows;
        StoredColumns = storedColumns;
        FirstColumn = firstColumn;
        ColumnStep = columnStep;
        Rows = columnCount;
        _transform = transform;
    }

    public TensorInfo Tensor { get; }

    public long FirstElement { get; }

    public long StoredRows { get; }

    public long StoredColumns { get; }

    public long FirstColumn { get; }

    public long ColumnStep { get; }

    public override long Rows { get; }

    public override long Columns => StoredRows;

    public override TensorDType DType => Tensor.DType;

    public override string Description => $"{Tensor.Name} ({_transform})";

    public override IReadOnlyList<TensorInfo> Sources => [Tensor];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        if (count == 0 || StoredRows == 0) return;
        long c0 = FirstColumn + firstRow * ColumnStep;
        int span = checked((int)((count - 1) * ColumnStep + 1));
        long step = ColumnStep;
        long rows = StoredRows;
        float[] buffer = ArrayPool<float>.Shared.Rent(span);
        try
        {
            for (long i = 0; i < rows; i++)
            {
                TensorReader.ReadFloats(Tensor, FirstElement + i * StoredColumns + c0, buffer.AsSpan(0, span));
                for (int k = 0; k < count; k++) destination[(int)(k * rows + i)] = buffer[k * step];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        if (ColumnStep != 1 || rowCount == 0) return base.ComputeRowMoments(firstRow, rowCount);
        var m = Moments.Empty;
        long c0 = FirstColumn + firstRow;
        if (c0 == 0 && rowCount == StoredColumns) return TensorReader.ComputeMoments(Tensor, FirstElement, StoredRows * StoredColumns);
        for (long i = 0; i < StoredRows; i++) m.Add(TensorReader.ComputeMoments(Tensor, FirstElement + i * StoredColumns + c0, rowCount));
        return m;
    }
}
