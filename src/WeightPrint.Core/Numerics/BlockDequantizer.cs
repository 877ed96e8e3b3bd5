using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Dequantisation of GGML block formats (Q4_0 … Q6_K) to float, bit-exact to ggml's reference
/// <c>dequantize_row_*</c> (ggml-quants.c, compiled without floating-point contraction): every output is the
/// same float products and sums, in the same order, as the reference. Block layouts (little-endian, fp16 scales):
/// <list type="bullet">
/// <item>Q4_0 (18 B / 32): d, qs[16]; element j = ((qs[j] &amp; 15) − 8)·d, element j+16 = ((qs[j] &gt;&gt; 4) − 8)·d.</item>
/// <item>Q4_1 (20 B / 32): d, m, qs[16]; q·d + m with unsigned nibbles.</item>
/// <item>Q5_0 (22 B / 32): d, qh (u32), qs[16]; bit j of qh is bit 4 of element j (bit j+16 of element j+16); (q − 16)·d.</item>
/// <item>Q5_1 (24 B / 32): d, m, qh, qs[16]; q·d + m.</item>
/// <item>Q8_0 (34 B / 32): d, qs[32] (int8); q·d.</item>
/// <item>Q2_K (84 B / 256): scales[16] (4-bit scale, 4-bit min), qs[64], d, dmin; (d·sc)·q − dmin·m.</item>
/// <item>Q3_K (110 B / 256): hmask[32], qs[64], 12 bytes of 6-bit scales, d; (d·(sc − 32))·(q − (high bit ? 0 : 4)).</item>
/// <item>Q4_K (144 B / 256): d, dmin, 12 bytes of 6-bit scales and mins, qs[128]; (d·sc)·q − dmin·m.</item>
/// <item>Q5_K (176 B / 256): d, dmin, scales[12], qh[32], qs[128]; as Q4_K with a fifth bit from qh.</item>
/// <item>Q6_K (210 B / 256): ql[128], qh[64], scales[16] (int8), d; (d·sc)·(q − 32).</item>
/// </list>
/// Sixteen lanes are decoded at a time with <see cref="Vector128"/> (integer unpacking, then one float multiply
/// and at most one add per element, exactly as the reference rounds).
/// </summary>
internal static class BlockDequantizer
{
    /// <summary>Dequantises whole blocks: <paramref name="destination"/>.Length must be a multiple of the block size
    /// and <paramref name="source"/> must hold at least that many blocks.</summary>
    public static void Dequantize(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int blockElements = dtype.BlockElements();
        if (blockElements == 1) throw new ArgumentException($"{dtype} is not a block-quantised type", nameof(dtype));
        if (destination.Length % blockElements != 0)
            throw new ArgumentException($"destination length {destination.Length} is not a multiple of the {dtype} block size {blockElements}", nameof(destination));
        int blocks = destination.Length / blockElements;
        int blockBytes = dtype.BlockBytes();
        if (source.Length < (long)blocks * blockBytes)
            throw new ArgumentException($"{blocks} {dtype} blocks need {(long)blocks * blockBytes} bytes but the source has {source.Length}", nameof(source));
        if (blocks == 0) return;

        ref byte src = ref MemoryMarshal.GetReference(source);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        for (int b = 0; b < blocks; b++)
        {
            ref byte x = ref Unsafe.Add(ref src, (nint)b * blockBytes);
            ref float y = ref Unsafe.Add(ref dst, (nint)b * blockElements);
            switch (dtype)
            {
                case TensorDType.Q4_0: Q4_0(ref x, ref y); break;
                case TensorDType.Q4_1: Q4_1(ref x, ref y); break;
                case TensorDType.Q5_0: Q5_0(ref x, ref y); break;
                case TensorDType.Q5_1: Q5_1(ref x, ref y); break;
                case TensorDType.Q8_0: Q8_0(ref x, ref y); break;
                case TensorDType.Q2_K: Q2_K(ref x, ref y); break;
                case TensorDType.Q3_K: Q3_K(ref x, ref y); break;
                case TensorDType.Q4_K: Q4_K(ref x, ref y); break;
                case TensorDType.Q5_K: Q5_K(ref x, ref y); break;
                case TensorDType.Q6_K: Q6_K(ref x, ref y); break;
                default: throw new ArgumentException($"unsupported quantisation {dtype}", nameof(dtype));
            }
        }
    }

