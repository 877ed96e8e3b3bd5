using WeightPrint.Formats;
using WeightPrint.Numerics;
using WeightPrint.IO;

namespace WeightPrint.Model;

/// <summary>
/// A contiguous range of a stored tensor's elements presented as a [rows, columns] matrix: one expert of a
/// stacked [experts, out, in] tensor, a 1-D bias as a column [n, 1] (so it can be split like a fused weight),
/// or a whole tensor with its own row width.
/// </summary>
internal sealed class SliceView : TensorView
{
    private readonly string _transform;

    public SliceView(TensorInfo tensor, long firstElement, long rows, long columns, string transform = "")
    {
        if (firstElement < 0 || rows < 0 || columns < 0)
            throw new InvalidModelFileException(tensor.Source.Name, $"{tensor.Name}: negative slice {firstElement}, [{rows}, {columns}]");
        long count;
        try
        {
            count = checked(rows * columns);
            if (checked(firstElement + count) > tensor.ElementCount)
                throw new InvalidModelFileException(tensor.Source.Name, $"{tensor.Name}: slice of {count} elements at {firstElement} is outside its {tensor.ElementCount} elements");
        }
        catch (OverflowException)
        {
            throw new InvalidModelFileException(tensor.Source.Name, $"{tensor.Name}: slice [{rows}, {columns}] at {firstElement} overflows");
        }

        Tensor = tensor;
        FirstElement = firstElement;
        Rows = rows;
        Columns = columns;
        _transform = transform;
    }

    /// <summary>The tensor viewed as [Rows, Columns] (1-D tensors become columns [n, 1]).</summary>
    public static SliceView Whole(TensorInfo tensor, string transform = "") => new(tensor, 0, tensor.Rows, tensor.Columns, transform);

    public TensorInfo Tensor { get; }

    public long FirstElement { get; }

    public override long Rows { get; }

    public override long Columns { get; }

    public override TensorDType DType => Tensor.DType;

    public override string Description => _transform.Length == 0 ? Tensor.Name : $"{Tensor.Name} ({_transform})";

    public override IReadOnlyList<TensorInfo> Sources => [Tensor];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        TensorReader.ReadFloats(Tensor, FirstElement + firstRow * Columns, destination[..checked((int)(count * Columns))]);
    }

    public override Moments ComputeRowMoments(long firstRow, long rowCount)
    {
        CheckRows(firstRow, rowCount);
        return TensorReader.ComputeMoments(Tensor, FirstElement + firstRow * Columns, rowCount * Columns);
    }
}
