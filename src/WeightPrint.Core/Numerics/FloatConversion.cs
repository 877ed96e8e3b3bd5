using System.Buffers.Binary;
using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Conversion of stored element types to float32. bf16 is the top half of a float32 (<c>bits &lt;&lt; 16</c>).
/// The scalar f16 and fp8 conversions use exact lookup tables (scalar <c>(float)Half</c> is slow); the span
/// conversion of F16, BF16 and the fp8 formats runs vectorised (exact bit manipulation, see <see cref="HalfBits"/>).
/// </summary>
internal static unsafe class FloatConversion
{
    private static readonly float[] F16Table = BuildF16Table();
    private static readonly float[] E4M3Table = BuildE4M3Table();
    private static readonly float[] E5M2Table = BuildE5M2Table();

    public static float BF16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>The nearest BF16 (ties to even; NaN stays a quiet NaN).</summary>
    public static ushort SingleToBF16(float f)
    {
        if (float.IsNaN(f)) return 0x7FC0;
        uint b = BitConverter.SingleToUInt32Bits(f);
        b += 0x7FFF + ((b >> 16) & 1);
        return (ushort)(b >> 16);
    }

    public static float F16ToSingle(ushort bits) => F16Table[bits];

    /// <summary>OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN, bias 7, max 448).</summary>
    public static float E4M3ToSingle(byte bits) => E4M3Table[bits];

    /// <summary>OCP FP8 E5M2 (IEEE-like: the top byte of an f16).</summary>
    public static float E5M2ToSingle(byte bits) => E5M2Table[bits];

    /// <summary>Lookup tables as read-only spans, for kernels that gather.</summary>
    internal static ReadOnlySpan<float> F16Lookup => F16Table;

    internal static ReadOnlySpan<float> E4M3Lookup => E4M3Table;

    internal static ReadOnlySpan<float> E5M2Lookup => E5M2Table;

    /// <summary>
    /// Converts <paramref name="destination"/>.Length elements of an element-wise dtype (not block-quantised)
    /// from little-endian bytes to float.
    /// </summary>
    public static void ToSingle(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination) =>
        ToSingle(dtype, source, destination, SimdLevels.Best);

    internal static void ToSingle(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination, SimdLevel level)
    {
        int n = destination.Length;
        if (dtype.IsBlockQuantized()) throw new ArgumentException($"{dtype} is block-quantised", nameof(dtype));
        int size = dtype.BlockBytes();
        if (source.Length < (long)n * size) throw new ArgumentException("source too short", nameof(source));
        if (n == 0) return;
        fixed (byte* src = source)
        fixed (float* dst = destination)
        {
            switch (dtype)
            {
                case TensorDType.F32:
                    new ReadOnlySpan<float>(src, n).CopyTo(destination);
                    return;
                case TensorDType.BF16:
                    SimdKernels.Convert<BF16Loader>(src, dst, n, level);
                    return;
                case TensorDType.F16:
                    SimdKernels.Convert<F16Loader>(src, dst, n, level);
                    return;
                case TensorDType.F8_E4M3:
                    SimdKernels.Convert<E4M3Loader>(src, dst, n, level);
                    return;
                case TensorDType.F8_E5M2:
                    SimdKernels.Convert<E5M2Loader>(src, dst, n, level);
                    return;
            }
        }

        switch (dtype)
        {
            case TensorDType.F64:
                for (int i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            case TensorDType.I64:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(source[(8 * i)..]);
                break;
            case TensorDType.I32:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]);
                break;
            case TensorDType.I16:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]);
                break;
            case TensorDType.I8:
                for (int i = 0; i < n; i++) destination[i] = (sbyte)source[i];
                break;
            case TensorDType.U8:
            case TensorDType.Bool:
                for (int i = 0; i < n; i++) destination[i] = source[i];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    private static float[] BuildF16Table()
    {
        var t = new float[65536];
        for (int i = 0; i < t.Length; i++) t[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return t;
    }

    private static float[] BuildE4M3Table()
    {
        var t = new float[256];
        for (int i = 0; i < 256; i++)
        {
            int sign = i >> 7, exp = (i >> 3) & 0xF, man = i & 7;
            float v;
            if (exp == 0xF && man == 7) v = float.NaN;
            else if (exp == 0) v = man / 8f * MathF.Pow(2, -6);
            else v = (1 + man / 8f) * MathF.Pow(2, exp - 7);
            t[i] = sign == 1 ? -v : v;
        }

        return t;
    }

    private static float[] BuildE5M2Table()
    {
        var t = new float[256];
        for (int i = 0; i < 256; i++) t[i] = (float)BitConverter.UInt16BitsToHalf((ushort)(i << 8));
        return t;
    }
}
