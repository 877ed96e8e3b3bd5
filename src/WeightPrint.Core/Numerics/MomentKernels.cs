using System.Runtime.InteropServices;
using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Fused convert-and-reduce: accumulates <see cref="Moments"/> straight from stored bytes in one pass, with
/// Vector512 (AVX-512) or Vector256 (AVX2) loops where the machine has them and a scalar loop otherwise.
/// Sums are kept in float per chunk of <see cref="ChunkElements"/> and in double across chunks.
/// </summary>
internal static unsafe class MomentKernels
{
    /// <summary>Elements reduced in float before the partial sums are folded into double.</summary>
    public const int ChunkElements = 4096;

    /// <summary>The vector width the kernels run at on this machine, with the CPU features behind it.</summary>
    public static string SimdDescription => SimdLevels.Describe();

    /// <summary>Accumulates moments of floats already converted.</summary>
    public static void Accumulate(ReadOnlySpan<float> values, ref Moments m) => Accumulate(values, ref m, SimdLevels.Best);

    /// <summary>
    /// Accumulates moments of <paramref name="count"/> elements of an element-wise dtype stored in
    /// <paramref name="bytes"/>. F32, F16, BF16 and the fp8 formats are converted inside the reduction loop.
    /// </summary>
    public static void Accumulate(TensorDType dtype, ReadOnlySpan<byte> bytes, int count, ref Moments m) =>
        Accumulate(dtype, bytes, count, ref m, SimdLevels.Best);

    internal static void Accumulate(ReadOnlySpan<float> values, ref Moments m, SimdLevel level) =>
        Accumulate(TensorDType.F32, MemoryMarshal.AsBytes(values), values.Length, ref m, level);

    internal static void Accumulate(TensorDType dtype, ReadOnlySpan<byte> bytes, int count, ref Moments m, SimdLevel level)
    {
        if (dtype.IsBlockQuantized()) throw new ArgumentException($"{dtype} is block-quantised", nameof(dtype));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int size = dtype.BlockBytes();
        if (bytes.Length < (long)count * size) throw new ArgumentException("source too short", nameof(bytes));
        if (count == 0) return;
        fixed (byte* p = bytes)
        {
            switch (dtype)
            {
                case TensorDType.F32: SimdKernels.Moments<F32Loader>(p, count, ref m, level); return;
                case TensorDType.BF16: SimdKernels.Moments<BF16Loader>(p, count, ref m, level); return;
                case TensorDType.F16: SimdKernels.Moments<F16Loader>(p, count, ref m, level); return;
                case TensorDType.F8_E4M3: SimdKernels.Moments<E4M3Loader>(p, count, ref m, level); return;
                case TensorDType.F8_E5M2: SimdKernels.Moments<E5M2Loader>(p, count, ref m, level); return;
            }
        }

        Span<float> buffer = stackalloc float[ChunkElements];
        for (int start = 0; start < count; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, count - start);
            FloatConversion.ToSingle(dtype, bytes.Slice(start * size, n * size), buffer[..n]);
            Accumulate(buffer[..n], ref m, level);
        }
    }
}
