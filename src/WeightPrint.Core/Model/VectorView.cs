using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>A column view [n, 1] (a slice of a fused bias) presented as a vector [1, n], like a stored 1-D tensor.</summary>
internal sealed class VectorView : TensorView
{
    public VectorView(TensorView column)
    {
        if (column.Columns != 1) throw new ArgumentException($"{column.Description} is not a column ([n, 1])", nameof(column));
        Column = column;
    }

    public TensorView Column { get; }

    public override long Rows => 1;

    public override long Columns => Column.Rows;

    public override TensorDType DType => Column.DType;

    public override string Description => Column.Description;

    public override IReadOnlyList<TensorInfo> Sources => Column.Sources;

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        if (count == 1) Column.ReadRows(0, checked((int)Column.Rows), destination);
    }

    public override Moments ComputeMoments() => Column.ComputeMoments();

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        return rowCount == 0 ? Moments.Empty : Column.ComputeMoments();
    }
}
