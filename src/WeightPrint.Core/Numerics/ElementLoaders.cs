using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WeightPrint.Numerics;

/// <summary>Which vector width a kernel runs at. <see cref="SimdLevels.Best"/> is what the machine supports.</summary>
internal enum SimdLevel
{
    Scalar,
    Vector256,
    Vector512,
}

internal static class SimdLevels
{
    /// <summary>
    /// Vector512 when the runtime accelerates it (x86 AVX-512 F/BW/CD/DQ/VL, not on CPUs where the runtime
    /// prefers 256 bits), else Vector256 when AVX2 is there, else scalar. The 256-bit path uses AVX2 widening
    /// loads directly; other architectures get the scalar path.
    /// </summary>
    public static readonly SimdLevel Best =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported ? SimdLevel.Vector512
        : Avx2.IsSupported ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    public static bool IsSupported(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => Avx512F.IsSupported && Avx512BW.IsSupported,
        SimdLevel.Vector256 => Avx2.IsSupported,
        _ => true,
    };

    public static string Describe() =>
        $"{Best} (Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}, Avx512F={Avx512F.IsSupported}, Avx2={Avx2.IsSupported}, Fma={Fma.IsSupported})";
}

/// <summary>
/// Converts stored elements of one dtype to float: one element, 8 (Vector256) or 16 (Vector512) at a time,
/// in order. Loads read exactly the bytes of the elements they convert (never past them).
/// Kernels are generic over these structs so the JIT specialises one loop per dtype.
/// </summary>
internal unsafe interface IElementLoader
{
    static abstract int ElementSize { get; }

    static abstract float Scalar(byte* p);

    static abstract Vector256<float> Load256(byte* p);

    static abstract Vector512<float> Load512(byte* p);
}

internal readonly unsafe struct F32Loader : IElementLoader
{
    public static int ElementSize => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* p) => Unsafe.ReadUnaligned<float>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* p) => Vector256.Load((float*)p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* p) => Vector512.Load((float*)p);
}

/// <summary>bf16 is the top half of a float32: <c>bits &lt;&lt; 16</c>.</summary>
internal readonly unsafe struct BF16Loader : IElementLoader
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* p) => BitConverter.Int32BitsToSingle(Unsafe.ReadUnaligned<ushort>(p) << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* p) =>
        Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)p)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* p) =>
        Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p)), 16).AsSingle();
}

/// <summary>IEEE binary16, converted exactly (subnormals, infinities and NaN included) by bit manipulation.</summary>
internal readonly unsafe struct F16Loader : IElementLoader
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* p) => FloatConversion.F16ToSingle(Unsafe.ReadUnaligned<ushort>(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* p) =>
        HalfBits.ToSingle(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)p)).AsUInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* p) =>
        HalfBits.ToSingle(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p)));
}

/// <summary>OCP FP8 E5M2: the top byte of a binary16.</summary>
internal readonly unsafe struct E5M2Loader : IElementLoader
{
    public static int ElementSize => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* p) => FloatConversion.E5M2ToSingle(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* p) =>
        HalfBits.ToSingle(Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(p).AsUInt32(), 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* p) =>
        HalfBits.ToSingle(Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector128.Load(p)), 8));
}

/// <summary>OCP FP8 E4M3 "fn": bias 7, no infinities, S.1111.111 is NaN, largest finite 448.</summary>
internal readonly unsafe struct E4M3Loader : IElementLoader
{
    public static int ElementSize => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* p) => FloatConversion.E4M3ToSingle(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* p) => E4M3Bits.ToSingle(Avx2.ConvertToVector256Int32(p).AsUInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* p) => E4M3Bits.ToSingle(Avx512F.ConvertToVector512UInt32(Vector128.Load(p)));
}

