using System.Buffers;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// A base weight with a LoRA update added: W' = W + ΔW, both in canonical [out, in] orientation (so a
/// Conv1D base and a fan_in_fan_out adapter need no special case here). Values are summed in float and not
/// rounded back to the base dtype.
/// </summary>
internal sealed class LoraMergedView : TensorView
{
    public LoraMergedView(TensorView baseView, TensorView delta)
    {
        if (baseView.Rows != delta.Rows || baseView.Columns != delta.Columns)
            throw new ArgumentException($"LoRA update {delta.Description} {delta.ShapeText} does not fit {baseView.Description} {baseView.ShapeText}", nameof(delta));
        Base = baseView;
        Delta = delta;
    }

    public TensorView Base { get; }

    public TensorView Delta { get; }

    public override long Rows => Base.Rows;

    public override long Columns => Base.Columns;

    public override TensorDType DType => Base.DType;

    public override string Description => $"{Base.Description} + {Delta.Description}";

    public override IReadOnlyList<TensorInfo> Sources => [.. Base.Sources, .. Delta.Sources];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        int n = checked((int)(count * Columns));
        Base.ReadRows(firstRow, count, destination[..n]);
        float[] d = ArrayPool<float>.Shared.Rent(Math.Max(1, n));
        try
        {
            Delta.ReadRows(firstRow, count, d.AsSpan(0, n));
            for (int i = 0; i < n; i++) destination[i] += d[i];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(d);
        }
    }
}
