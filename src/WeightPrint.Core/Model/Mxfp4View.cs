using System.Buffers;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// One expert's matrix from OpenAI's MXFP4 expert storage (gpt-oss): <c>*_blocks</c> U8 [experts, rows,
/// blocks, 16] holding two FP4 (E2M1) values per byte, low nibble first, and <c>*_scales</c> U8 [experts, rows,
/// blocks] holding a power-of-two exponent biased by 127 per block of 32 values. Stored rows are output
/// features, so the view is already [out, in]; <see cref="RowStep"/> 2 picks gate (even) or up (odd) rows of
/// the interleaved gate_up projection. <see cref="DType"/> reports U8, the stored byte type.
/// </summary>
internal sealed class Mxfp4View : TensorView
{
    /// <summary>Values per MXFP4 block (one scale each).</summary>
    public const int BlockValues = 32;

    /// <summary>Bytes per MXFP4 block (two values per byte).</summary>
    public const int BlockBytes = 16;

    private static readonly float[] Fp4Values = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f];

    private readonly string _transform;

    public Mxfp4View(TensorInfo blocks, TensorInfo scales, int expert, long firstRow, long rowStep, long rows, string transform)
    {
        string file = blocks.Source.Name;
        if (blocks.DType != TensorDType.U8 || scales.DType != TensorDType.U8)
            throw new InvalidModelFileException(file, $"{blocks.Name}: MXFP4 blocks and scales must be U8");
        if (blocks.Shape.Count != 4 || blocks.Shape[3] != BlockBytes || scales.Shape.Count != 3
            || scales.Shape[0] != blocks.Shape[0] || scales.Shape[1] != blocks.Shape[1] || scales.Shape[2] != blocks.Shape[2])
            throw new InvalidModelFileException(file, $"{blocks.Name} {blocks.ShapeText} / {scales.Name} {scales.ShapeText}: not MXFP4 [experts, rows, blocks, 16] / [experts, rows, blocks]");
        if (expert < 0 || expert >= blocks.Shape[0] || firstRow < 0 || rowStep < 1 || rows < 0
            || (rows > 0 && firstRow + (rows - 1) * rowStep >= blocks.Shape[1]))
            throw new InvalidModelFileException(file, $"{blocks.Name}: expert {expert} rows {firstRow}+{rows}×{rowStep} outside {blocks.ShapeText}");
        Blocks = blocks;
        ScaleTensor = scales;
        Expert = expert;
        FirstRow = firstRow;
        RowStep = rowStep;
        Rows = rows;
        _transform = transform;
    }

    public TensorInfo Blocks { get; }

    public TensorInfo ScaleTensor { get; }

    public int Expert { get; }

    public long FirstRow { get; }

    public long RowStep { get; }

    public override long Rows { get; }

    public override long Columns => Blocks.Shape[2] * BlockValues;

    public override TensorDType DType => TensorDType.U8;

    public override string Description => $"{Blocks.Name} ({_transform})";

    public override IReadOnlyList<TensorInfo> Sources => [Blocks, ScaleTensor];

    public override void ReadRows(long firstRow, int count, Span<float> destination)
    {
        CheckRows(firstRow, count);
        int nb = checked((int)Blocks.Shape[2]);
        long storedRows = Blocks.Shape[1];
        byte[] raw = ArrayPool<byte>.Shared.Rent(nb * BlockBytes);
        byte[] exps = ArrayPool<byte>.Shared.Rent(nb);
        try
        {
            for (int r = 0; r < count; r++)
            {
                long stored = (long)Expert * storedRows + FirstRow + (firstRow + r) * RowStep;
                Blocks.Source.Read(Blocks.DataOffset + stored * nb * BlockBytes, raw.AsSpan(0, nb * BlockBytes));
                ScaleTensor.Source.Read(ScaleTensor.DataOffset + stored * nb, exps.AsSpan(0, nb));
                var row = destination.Slice(r * nb * BlockValues, nb * BlockValues);
                for (int b = 0; b < nb; b++)
                {
                    float scale = MathF.ScaleB(1f, exps[b] - 127);
                    for (int i = 0; i < BlockBytes; i++)
                    {
                        byte v = raw[b * BlockBytes + i];
                        row[b * BlockValues + 2 * i] = Fp4Values[v & 0x0F] * scale;
                        row[b * BlockValues + 2 * i + 1] = Fp4Values[v >> 4] * scale;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(exps);
        }
    }
}
