using System.Buffers.Binary;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.Gguf;

/// <summary>
/// A deliberately plain, element-at-a-time reading of the ggml block definitions, independent of the production
/// <see cref="WeightPrint.Numerics.BlockDequantizer"/>: for element e of a block it finds its bits, its sub-block
/// scale and computes the value with the same float operations (and order) as ggml's dequantize_row_*.
/// </summary>
public static class ReferenceDequantizer
{
    public static float[] Dequantize(TensorDType dtype, ReadOnlySpan<byte> data)
    {
        int be = dtype.BlockElements(), bb = dtype.BlockBytes();
        int blocks = data.Length / bb;
        var y = new float[blocks * be];
        for (int b = 0; b < blocks; b++)
        {
            var x = data.Slice(b * bb, bb);
            for (int e = 0; e < be; e++) y[(b * be) + e] = Element(dtype, x, e);
        }

        return y;
    }

    private static float H(ReadOnlySpan<byte> x, int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(x[at..]));

    /// <summary>Nibble of element e (0..31) in a 16-byte qs: low nibbles for 0..15, high for 16..31.</summary>
    private static int Nibble32(ReadOnlySpan<byte> qs, int e) => e < 16 ? qs[e] & 0xF : qs[e - 16] >> 4;

    private static float Element(TensorDType t, ReadOnlySpan<byte> x, int e)
    {
        switch (t)
        {
            case TensorDType.Q4_0:
            {
                float d = H(x, 0);
                int q = Nibble32(x[2..], e) - 8;
                return q * d;
            }

            case TensorDType.Q4_1:
            {
                float d = H(x, 0), m = H(x, 2);
                int q = Nibble32(x[4..], e);
                return (q * d) + m;
            }

            case TensorDType.Q5_0:
            {
                float d = H(x, 0);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[2..]);
                int q = (Nibble32(x[6..], e) | (int)(((qh >> e) & 1) << 4)) - 16;
                return q * d;
            }

            case TensorDType.Q5_1:
            {
                float d = H(x, 0), m = H(x, 2);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[4..]);
                int q = Nibble32(x[8..], e) | (int)(((qh >> e) & 1) << 4);
                return (q * d) + m;
            }

            case TensorDType.Q8_0:
                return (sbyte)x[2 + e] * H(x, 0);

            case TensorDType.Q2_K:
            {
                int n = e / 128, j = e % 128 / 32, l = e % 32;
                int q = (x[16 + (32 * n) + l] >> (2 * j)) & 3;
                byte sc = x[e / 16];
                float dl = H(x, 80) * (sc & 0xF), ml = H(x, 82) * (sc >> 4);
                return (dl * q) - ml;
            }

            case TensorDType.Q3_K:
            {
                int n = e / 128, j = e % 128 / 32, l = e % 32;
                int q = (x[32 + (32 * n) + l] >> (2 * j)) & 3;
                bool high = ((x[l] >> (e / 32)) & 1) != 0;
                int scale = Q3ScaleViaWords(x.Slice(96, 12), e / 16) - 32;
                float dl = H(x, 108) * scale;
                return dl * (q - (high ? 0 : 4));
            }

            case TensorDType.Q4_K:
            case TensorDType.Q5_K:
            {
                bool five = t == TensorDType.Q5_K;
                int c = e / 64, half = e % 64 / 32, l = e % 32;
                byte b = x[(five ? 48 : 16) + (32 * c) + l];
                int q = half == 0 ? b & 0xF : b >> 4;
                if (five && ((x[16 + l] >> (e / 32)) & 1) != 0) q += 16;
                var (sc, m) = ScaleMin(x.Slice(4, 12), e / 32);
                float d1 = H(x, 0) * sc, m1 = H(x, 2) * m;
                return (d1 * q) - m1;
            }

            case TensorDType.Q6_K:
            {
                int n = e / 128, k = e % 128 / 32, l = e % 32;
                byte b = x[(64 * n) + l + (32 * (k % 2))];
                int low = k < 2 ? b & 0xF : b >> 4;
                int high = (x[128 + (32 * n) + l] >> (2 * k)) & 3;
                int q = (low | (high << 4)) - 32;
                float ds = H(x, 208) * (sbyte)x[192 + (e / 16)];
                return ds * q;
            }

            default:
                throw new ArgumentException($"no reference for {t}");
        }
    }

    /// <summary>Q3_K scale j via ggml's 32-bit word shuffle of the 12 scale bytes (a different route from the
    /// production decoder's per-scale bit picking).</summary>
    private static int Q3ScaleViaWords(ReadOnlySpan<byte> s, int j)
    {
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        uint a0 = BinaryPrimitives.ReadUInt32LittleEndian(s), a1 = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]);
        uint tmp = BinaryPrimitives.ReadUInt32LittleEndian(s[8..]);
        uint[] words =
        [
            (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4),
            (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4),
            ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4),
            ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4),
        ];
        return (sbyte)(byte)(words[j / 4] >> (8 * (j % 4)));
    }

    private static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> q, int j) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));
}