    private static void Q4_0(ref byte x, ref float y)
    {
        float d = Half(ref x, 0);
        var qs = Load(ref x, 2);
        var low = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((byte)8);
        Mul16(((qs & low) - eight).AsSByte(), d, ref y, 0);
        Mul16((Vector128.ShiftRightLogical(qs, 4) - eight).AsSByte(), d, ref y, 16);
    }

    private static void Q4_1(ref byte x, ref float y)
    {
        float d = Half(ref x, 0), m = Half(ref x, 2);
        var qs = Load(ref x, 4);
        MulAdd16((qs & Vector128.Create((byte)0x0F)).AsSByte(), d, m, ref y, 0);
        MulAdd16(Vector128.ShiftRightLogical(qs, 4).AsSByte(), d, m, ref y, 16);
    }

    private static void Q5_0(ref byte x, ref float y)
    {
        float d = Half(ref x, 0);
        var (high0, high1) = FifthBits(ref x, 2);
        var qs = Load(ref x, 6);
        var sixteen = Vector128.Create((byte)16);
        Mul16(((qs & Vector128.Create((byte)0x0F) | high0) - sixteen).AsSByte(), d, ref y, 0);
        Mul16(((Vector128.ShiftRightLogical(qs, 4) | high1) - sixteen).AsSByte(), d, ref y, 16);
    }

    private static void Q5_1(ref byte x, ref float y)
    {
        float d = Half(ref x, 0), m = Half(ref x, 2);
        var (high0, high1) = FifthBits(ref x, 4);
        var qs = Load(ref x, 8);
        MulAdd16((qs & Vector128.Create((byte)0x0F) | high0).AsSByte(), d, m, ref y, 0);
        MulAdd16((Vector128.ShiftRightLogical(qs, 4) | high1).AsSByte(), d, m, ref y, 16);
    }

    private static void Q8_0(ref byte x, ref float y)
    {
        float d = Half(ref x, 0);
        Mul16(Load(ref x, 2).AsSByte(), d, ref y, 0);
        Mul16(Load(ref x, 18).AsSByte(), d, ref y, 16);
    }

    private static void Q2_K(ref byte x, ref float y)
    {
        // scales[16] at 0, qs[64] at 16, d at 80, dmin at 82.
        float d = Half(ref x, 80), dmin = Half(ref x, 82);
        var three = Vector128.Create((byte)3);
        for (int n = 0; n < 2; n++)
        {
            var q0 = Load(ref x, 16 + (32 * n));
            var q1 = Load(ref x, 16 + (32 * n) + 16);
            for (int j = 0; j < 4; j++)
            {
                int shift = 2 * j;
                int s = (8 * n) + (2 * j);
                int outAt = (128 * n) + (32 * j);
                byte sc0 = Unsafe.Add(ref x, s), sc1 = Unsafe.Add(ref x, s + 1);
                MulAdd16((Vector128.ShiftRightLogical(q0, shift) & three).AsSByte(), d * (sc0 & 0xF), -(dmin * (sc0 >> 4)), ref y, outAt);
                MulAdd16((Vector128.ShiftRightLogical(q1, shift) & three).AsSByte(), d * (sc1 & 0xF), -(dmin * (sc1 >> 4)), ref y, outAt + 16);
            }
        }
    }

    private static void Q3_K(ref byte x, ref float y)
    {
        // hmask[32] at 0, qs[64] at 32, scales[12] at 96, d at 108.
        float d = Half(ref x, 108);
        Span<int> scales = stackalloc int[16];
        Q3Scales(ref Unsafe.Add(ref x, 96), scales);
        var hm0 = Load(ref x, 0);
        var hm1 = Load(ref x, 16);
        var three = Vector128.Create((byte)3);
        var four = Vector128.Create((byte)4);
        for (int n = 0; n < 2; n++)
        {
            var q0 = Load(ref x, 32 + (32 * n));
            var q1 = Load(ref x, 32 + (32 * n) + 16);
            for (int j = 0; j < 4; j++)
            {
                int shift = 2 * j;
                var bit = Vector128.Create((byte)(1 << ((4 * n) + j)));
                int s = (8 * n) + (2 * j);
                int outAt = (128 * n) + (32 * j);
                // The reference subtracts 4 where the high bit is clear.
                var v0 = (Vector128.ShiftRightLogical(q0, shift) & three) - (Vector128.Equals(hm0 & bit, Vector128<byte>.Zero) & four);
                var v1 = (Vector128.ShiftRightLogical(q1, shift) & three) - (Vector128.Equals(hm1 & bit, Vector128<byte>.Zero) & four);
                Mul16(v0.AsSByte(), d * (scales[s] - 32), ref y, outAt);
                Mul16(v1.AsSByte(), d * (scales[s + 1] - 32), ref y, outAt + 16);
            }
        }
    }

