using CsCheck;
using WeightPrint.Formats;
using WeightPrint.Numerics;
using static WeightPrint.Tests.Numerics.KernelReference;

namespace WeightPrint.Tests.Numerics;

public class MomentKernelTests
{
    [Fact]
    public void Every_length_0_to_256_at_misaligned_starts_matches_the_double_reference()
    {
        var rng = new Random(11);
        foreach (var dtype in FusedTypes)
        {
            int size = dtype.BlockBytes();
            foreach (double specialRate in new[] { 0.0, 0.03 })
            {
                var data = RandomElements(dtype, 300, rng, specialRate, scale: 3f);
                for (int offset = 0; offset < 4; offset++)
                {
                    var shifted = new byte[offset + data.Length];
                    data.CopyTo(shifted, offset);
                    for (int n = 0; n <= 256; n++)
                    {
                        var expected = KernelReference.Moments(dtype, data, n);
                        foreach (var level in Levels())
                        {
                            var m = global::WeightPrint.Numerics.Moments.Empty;
                            MomentKernels.Accumulate(dtype, shifted.AsSpan(offset, n * size), n, ref m, level);
                            Check(expected, m, $"{dtype} {level} offset {offset} n {n} specials {specialRate}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Float_span_overload_matches_the_byte_overload_and_the_public_entry_points()
    {
        var rng = new Random(3);
        var data = RandomElements(TensorDType.F32, 10_000, rng, 0.01);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray();
        var expected = KernelReference.Moments(TensorDType.F32, data, floats.Length);
        var a = global::WeightPrint.Numerics.Moments.Empty;
        MomentKernels.Accumulate(floats, ref a);
        Check(expected, a, "float span");
        var b = global::WeightPrint.Numerics.Moments.Empty;
        MomentKernels.Accumulate(TensorDType.F32, data, floats.Length, ref b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Non_finite_values_are_counted_apart_and_left_out()
    {
        float[] values = [1f, float.NaN, -2f, float.PositiveInfinity, 3f, float.NegativeInfinity, float.NaN];
        foreach (var level in Levels())
        {
            // Long enough for the vector loop: the specials land in vector lanes and in the tail.
            var many = Enumerable.Range(0, 100).SelectMany(_ => values).ToArray();
            var m = global::WeightPrint.Numerics.Moments.Empty;
            MomentKernels.Accumulate(many, ref m, level);
            Assert.Equal(300, m.Count);
            Assert.Equal(200, m.NaNCount);
            Assert.Equal(200, m.InfinityCount);
            Assert.Equal(200, m.Sum, 9);
            Assert.Equal(1400, m.SumOfSquares, 9);
            Assert.Equal(-2, m.Min);
            Assert.Equal(3, m.Max);
        }
    }

    [Fact]
    public void Float_overflow_of_finite_values_keeps_the_scalar_semantics_at_every_width()
    {
        // Squares of 1e30 overflow a float partial sum: every path reports what the scalar reference loop does
        // (an infinite sum of squares), never a silently different number.
        var values = Enumerable.Repeat(1e30f, 100).Append(float.NaN).ToArray();
        foreach (var level in Levels())
        {
            var m = global::WeightPrint.Numerics.Moments.Empty;
            MomentKernels.Accumulate(values, ref m, level);
            Assert.Equal(100, m.Count);
            Assert.Equal(1, m.NaNCount);
            Assert.Equal(1e32, m.Sum, 1e26);
            Assert.Equal(double.PositiveInfinity, m.SumOfSquares);
            Assert.Equal(1e30f, (float)m.Max);
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var m = global::WeightPrint.Numerics.Moments.Empty;
        Assert.Throws<ArgumentException>(() => MomentKernels.Accumulate(TensorDType.F16, new byte[5], 3, ref m));
        Assert.Throws<ArgumentException>(() => MomentKernels.Accumulate(TensorDType.Q4_0, new byte[18], 32, ref m));
        Assert.Throws<ArgumentOutOfRangeException>(() => MomentKernels.Accumulate(TensorDType.F32, new byte[8], -1, ref m));
    }

    [Fact]
    public void Other_element_types_go_through_conversion()
    {
        var bytes = new byte[] { 0xFF, 0x02, 0x80 }; // I8: -1, 2, -128
        var m = global::WeightPrint.Numerics.Moments.Empty;
        MomentKernels.Accumulate(TensorDType.I8, bytes, 3, ref m);
        Assert.Equal(3, m.Count);
        Assert.Equal(-127, m.Sum);
        Assert.Equal(1 + 4 + 16384, m.SumOfSquares);
        Assert.Equal(-128, m.Min);
        Assert.Equal(2, m.Max);
    }

    [Fact]
    public void Random_stored_patterns_match_the_reference_property()
    {
        // Any bit pattern of f16 and the fp8 formats (NaN and infinities included); bf16/f32 from bounded floats
        // with specials mixed in (unbounded f32 patterns overflow float sums, which the reference does not).
        var special = Gen.OneOf(Gen.Const(float.NaN), Gen.Const(float.PositiveInfinity), Gen.Const(float.NegativeInfinity), Gen.Const(-0f), Gen.Const(1e-40f));
        var value = Gen.Frequency((20, (IGen<float>)Gen.Float[-1e4f, 1e4f]), (1, special));
        var gen = Gen.Select(Gen.Int[0, FusedTypes.Length - 1], Gen.Int[0, 3], Gen.Byte.Array[0, 20_000], value.Array[0, 10_000]);
        gen.Sample((typeIndex, offset, raw, floats) =>
        {
            var dtype = FusedTypes[typeIndex];
            int size = dtype.BlockBytes();
            byte[] data;
            if (dtype is TensorDType.F32 or TensorDType.BF16)
            {
                data = new byte[floats.Length * size];
                for (int i = 0; i < floats.Length; i++) Encode(dtype, floats[i], data, i);
            }
            else data = raw[..(raw.Length / size * size)];
            int n = data.Length / size;
            var shifted = new byte[offset + data.Length];
            data.CopyTo(shifted, offset);
            var expected = KernelReference.Moments(dtype, data, n);
            foreach (var level in Levels())
            {
                var m = global::WeightPrint.Numerics.Moments.Empty;
                MomentKernels.Accumulate(dtype, shifted.AsSpan(offset), n, ref m, level);
                Check(expected, m, $"{dtype} {level} n {n}");
            }
        }, iter: 300);
    }

    [Fact]
    public void Float_per_chunk_and_double_across_stays_within_1e_minus_6_over_50M_values()
    {
        // 50M values of mean 1e-3 and std 1e-2, streamed through the kernel in 1M-element calls (a multiple of
        // the chunk, so chunking is as for one span), against double accumulation of the same floats.
        const int total = 50_000_000, batch = 1 << 20;
        var rng = new Random(2024);
        var buffer = new float[batch];
        var bf16 = new byte[batch * 2];
        var m = global::WeightPrint.Numerics.Moments.Empty;
        var mb = global::WeightPrint.Numerics.Moments.Empty;
        double s = 0, q = 0, sb = 0, qb = 0;
        for (int done = 0; done < total; done += batch)
        {
            int n = Math.Min(batch, total - done);
            for (int i = 0; i < n; i++)
            {
                float v = (float)(1e-3 + 1e-2 * Normal(rng));
                buffer[i] = v;
                s += v;
                q += (double)v * v;
                ushort bits = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
                BitConverter.TryWriteBytes(bf16.AsSpan(2 * i), bits);
                double w = BF16(bits);
                sb += w;
                qb += w * w;
            }

            MomentKernels.Accumulate(buffer.AsSpan(0, n), ref m);
            MomentKernels.Accumulate(TensorDType.BF16, bf16, n, ref mb);
        }

        Assert.Equal(total, m.Count);
        AssertRelative(s, m.Sum, 1e-6, "f32 sum");
        AssertRelative(q, m.SumOfSquares, 1e-6, "f32 sum of squares");
        AssertRelative(StdOf(total, s, q), m.StandardDeviation, 1e-6, "f32 std");
        AssertRelative(sb, mb.Sum, 1e-6, "bf16 sum");
        AssertRelative(qb, mb.SumOfSquares, 1e-6, "bf16 sum of squares");
        AssertRelative(StdOf(total, sb, qb), mb.StandardDeviation, 1e-6, "bf16 std");
    }

    internal static void Check(MomentsRef expected, global::WeightPrint.Numerics.Moments m, string what)
    {
        Assert.True(expected.Count == m.Count, $"{what}: count {m.Count}, expected {expected.Count}");
        Assert.True(expected.NaN == m.NaNCount, $"{what}: NaN count {m.NaNCount}, expected {expected.NaN}");
        Assert.True(expected.Inf == m.InfinityCount, $"{what}: infinity count {m.InfinityCount}, expected {expected.Inf}");
        Assert.True(expected.Min == m.Min, $"{what}: min {m.Min}, expected {expected.Min}");
        Assert.True(expected.Max == m.Max, $"{what}: max {m.Max}, expected {expected.Max}");
        double tolS = Tolerance(m.Count, expected.SumAbs), tolQ = Tolerance(m.Count, expected.SumSq);
        Assert.True(Math.Abs(m.Sum - expected.Sum) <= tolS, $"{what}: sum {m.Sum:R}, expected {expected.Sum:R} ± {tolS:G3}");
        Assert.True(Math.Abs(m.SumOfSquares - expected.SumOfSquares) <= tolQ, $"{what}: sum of squares {m.SumOfSquares:R}, expected {expected.SumOfSquares:R} ± {tolQ:G3}");
    }

    internal static void AssertRelative(double expected, double actual, double relative, string what) =>
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected), $"{what}: {actual:R} vs {expected:R} (relative error {Math.Abs(actual - expected) / Math.Abs(expected):G3})");

    private static double StdOf(long n, double s, double q)
    {
        double mean = s / n;
        return Math.Sqrt((q - mean * s) / (n - 1));
    }
}
