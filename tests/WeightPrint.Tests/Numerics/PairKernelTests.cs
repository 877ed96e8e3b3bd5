using CsCheck;
using WeightPrint.Formats;
using WeightPrint.Numerics;
using static WeightPrint.Tests.Numerics.KernelReference;

namespace WeightPrint.Tests.Numerics;

public class PairKernelTests
{
    [Fact]
    public void Every_length_0_to_256_at_misaligned_starts_matches_the_double_reference()
    {
        var rng = new Random(5);
        foreach (var dtype in FusedTypes)
        {
            int size = dtype.BlockBytes();
            foreach (double specialRate in new[] { 0.0, 0.03 })
            {
                var a = RandomElements(dtype, 300, rng, specialRate, scale: 2f);
                var b = RandomElements(dtype, 300, rng, specialRate, scale: 0.5f);
                for (int offA = 0; offA < 4; offA++)
                {
                    int offB = (offA + 1) % 4; // the two spans misaligned differently
                    var sa = new byte[offA + a.Length];
                    var sb = new byte[offB + b.Length];
                    a.CopyTo(sa, offA);
                    b.CopyTo(sb, offB);
                    for (int n = 0; n <= 256; n++)
                    {
                        var expected = Pairs(dtype, a, b, n);
                        foreach (var level in Levels())
                        {
                            var m = new PairMoments();
                            PairKernels.Accumulate(dtype, sa.AsSpan(offA, n * size), sb.AsSpan(offB, n * size), n, ref m, level);
                            Check(expected, m, $"{dtype} {level} offsets {offA}/{offB} n {n} specials {specialRate}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Random_pairs_match_the_reference_property()
    {
        var gen = Gen.Select(Gen.Int[0, FusedTypes.Length - 1], Gen.Int[0, 10_000], Gen.Int[0, int.MaxValue], Gen.Double[0, 0.01]);
        gen.Sample((typeIndex, n, seed, specialRate) =>
        {
            var dtype = FusedTypes[typeIndex];
            var rng = new Random(seed);
            var a = RandomElements(dtype, n, rng, specialRate, scale: 10f);
            var b = RandomElements(dtype, n, rng, specialRate, scale: 0.1f);
            var expected = Pairs(dtype, a, b, n);
            foreach (var level in Levels())
            {
                var m = new PairMoments();
                PairKernels.Accumulate(dtype, a, b, n, ref m, level);
                Check(expected, m, $"{dtype} {level} n {n}");
            }
        }, iter: 100);
    }

    [Fact]
    public void Cosine_and_correlation_of_known_vectors()
    {
        var x = Enumerable.Range(0, 5000).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        var y = x.Select(v => -3f * v + 7f).ToArray();
        foreach (var level in Levels())
        {
            var same = new PairMoments();
            PairKernels.Accumulate(x, x, ref same, level);
            Assert.Equal(1.0, same.Cosine, 6);
            Assert.Equal(1.0, same.Correlation, 6);
            var affine = new PairMoments();
            PairKernels.Accumulate(x, y, ref affine, level);
            Assert.Equal(-1.0, affine.Correlation, 5);
            Assert.Equal(5000, affine.Count);
        }

        var zeros = new PairMoments();
        PairKernels.Accumulate(new float[100], x.AsSpan(0, 100), ref zeros);
        Assert.True(double.IsNaN(zeros.Cosine));
        Assert.True(double.IsNaN(zeros.Correlation));
    }

    [Fact]
    public void Pairs_with_a_non_finite_member_are_left_out()
    {
        float[] a = [1f, float.NaN, 2f, 3f, float.PositiveInfinity];
        float[] b = [4f, 5f, float.NegativeInfinity, 6f, float.NaN];
        var longA = Enumerable.Repeat(a, 40).SelectMany(v => v).ToArray();
        var longB = Enumerable.Repeat(b, 40).SelectMany(v => v).ToArray();
        foreach (var level in Levels())
        {
            var m = new PairMoments();
            PairKernels.Accumulate(longA, longB, ref m, level);
            Assert.Equal(80, m.Count);
            Assert.Equal(120, m.NonFiniteCount);
            Assert.Equal(40 * (4 + 18), m.Dot, 9);
            Assert.Equal(40 * (1 + 9), m.SumOfSquaresA, 9);
            Assert.Equal(40 * (16 + 36), m.SumOfSquaresB, 9);
            Assert.Equal(40 * 4, m.SumA, 9);
            Assert.Equal(40 * 10, m.SumB, 9);
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var m = new PairMoments();
        Assert.Throws<ArgumentException>(() => PairKernels.Accumulate(new float[3], new float[4], ref m));
        Assert.Throws<ArgumentException>(() => PairKernels.Accumulate(TensorDType.BF16, new byte[8], new byte[6], 4, ref m));
        Assert.Throws<ArgumentException>(() => PairKernels.Accumulate(TensorDType.Q8_0, new byte[34], new byte[34], 32, ref m));
    }

    [Fact]
    public void Other_element_types_go_through_conversion()
    {
        var m = new PairMoments();
        PairKernels.Accumulate(TensorDType.I8, [1, 0xFE, 3], [2, 2, 0xFF], 3, ref m);
        Assert.Equal(3, m.Count);
        Assert.Equal(2 - 4 - 3, m.Dot);
        Assert.Equal(1 + 4 + 9, m.SumOfSquaresA);
    }

    private static void Check(PairRef e, PairMoments m, string what)
    {
        Assert.True(e.Count == m.Count, $"{what}: count {m.Count}, expected {e.Count}");
        Assert.True(e.Bad == m.NonFiniteCount, $"{what}: non-finite {m.NonFiniteCount}, expected {e.Bad}");
        Near(e.Dot, m.Dot, Tolerance(m.Count, e.AbsDot), what + " dot");
        Near(e.Qa, m.SumOfSquaresA, Tolerance(m.Count, e.Qa), what + " |a|²");
        Near(e.Qb, m.SumOfSquaresB, Tolerance(m.Count, e.Qb), what + " |b|²");
        Near(e.Sa, m.SumA, Tolerance(m.Count, e.AbsA), what + " Σa");
        Near(e.Sb, m.SumB, Tolerance(m.Count, e.AbsB), what + " Σb");
    }

    private static void Near(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tol, $"{what}: {actual:R}, expected {expected:R} ± {tol:G3}");
}