    /// <summary>The sixteen 6-bit Q3_K scales (before the −32 offset): the low four bits of scale j are nibble j of
    /// bytes 0..7 (low nibbles for j &lt; 8, high nibbles for j ≥ 8), the top two bits are bits 2·(j / 4) of byte 8 + j % 4.</summary>
    private static void Q3Scales(ref byte s, Span<int> scales)
    {
        for (int j = 0; j < 16; j++)
        {
            int lowBits = j < 8 ? Unsafe.Add(ref s, j) & 0xF : Unsafe.Add(ref s, j - 8) >> 4;
            int highBits = (Unsafe.Add(ref s, 8 + (j % 4)) >> (2 * (j / 4))) & 3;
            scales[j] = lowBits | (highBits << 4);
        }
    }

    private static void Q4_K(ref byte x, ref float y)
    {
        // d at 0, dmin at 2, scales[12] at 4, qs[128] at 16.
        float d = Half(ref x, 0), dmin = Half(ref x, 2);
        ref byte scales = ref Unsafe.Add(ref x, 4);
        var low = Vector128.Create((byte)0x0F);
        for (int c = 0; c < 4; c++)
        {
            ScaleMinK4(2 * c, ref scales, out int sc1, out int m1);
            ScaleMinK4((2 * c) + 1, ref scales, out int sc2, out int m2);
            float d1 = d * sc1, n1 = -(dmin * m1), d2 = d * sc2, n2 = -(dmin * m2);
            for (int h = 0; h < 32; h += 16)
            {
                var q = Load(ref x, 16 + (32 * c) + h);
                MulAdd16((q & low).AsSByte(), d1, n1, ref y, (64 * c) + h);
                MulAdd16(Vector128.ShiftRightLogical(q, 4).AsSByte(), d2, n2, ref y, (64 * c) + 32 + h);
            }
        }
    }

    private static void Q5_K(ref byte x, ref float y)
    {
        // d at 0, dmin at 2, scales[12] at 4, qh[32] at 16, qs[128] at 48.
        float d = Half(ref x, 0), dmin = Half(ref x, 2);
        ref byte scales = ref Unsafe.Add(ref x, 4);
        var low = Vector128.Create((byte)0x0F);
        var sixteen = Vector128.Create((byte)16);
        for (int c = 0; c < 4; c++)
        {
            ScaleMinK4(2 * c, ref scales, out int sc1, out int m1);
            ScaleMinK4((2 * c) + 1, ref scales, out int sc2, out int m2);
            float d1 = d * sc1, n1 = -(dmin * m1), d2 = d * sc2, n2 = -(dmin * m2);
            var u1 = Vector128.Create((byte)(1 << (2 * c)));
            var u2 = Vector128.Create((byte)(2 << (2 * c)));
            for (int h = 0; h < 32; h += 16)
            {
                var q = Load(ref x, 48 + (32 * c) + h);
                var qh = Load(ref x, 16 + h);
                var high1 = ~Vector128.Equals(qh & u1, Vector128<byte>.Zero) & sixteen;
                var high2 = ~Vector128.Equals(qh & u2, Vector128<byte>.Zero) & sixteen;
                MulAdd16(((q & low) + high1).AsSByte(), d1, n1, ref y, (64 * c) + h);
                MulAdd16((Vector128.ShiftRightLogical(q, 4) + high2).AsSByte(), d2, n2, ref y, (64 * c) + 32 + h);
            }
        }
    }

