using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Numerics;

/// <summary>
/// Independent scalar references for the kernels: conversions written from the format definitions (not the
/// library's tables) and reductions in double, one element at a time.
/// </summary>
internal static class KernelReference
{
    public static readonly TensorDType[] FusedTypes = [TensorDType.F32, TensorDType.F16, TensorDType.BF16, TensorDType.F8_E4M3, TensorDType.F8_E5M2];

    /// <summary>Every vector width this machine can run (the scalar loop always).</summary>
    public static IEnumerable<SimdLevel> Levels() =>
        Enum.GetValues<SimdLevel>().Where(SimdLevels.IsSupported);

    public static float F16(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static float BF16(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static float E5M2(byte bits) => (float)BitConverter.UInt16BitsToHalf((ushort)(bits << 8));

    /// <summary>OCP FP8 E4M3fn from its definition: bias 7, subnormals at exponent 0, S.1111.111 = NaN, no infinity.</summary>
    public static float E4M3(byte bits)
    {
        int sign = bits >> 7, exp = (bits >> 3) & 0xF, man = bits & 7;
        if (exp == 0xF && man == 7) return float.NaN;
        double v = exp == 0 ? Math.ScaleB(man, -9) : Math.ScaleB(8 + man, exp - 10);
        return (float)(sign == 1 ? -v : v);
    }

    public static float Element(TensorDType dtype, ReadOnlySpan<byte> bytes, int index) => dtype switch
    {
        TensorDType.F32 => BitConverter.ToSingle(bytes[(4 * index)..]),
        TensorDType.F16 => F16(BitConverter.ToUInt16(bytes[(2 * index)..])),
        TensorDType.BF16 => BF16(BitConverter.ToUInt16(bytes[(2 * index)..])),
        TensorDType.F8_E4M3 => E4M3(bytes[index]),
        TensorDType.F8_E5M2 => E5M2(bytes[index]),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Encodes a value in the dtype (round to nearest for f16/f32, truncation for bf16 and fp8 — any
    /// stored pattern is a fair test input).</summary>
    public static void Encode(TensorDType dtype, float value, Span<byte> destination, int index)
    {
        switch (dtype)
        {
            case TensorDType.F32: BitConverter.TryWriteBytes(destination[(4 * index)..], value); break;
            case TensorDType.F16: BitConverter.TryWriteBytes(destination[(2 * index)..], BitConverter.HalfToUInt16Bits((Half)value)); break;
            case TensorDType.BF16: BitConverter.TryWriteBytes(destination[(2 * index)..], (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16)); break;
            case TensorDType.F8_E5M2: destination[index] = (byte)(BitConverter.HalfToUInt16Bits((Half)value) >> 8); break;
            case TensorDType.F8_E4M3: destination[index] = EncodeE4M3(value); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    /// <summary>Specials of each format: NaN, ±infinity (where the format has them), the smallest subnormal, −0, and
    /// the largest finite value (for f32/bf16 a large one whose square still fits a float sum).</summary>
    public static float[] Specials(TensorDType dtype) => dtype switch
    {
        TensorDType.F8_E4M3 => [float.NaN, -0f, E4M3(1), E4M3(0x81), 448f, -448f],
        TensorDType.F8_E5M2 => [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, E5M2(1), 57344f],
        TensorDType.F16 => [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, F16(1), 65504f],
        _ => [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, BF16(1), -BF16(0x5300)],
    };

    /// <summary>Random stored elements: normal values of the given scale, with a share of specials.</summary>
    public static byte[] RandomElements(TensorDType dtype, int count, Random rng, double specialRate = 0, float scale = 1f)
    {
        var bytes = new byte[count * dtype.BlockBytes()];
        var specials = Specials(dtype);
        for (int i = 0; i < count; i++)
        {
            float v = rng.NextDouble() < specialRate ? specials[rng.Next(specials.Length)] : (float)(Normal(rng) * scale);
            Encode(dtype, v, bytes, i);
        }

        return bytes;
    }

    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public sealed record MomentsRef(long Count, double Sum, double SumOfSquares, double Min, double Max, long NaN, long Inf, double SumAbs, double SumSq);

    public static MomentsRef Moments(TensorDType dtype, ReadOnlySpan<byte> bytes, int count)
    {
        long n = 0, nan = 0, inf = 0;
        double s = 0, q = 0, mn = double.PositiveInfinity, mx = double.NegativeInfinity, abs = 0;
        for (int i = 0; i < count; i++)
        {
            double v = Element(dtype, bytes, i);
            if (double.IsNaN(v)) { nan++; continue; }
            if (double.IsInfinity(v)) { inf++; continue; }
            n++;
            s += v;
            q += v * v;
            abs += Math.Abs(v);
            mn = Math.Min(mn, v);
            mx = Math.Max(mx, v);
        }

        return new MomentsRef(n, s, q, mn, mx, nan, inf, abs, q);
    }

    public sealed record PairRef(long Count, long Bad, double Dot, double Qa, double Qb, double Sa, double Sb, double AbsDot, double AbsA, double AbsB);

    public static PairRef Pairs(TensorDType dtype, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int count)
    {
        long n = 0, bad = 0;
        double d = 0, qa = 0, qb = 0, sa = 0, sb = 0, ad = 0, aa = 0, ab = 0;
        for (int i = 0; i < count; i++)
        {
            double x = Element(dtype, a, i), y = Element(dtype, b, i);
            if (!double.IsFinite(x) || !double.IsFinite(y)) { bad++; continue; }
            n++;
            d += x * y;
            qa += x * x;
            qb += y * y;
            sa += x;
            sb += y;
            ad += Math.Abs(x * y);
            aa += Math.Abs(x);
            ab += Math.Abs(y);
        }

        return new PairRef(n, bad, d, qa, qb, sa, sb, ad, aa, ab);
    }

    /// <summary>
    /// Bound on the error of float summation per chunk then double across chunks: each float partial sum adds at
    /// most <see cref="MomentKernels.ChunkElements"/> terms, each step erring by at most 2^-24 of the running
    /// magnitude (≤ the sum of absolute values), plus folding.
    /// </summary>
    public static double Tolerance(long count, double sumOfAbs) =>
        Math.ScaleB(1.0, -23) * (Math.Min(count, MomentKernels.ChunkElements) + 4) * sumOfAbs + 1e-300;

    private static byte EncodeE4M3(float value)
    {
        if (float.IsNaN(value)) return 0x7F;
        byte best = 0;
        double bestErr = double.PositiveInfinity;
        for (int b = 0; b < 256; b++)
        {
            float c = E4M3((byte)b);
            if (float.IsNaN(c)) continue;
            double err = Math.Abs(c - (double)value);
            if (err < bestErr || (err == bestErr && float.IsNegative(c) == float.IsNegative(value)))
            {
                bestErr = err;
                best = (byte)b;
            }
        }

        return best;
    }
}
