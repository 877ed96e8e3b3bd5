using System.Buffers;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// A quantised matrix with one scale per row, dequantised on read: value = stored × scale[row] / divisor.
/// bitsandbytes LLM.int8 checkpoints store int8 weights with <c>SCB</c> (the row's absolute maximum), so
/// W = int8 × SCB / 127.
/// </summary>
internal sealed class RowScaledView : TensorView
{
    public RowScaledView(TensorView inner, TensorInfo scales, float divisor, string transform)
    {
        if (scales.ElementCount != inner.Rows)
            throw new InvalidModelFileException(scales.Source.Name, $"{scales.Name}: {scales.ElementCount} scales for {inner.Rows} rows of {inner.Description}");
        Inner = inner;
        Scales = scales;
        Divisor = divisor;
        Transform = transform;
    }

    public TensorView Inner { get; }

    public TensorInfo Scales { get; }

    public float Divisor { get; }

    public string Transform { get; }

    public override long Rows => Inner.Rows;

    public override long Columns => Inner.Columns;

    public override TensorDType DType => Inner.DType;

    public override string Description => $"{Inner.Description} ({Transform})";

    public override IReadOnlyList<TensorInfo> Sources => [.. Inner.Sources, Scales];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        Inner.ReadRows(firstRow, count, destination);
        float[] s = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
        try
        {
            TensorReader.ReadFloats(Scales, firstRow, s.AsSpan(0, count));
            long cols = Columns;
            for (int r = 0; r < count; r++)
            {
                float f = s[r] / Divisor;
                var row = destination.Slice((int)(r * cols), (int)cols);
                for (int c = 0; c < row.Length; c++) row[c] *= f;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(s);
        }
    }
}