    private static void Q6_K(ref byte x, ref float y)
    {
        // ql[128] at 0, qh[64] at 128, scales[16] (int8) at 192, d at 208.
        float d = Half(ref x, 208);
        var low = Vector128.Create((byte)0x0F);
        var three = Vector128.Create((byte)3);
        var bias = Vector128.Create((byte)32);
        for (int n = 0; n < 2; n++)
        {
            for (int h = 0; h < 32; h += 16)
            {
                var qlA = Load(ref x, (64 * n) + h);
                var qlB = Load(ref x, (64 * n) + 32 + h);
                var qh = Load(ref x, 128 + (32 * n) + h);
                var q1 = (qlA & low) | Vector128.ShiftLeft(qh & three, 4);
                var q2 = (qlB & low) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 2) & three, 4);
                var q3 = Vector128.ShiftRightLogical(qlA, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 4) & three, 4);
                var q4 = Vector128.ShiftRightLogical(qlB, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 6), 4);
                int s = (8 * n) + (h / 16);
                int outAt = (128 * n) + h;
                Mul16((q1 - bias).AsSByte(), d * (sbyte)Unsafe.Add(ref x, 192 + s), ref y, outAt);
                Mul16((q2 - bias).AsSByte(), d * (sbyte)Unsafe.Add(ref x, 192 + s + 2), ref y, outAt + 32);
                Mul16((q3 - bias).AsSByte(), d * (sbyte)Unsafe.Add(ref x, 192 + s + 4), ref y, outAt + 64);
                Mul16((q4 - bias).AsSByte(), d * (sbyte)Unsafe.Add(ref x, 192 + s + 6), ref y, outAt + 96);
            }
        }
    }

    /// <summary>Scale and min j (0..7) of Q4_K/Q5_K, six bits each: j &lt; 4 in the low six bits of bytes j and j+4;
    /// otherwise the low four bits in byte j+4's nibbles and the top two bits in the top bits of bytes j−4 and j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleMinK4(int j, ref byte q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = Unsafe.Add(ref q, j) & 63;
            min = Unsafe.Add(ref q, j + 4) & 63;
        }
        else
        {
            scale = (Unsafe.Add(ref q, j + 4) & 0xF) | ((Unsafe.Add(ref q, j - 4) >> 6) << 4);
            min = (Unsafe.Add(ref q, j + 4) >> 4) | ((Unsafe.Add(ref q, j) >> 6) << 4);
        }
    }

    /// <summary>Bit 4 of the 32 Q5_0/Q5_1 elements: bit j of the little-endian u32 qh for element j, as 0 or 16 per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<byte> First, Vector128<byte> Second) FifthBits(ref byte x, int at)
    {
        var lanes = Vector128.Create(0x8040201008040201UL).AsByte();
        var sixteen = Vector128.Create((byte)16);
        ulong b0 = Unsafe.Add(ref x, at), b1 = Unsafe.Add(ref x, at + 1), b2 = Unsafe.Add(ref x, at + 2), b3 = Unsafe.Add(ref x, at + 3);
        const ulong spread = 0x0101010101010101UL;
        var first = Vector128.Create(b0 * spread, b1 * spread).AsByte();
        var second = Vector128.Create(b2 * spread, b3 * spread).AsByte();
        return (~Vector128.Equals(first & lanes, Vector128<byte>.Zero) & sixteen,
            ~Vector128.Equals(second & lanes, Vector128<byte>.Zero) & sixteen);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Half(ref byte x, int at)
        => FloatConversion.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x, at), 2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Load(ref byte x, int at) => Vector128.LoadUnsafe(ref x, (nuint)at);

    /// <summary>y[at..at+16] = (float)q · scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mul16(Vector128<sbyte> q, float scale, ref float y, int at)
    {
        var s = Vector128.Create(scale);
        var (lo, hi) = Vector128.Widen(q);
        var (a, b) = Vector128.Widen(lo);
        var (c, e) = Vector128.Widen(hi);
        (Vector128.ConvertToSingle(a) * s).StoreUnsafe(ref y, (nuint)at);
        (Vector128.ConvertToSingle(b) * s).StoreUnsafe(ref y, (nuint)(at + 4));
        (Vector128.ConvertToSingle(c) * s).StoreUnsafe(ref y, (nuint)(at + 8));
        (Vector128.ConvertToSingle(e) * s).StoreUnsafe(ref y, (nuint)(at + 12));
    }

    /// <summary>y[at..at+16] = (float)q · scale + add, rounded after the product and after the sum (no fused
    /// multiply-add). <c>a·q − m</c> in the reference is the same float as <c>q·a + (−m)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAdd16(Vector128<sbyte> q, float scale, float add, ref float y, int at)
    {
        var s = Vector128.Create(scale);
        var m = Vector128.Create(add);
        var (lo, hi) = Vector128.Widen(q);
        var (a, b) = Vector128.Widen(lo);
        var (c, e) = Vector128.Widen(hi);
        ((Vector128.ConvertToSingle(a) * s) + m).StoreUnsafe(ref y, (nuint)at);
        ((Vector128.ConvertToSingle(b) * s) + m).StoreUnsafe(ref y, (nuint)(at + 4));
        ((Vector128.ConvertToSingle(c) * s) + m).StoreUnsafe(ref y, (nuint)(at + 8));
        ((Vector128.ConvertToSingle(e) * s) + m).StoreUnsafe(ref y, (nuint)(at + 12));
    }
}