/// <summary>
/// binary16 bits (in the low 16 bits of each lane) to float32. The magnitude is shifted into float position and
/// re-biased (127 − 15); infinities/NaN get the exponent pushed to 255; subnormals and zeros are renormalised
/// exactly by adding the implicit bit and subtracting 2^−14 in float.
/// </summary>
internal static class HalfBits
{
    private const uint ExpMask = 0x0F800000;      // the 5 exponent bits after << 13
    private const uint Rebias = (127 - 15) << 23;
    private const uint Subnormal = 0x38800000;    // 2^-14 as float bits = (Rebias + 1 << 23)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<uint> h)
    {
        var shifted = Vector512.ShiftLeft(h & Vector512.Create(0x7FFFu), 13);
        var exp = shifted & Vector512.Create(ExpMask);
        var o = shifted + Vector512.Create(Rebias);
        o += Vector512.Equals(exp, Vector512.Create(ExpMask)) & Vector512.Create(Rebias);
        var sub = ((o + Vector512.Create(1u << 23)).AsSingle() - Vector512.Create(Subnormal).AsSingle()).AsUInt32();
        o = Vector512.ConditionalSelect(Vector512.Equals(exp, Vector512<uint>.Zero), sub, o);
        return (o | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<uint> h)
    {
        var shifted = Vector256.ShiftLeft(h & Vector256.Create(0x7FFFu), 13);
        var exp = shifted & Vector256.Create(ExpMask);
        var o = shifted + Vector256.Create(Rebias);
        o += Vector256.Equals(exp, Vector256.Create(ExpMask)) & Vector256.Create(Rebias);
        var sub = ((o + Vector256.Create(1u << 23)).AsSingle() - Vector256.Create(Subnormal).AsSingle()).AsUInt32();
        o = Vector256.ConditionalSelect(Vector256.Equals(exp, Vector256<uint>.Zero), sub, o);
        return (o | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }
}

/// <summary>
/// FP8 E4M3fn bits (low 8 bits of each lane) to float32: magnitude shifted so the 3 mantissa bits lead the float
/// mantissa, exponent re-biased (127 − 7), subnormals renormalised exactly (subtract 2^−6), S.1111.111 → NaN.
/// </summary>
internal static class E4M3Bits
{
    private const uint ExpMask = 0x07800000;      // the 4 exponent bits after << 20
    private const uint Rebias = (127 - 7) << 23;
    private const uint Subnormal = 0x3C800000;    // 2^-6 as float bits
    private const uint QuietNaN = 0x7FC00000;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<uint> b)
    {
        var mag = b & Vector512.Create(0x7Fu);
        var shifted = Vector512.ShiftLeft(mag, 20);
        var o = shifted + Vector512.Create(Rebias);
        var sub = ((o + Vector512.Create(1u << 23)).AsSingle() - Vector512.Create(Subnormal).AsSingle()).AsUInt32();
        o = Vector512.ConditionalSelect(Vector512.Equals(shifted & Vector512.Create(ExpMask), Vector512<uint>.Zero), sub, o);
        o = Vector512.ConditionalSelect(Vector512.Equals(mag, Vector512.Create(0x7Fu)), Vector512.Create(QuietNaN), o);
        return (o | Vector512.ShiftLeft(b & Vector512.Create(0x80u), 24)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<uint> b)
    {
        var mag = b & Vector256.Create(0x7Fu);
        var shifted = Vector256.ShiftLeft(mag, 20);
        var o = shifted + Vector256.Create(Rebias);
        var sub = ((o + Vector256.Create(1u << 23)).AsSingle() - Vector256.Create(Subnormal).AsSingle()).AsUInt32();
        o = Vector256.ConditionalSelect(Vector256.Equals(shifted & Vector256.Create(ExpMask), Vector256<uint>.Zero), sub, o);
        o = Vector256.ConditionalSelect(Vector256.Equals(mag, Vector256.Create(0x7Fu)), Vector256.Create(QuietNaN), o);
        return (o | Vector256.ShiftLeft(b & Vector256.Create(0x80u), 24)).AsSingle();
    }
}
