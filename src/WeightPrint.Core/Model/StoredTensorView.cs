using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>A stored tensor used as it is (first dimension = rows; a vector is one row).</summary>
internal sealed class StoredTensorView(TensorInfo tensor) : TensorView
{
    public TensorInfo Tensor { get; } = tensor;

    public override long Rows => Tensor.Shape.Count <= 1 ? 1 : Tensor.Rows;

    public override long Columns => Tensor.Shape.Count <= 1 ? Tensor.ElementCount : Tensor.Columns;

    public override TensorDType DType => Tensor.DType;

    public override string Description => Tensor.Name;

    public override IReadOnlyList<TensorInfo> Sources => [Tensor];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        TensorReader.ReadFloats(Tensor, firstRow * Columns, destination[..checked((int)(count * Columns))]);
    }

    public override void PlanRows(long firstRow, long count)
    {
        if (!Tensor.IsContiguous || Rows <= 0 || count <= 0) return;
        long rowBytes = Tensor.ByteLength / Rows;
        Tensor.Source.PlanRead(Tensor.DataOffset + firstRow * rowBytes, count * rowBytes);
    }

    public override Moments ComputeMoments() => TensorReader.ComputeMoments(Tensor);

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        return TensorReader.ComputeMoments(Tensor, firstRow * Columns, rowCount * Columns);
    }
}
