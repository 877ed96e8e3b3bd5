using System.Buffers.Binary;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Numerics;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats.Gguf;

public class BlockDequantizerTests
{
    public static readonly TheoryData<TensorDType> QuantTypes =
    [
        TensorDType.Q4_0, TensorDType.Q4_1, TensorDType.Q5_0, TensorDType.Q5_1, TensorDType.Q8_0,
        TensorDType.Q2_K, TensorDType.Q3_K, TensorDType.Q4_K, TensorDType.Q5_K, TensorDType.Q6_K,
    ];

    /// <summary>Relative RMS error bound of the test quantisers on Gaussian data, per type.</summary>
    private static double RmsBound(TensorDType t) => t switch
    {
        TensorDType.Q8_0 => 0.007,
        TensorDType.Q6_K => 0.03,
        TensorDType.Q5_0 or TensorDType.Q5_1 or TensorDType.Q5_K => 0.06,
        TensorDType.Q4_0 or TensorDType.Q4_1 or TensorDType.Q4_K => 0.12,
        TensorDType.Q3_K => 0.25,
        TensorDType.Q2_K => 0.45,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static float[] Gaussian(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }

    /// <summary>Random bytes with every fp16 scale field replaced by a finite random half, so that every bit
    /// pattern of the quantised payload is exercised.</summary>
    private static byte[] RandomBlocks(TensorDType t, int blocks, int seed)
    {
        var rng = new Random(seed);
        int bb = t.BlockBytes();
        var data = new byte[blocks * bb];
        rng.NextBytes(data);
        int[] halfAt = t switch
        {
            TensorDType.Q4_0 or TensorDType.Q5_0 or TensorDType.Q8_0 => [0],
            TensorDType.Q4_1 or TensorDType.Q5_1 or TensorDType.Q4_K or TensorDType.Q5_K => [0, 2],
            TensorDType.Q2_K => [80, 82],
            TensorDType.Q3_K => [108],
            TensorDType.Q6_K => [208],
            _ => [],
        };
        for (int b = 0; b < blocks; b++)
        {
            foreach (int at in halfAt)
            {
                float v = (float)((rng.NextDouble() * 2) - 1) * (float)Math.Pow(2, rng.Next(-20, 8));
                BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan((b * bb) + at), GgmlQuantizer.ToHalfBits(v));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void Random_blocks_dequantise_bit_exactly_like_the_reference(TensorDType t)
    {
        const int blocks = 97;
        var data = RandomBlocks(t, blocks, seed: (int)t);
        var expected = ReferenceDequantizer.Dequantize(t, data);
        var actual = new float[blocks * t.BlockElements()];
        BlockDequantizer.Dequantize(t, data, actual);
        for (int i = 0; i < actual.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{t} element {i} (block {i / t.BlockElements()}, index {i % t.BlockElements()}): reference {expected[i]:R} but got {actual[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void Quantised_gaussian_data_round_trips_exactly_and_closely(TensorDType t)
    {
        var x = Gaussian(8 * 256, seed: 100 + (int)t, scale: 0.05f);
        var bytes = GgmlQuantizer.Quantize(t, x);
        Assert.Equal(x.Length / t.BlockElements() * t.BlockBytes(), bytes.Length);
        var reference = ReferenceDequantizer.Dequantize(t, bytes);
        var actual = new float[x.Length];
        BlockDequantizer.Dequantize(t, bytes, actual);
        Assert.Equal(reference, actual);

        double err = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (actual[i] - x[i]) * (double)(actual[i] - x[i]);
            norm += x[i] * (double)x[i];
        }

        double relRms = Math.Sqrt(err / norm);
        Assert.True(relRms < RmsBound(t), $"{t}: relative RMS error {relRms:F4} exceeds {RmsBound(t)}");
    }

    [Fact]
    public void Q8_0_error_is_within_half_a_step_of_each_block_scale()
    {
        var x = Gaussian(64 * 32, seed: 7);
        var bytes = GgmlQuantizer.Quantize(TensorDType.Q8_0, x);
        var y = new float[x.Length];
        BlockDequantizer.Dequantize(TensorDType.Q8_0, bytes, y);
        for (int i = 0; i < x.Length; i++)
        {
            float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i / 32 * 34)));
            Assert.True(Math.Abs(y[i] - x[i]) <= (0.5 * d) + 1e-7, $"element {i}: |{y[i]} − {x[i]}| > d/2 = {d / 2}");
        }
    }

    [Fact]
    public void Known_blocks_decode_to_hand_computed_values()
    {
        // Q8_0: d = 0.5, qs = -3, 0, 7 ...
        var q8 = new byte[34];
        BinaryPrimitives.WriteUInt16LittleEndian(q8, GgmlQuantizer.ToHalfBits(0.5f));
        q8[2] = unchecked((byte)-3);
        q8[4] = 7;
        var y = new float[32];
        BlockDequantizer.Dequantize(TensorDType.Q8_0, q8, y);
        Assert.Equal(-1.5f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(3.5f, y[2]);

        // Q4_0: d = 2, qs[0] = 0xF1: element 0 = (1 − 8)·2 = −14, element 16 = (15 − 8)·2 = 14.
        var q4 = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(q4, GgmlQuantizer.ToHalfBits(2f));
        q4[2] = 0xF1;
        BlockDequantizer.Dequantize(TensorDType.Q4_0, q4, y);
        Assert.Equal(-14f, y[0]);
        Assert.Equal(14f, y[16]);
        Assert.Equal(-16f, y[1]);

        // Q5_0: d = 1, qh bit 16 set, qs[0] = 0x20: element 0 = 0 − 16, element 16 = (2 | 16) − 16 = 2.
        var q5 = new byte[22];
        BinaryPrimitives.WriteUInt16LittleEndian(q5, GgmlQuantizer.ToHalfBits(1f));
        BinaryPrimitives.WriteUInt32LittleEndian(q5.AsSpan(2), 1u << 16);
        q5[6] = 0x20;
        BlockDequantizer.Dequantize(TensorDType.Q5_0, q5, y);
        Assert.Equal(-16f, y[0]);
        Assert.Equal(2f, y[16]);
    }

    [Fact]
    public void Rejects_partial_blocks_and_short_sources()
    {
        Assert.Throws<ArgumentException>(() => BlockDequantizer.Dequantize(TensorDType.Q8_0, new byte[34], new float[31]));
        Assert.Throws<ArgumentException>(() => BlockDequantizer.Dequantize(TensorDType.Q4_K, new byte[143], new float[256]));
        Assert.Throws<ArgumentException>(() => BlockDequantizer.Dequantize(TensorDType.F32, new byte[4], new float[1]));
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void TensorReader_streams_any_element_range_of_a_quantised_tensor(TensorDType t)
    {
        int be = t.BlockElements();
        int rows = 5, cols = 2 * be;
        var data = RandomBlocks(t, rows * cols / be, seed: 1000 + (int)t);
        var expected = ReferenceDequantizer.Dequantize(t, data);
        using var source = new MemoryByteSource("mem", data);
        var info = new TensorInfo("w", t, [rows, cols], source, 0);
        Assert.Equal(expected, TestTensors.ReadAll(info));
        var slice = new float[be + 7];
        TensorReader.ReadFloats(info, be - 3, slice);
        Assert.Equal(expected.AsSpan(be - 3, slice.Length).ToArray(), slice);
    }
}
