using WeightPrint.Formats;
using WeightPrint.Numerics;
using static WeightPrint.Tests.Numerics.KernelReference;

namespace WeightPrint.Tests.Numerics;

public class FloatConversionTests
{
    [Fact]
    public void F16_all_65536_patterns_convert_exactly_at_every_vector_width()
    {
        var bytes = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), (ushort)i);
        foreach (var level in Levels())
        {
            var floats = new float[65536];
            FloatConversion.ToSingle(TensorDType.F16, bytes, floats, level);
            for (int i = 0; i < 65536; i++) AssertSame(F16((ushort)i), floats[i], $"{level} f16 0x{i:X4}");
        }

        for (int i = 0; i < 65536; i++) AssertSame(F16((ushort)i), FloatConversion.F16ToSingle((ushort)i), $"scalar f16 0x{i:X4}");
    }

    [Fact]
    public void BF16_all_65536_patterns_are_the_top_half_of_a_float()
    {
        var bytes = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), (ushort)i);
        foreach (var level in Levels())
        {
            var floats = new float[65536];
            FloatConversion.ToSingle(TensorDType.BF16, bytes, floats, level);
            for (int i = 0; i < 65536; i++) AssertSame(BF16((ushort)i), floats[i], $"{level} bf16 0x{i:X4}");
        }

        for (int i = 0; i < 65536; i++) AssertSame(BF16((ushort)i), FloatConversion.BF16ToSingle((ushort)i), $"scalar bf16 0x{i:X4}");
    }

    [Fact]
    public void E4M3_all_256_patterns_follow_the_fn_definition()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        foreach (var level in Levels())
        {
            var floats = new float[256];
            FloatConversion.ToSingle(TensorDType.F8_E4M3, bytes, floats, level);
            for (int i = 0; i < 256; i++) AssertSame(E4M3((byte)i), floats[i], $"{level} e4m3 0x{i:X2}");
        }

        for (int i = 0; i < 256; i++) AssertSame(E4M3((byte)i), FloatConversion.E4M3ToSingle((byte)i), $"scalar e4m3 0x{i:X2}");

        // The definition's landmarks, independent of the reference function.
        Assert.Equal(448f, FloatConversion.E4M3ToSingle(0x7E));
        Assert.Equal(-448f, FloatConversion.E4M3ToSingle(0xFE));
        Assert.True(float.IsNaN(FloatConversion.E4M3ToSingle(0x7F)));
        Assert.True(float.IsNaN(FloatConversion.E4M3ToSingle(0xFF)));
        Assert.Equal(MathF.ScaleB(1, -9), FloatConversion.E4M3ToSingle(0x01)); // smallest subnormal
        Assert.Equal(MathF.ScaleB(1, -6), FloatConversion.E4M3ToSingle(0x08)); // smallest normal
        Assert.Equal(1f, FloatConversion.E4M3ToSingle(0x38));
        Assert.Equal(0, Enumerable.Range(0, 256).Count(i => float.IsInfinity(FloatConversion.E4M3ToSingle((byte)i))));
        Assert.Equal(2, Enumerable.Range(0, 256).Count(i => float.IsNaN(FloatConversion.E4M3ToSingle((byte)i))));
    }

    [Fact]
    public void E5M2_all_256_patterns_are_the_top_byte_of_an_f16()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        foreach (var level in Levels())
        {
            var floats = new float[256];
            FloatConversion.ToSingle(TensorDType.F8_E5M2, bytes, floats, level);
            for (int i = 0; i < 256; i++) AssertSame(E5M2((byte)i), floats[i], $"{level} e5m2 0x{i:X2}");
        }

        for (int i = 0; i < 256; i++) AssertSame(E5M2((byte)i), FloatConversion.E5M2ToSingle((byte)i), $"scalar e5m2 0x{i:X2}");
        Assert.Equal(57344f, FloatConversion.E5M2ToSingle(0x7B));
        Assert.Equal(float.PositiveInfinity, FloatConversion.E5M2ToSingle(0x7C));
        Assert.Equal(float.NegativeInfinity, FloatConversion.E5M2ToSingle(0xFC));
        Assert.True(float.IsNaN(FloatConversion.E5M2ToSingle(0x7D)));
    }

    [Fact]
    public void Every_length_and_misaligned_start_converts_like_the_scalar_reference()
    {
        var rng = new Random(7);
        foreach (var dtype in FusedTypes)
        {
            int size = dtype.BlockBytes();
            var data = RandomElements(dtype, 300, rng, specialRate: 0.05);
            foreach (var level in Levels())
            {
                for (int offset = 0; offset < 4; offset++)
                {
                    // Shift the data by `offset` bytes so vector loads start misaligned.
                    var shifted = new byte[offset + data.Length];
                    data.CopyTo(shifted, offset);
                    for (int n = 0; n <= 256; n++)
                    {
                        var dst = new float[n + 1];
                        dst[n] = 12345f; // sentinel: nothing past n is written
                        FloatConversion.ToSingle(dtype, shifted.AsSpan(offset, n * size), dst.AsSpan(0, n), level);
                        for (int i = 0; i < n; i++) AssertSame(Element(dtype, data, i), dst[i], $"{dtype} {level} offset {offset} n {n} i {i}");
                        Assert.Equal(12345f, dst[n]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Other_element_types_still_convert()
    {
        var dst = new float[2];
        FloatConversion.ToSingle(TensorDType.I16, [0xFF, 0xFF, 0x02, 0x00], dst);
        Assert.Equal([-1f, 2f], dst);
        FloatConversion.ToSingle(TensorDType.F64, BitConverter.GetBytes(1.5).Concat(BitConverter.GetBytes(-2.25)).ToArray(), dst);
        Assert.Equal([1.5f, -2.25f], dst);
        Assert.Throws<ArgumentException>(() => FloatConversion.ToSingle(TensorDType.BF16, new byte[3], new float[2]));
        Assert.Throws<ArgumentException>(() => FloatConversion.ToSingle(TensorDType.Q8_0, new byte[34], new float[32]));
    }

    /// <summary>Bit-identical, except that any NaN matches any NaN.</summary>
    internal static void AssertSame(float expected, float actual, string what)
    {
        if (float.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"{what}: expected NaN, got {actual}");
            return;
        }

        if (BitConverter.SingleToUInt32Bits(expected) != BitConverter.SingleToUInt32Bits(actual))
            Assert.Fail($"{what}: expected {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8}), got {actual:R} (0x{BitConverter.SingleToUInt32Bits(actual):X8})");
    }
}
