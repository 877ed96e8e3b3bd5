using System.Buffers;
using System.Numerics;
using WeightPrint.Formats;
using WeightPrint.Formats.Peft;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// A LoRA update ΔW = scale · B · A in canonical [out, in] orientation (for an embedding, scale · (B·A)ᵀ,
/// [vocab, dim]), computed row block by row block: a read of n rows touches n·r values of B and A in column
/// blocks of at most <see cref="BlockFloats"/> floats, never the full product.
/// </summary>
internal sealed class LoraDeltaView : TensorView
{
    /// <summary>Most floats of A (or B for embeddings) held at once.</summary>
    public const int BlockFloats = 1 << 20;

    public LoraDeltaView(LoraModule module)
    {
        Module = module;
        Rows = module.IsEmbedding ? module.A.Shape[1] : module.B.Shape[0];
        Columns = module.IsEmbedding ? module.B.Shape[0] : module.A.Shape[1];
    }

    public LoraModule Module { get; }

    public override long Rows { get; }

    public override long Columns { get; }

    public override TensorDType DType => Module.A.DType;

    public override string Description => $"ΔW {Module.Module} ({Module.Scale:G4}·B·A{(Module.IsEmbedding ? " transposed" : "")}, r={Module.Rank})";

    public override IReadOnlyList<TensorInfo> Sources => [Module.A, Module.B];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        if (count == 0) return;
        if (Module.IsEmbedding) ReadEmbeddingRows(firstRow, count, destination);
        else ReadLinearRows(firstRow, count, destination);
    }

    /// <summary>Row i of scale·B·A = scale · Σ_k B[i,k] · A[k,:].</summary>
    private void ReadLinearRows(long firstRow, int count, Span<float> destination)
    {
        int r = Module.Rank;
        long cols = Columns;
        float scale = (float)Module.Scale;
        float[] b = ArrayPool<float>.Shared.Rent(checked(count * r));
        int blockCols = (int)Math.Clamp(BlockFloats / r, 1, cols);
        float[] a = ArrayPool<float>.Shared.Rent(checked(r * blockCols));
        try
        {
            TensorReader.ReadFloats(Module.B, firstRow * r, b.AsSpan(0, count * r));
            for (long c0 = 0; c0 < cols; c0 += blockCols)
            {
                int w = (int)Math.Min(blockCols, cols - c0);
                for (int k = 0; k < r; k++) TensorReader.ReadFloats(Module.A, k * cols + c0, a.AsSpan(k * w, w));
                for (int i = 0; i < count; i++)
                {
                    var row = destination.Slice((int)(i * cols + c0), w);
                    row.Clear();
                    for (int k = 0; k < r; k++) AddScaled(row, a.AsSpan(k * w, w), b[i * r + k]);
                    Scale(row, scale);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(b);
            ArrayPool<float>.Shared.Return(a);
        }
    }

    /// <summary>Row v of scale·(B·A)ᵀ = scale · Σ_k A[k,v] · B[:,k].</summary>
    private void ReadEmbeddingRows(long firstRow, int count, Span<float> destination)
    {
        int r = Module.Rank;
        long vocab = Rows, dim = Columns;
        float scale = (float)Module.Scale;
        float[] a = ArrayPool<float>.Shared.Rent(checked(r * count));
        int blockRows = (int)Math.Clamp(BlockFloats / r, 1, dim);
        float[] b = ArrayPool<float>.Shared.Rent(checked(blockRows * r));
        try
        {
            for (int k = 0; k < r; k++) TensorReader.ReadFloats(Module.A, k * vocab + firstRow, a.AsSpan(k * count, count));
            for (long j0 = 0; j0 < dim; j0 += blockRows)
            {
                int h = (int)Math.Min(blockRows, dim - j0);
                TensorReader.ReadFloats(Module.B, j0 * r, b.AsSpan(0, h * r));
                for (int v = 0; v < count; v++)
                {
                    var row = destination.Slice((int)(v * dim + j0), h);
                    for (int j = 0; j < h; j++)
                    {
                        float s = 0;
                        for (int k = 0; k < r; k++) s += b[j * r + k] * a[k * count + v];
                        row[j] = s * scale;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }

    private static void AddScaled(Span<float> target, ReadOnlySpan<float> source, float factor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && target.Length >= Vector<float>.Count)
        {
            var f = new Vector<float>(factor);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(target[i..]) + f * new Vector<float>(source[i..])).CopyTo(target[i..]);
        }

        for (; i < target.Length; i++) target[i] += factor * source[i];
    }

    private static void Scale(Span<float> target, float factor)
    {
        for (int i = 0; i < target.Length; i++) target[i] *= factor;
    }
}
