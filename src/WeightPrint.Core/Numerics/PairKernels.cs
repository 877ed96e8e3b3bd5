using System.Runtime.InteropServices;
using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Fused pairwise reductions of two equally long spans: dot product, both squared norms and both sums in one pass
/// (<see cref="PairMoments"/>), straight from stored bytes for F32, F16, BF16, F8_E4M3 and F8_E5M2.
/// Float per chunk of <see cref="MomentKernels.ChunkElements"/>, double across chunks, as <see cref="MomentKernels"/>.
/// </summary>
internal static unsafe class PairKernels
{
    /// <summary>Accumulates pairs (a[i], b[i]) of floats already converted. The spans must be equally long.</summary>
    public static void Accumulate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ref PairMoments m) =>
        Accumulate(a, b, ref m, SimdLevels.Best);

    /// <summary>
    /// Accumulates <paramref name="count"/> pairs of stored elements of the same element-wise dtype. F32, F16,
    /// BF16 and the fp8 formats are converted inside the loop; other element-wise dtypes go through a float buffer.
    /// </summary>
    public static void Accumulate(TensorDType dtype, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int count, ref PairMoments m) =>
        Accumulate(dtype, a, b, count, ref m, SimdLevels.Best);

    internal static void Accumulate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ref PairMoments m, SimdLevel level)
    {
        if (a.Length != b.Length) throw new ArgumentException("spans must be equally long", nameof(b));
        Accumulate(TensorDType.F32, MemoryMarshal.AsBytes(a), MemoryMarshal.AsBytes(b), a.Length, ref m, level);
    }

    internal static void Accumulate(TensorDType dtype, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int count, ref PairMoments m, SimdLevel level)
    {
        if (dtype.IsBlockQuantized()) throw new ArgumentException($"{dtype} is block-quantised", nameof(dtype));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long bytes = (long)count * dtype.BlockBytes();
        if (a.Length < bytes) throw new ArgumentException("first span too short", nameof(a));
        if (b.Length < bytes) throw new ArgumentException("second span too short", nameof(b));
        if (count == 0) return;
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            switch (dtype)
            {
                case TensorDType.F32: SimdKernels.Pairs<F32Loader>(pa, pb, count, ref m, level); return;
                case TensorDType.BF16: SimdKernels.Pairs<BF16Loader>(pa, pb, count, ref m, level); return;
                case TensorDType.F16: SimdKernels.Pairs<F16Loader>(pa, pb, count, ref m, level); return;
                case TensorDType.F8_E4M3: SimdKernels.Pairs<E4M3Loader>(pa, pb, count, ref m, level); return;
                case TensorDType.F8_E5M2: SimdKernels.Pairs<E5M2Loader>(pa, pb, count, ref m, level); return;
            }
        }

        int size = dtype.BlockBytes();
        const int step = MomentKernels.ChunkElements;
        float[] buffer = System.Buffers.ArrayPool<float>.Shared.Rent(2 * step);
        try
        {
            for (int start = 0; start < count; start += step)
            {
                int n = Math.Min(step, count - start);
                var fa = buffer.AsSpan(0, n);
                var fb = buffer.AsSpan(step, n);
                FloatConversion.ToSingle(dtype, a.Slice(start * size, n * size), fa);
                FloatConversion.ToSingle(dtype, b.Slice(start * size, n * size), fb);
                Accumulate(fa, fb, ref m, level);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
