using System.Runtime.InteropServices;
using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Fused convert-and-reduce: accumulates <see cref="Moments"/> straight from stored bytes in one pass.
/// Sums are kept in float per chunk of <see cref="ChunkElements"/> and in double across chunks.
/// </summary>
public static class MomentKernels
{
    /// <summary>Elements reduced in float before the partial sums are folded into double.</summary>
    public const int ChunkElements = 4096;

    /// <summary>Accumulates moments of floats already converted.</summary>
    public static void Accumulate(ReadOnlySpan<float> values, ref Moments m)
    {
        for (int start = 0; start < values.Length; start += ChunkElements)
        {
            var chunk = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
            float s = 0, q = 0, mn = float.PositiveInfinity, mx = float.NegativeInfinity;
            long nan = 0, inf = 0;
            foreach (float v in chunk)
            {
                if (!float.IsFinite(v))
                {
                    if (float.IsNaN(v)) nan++; else inf++;
                    continue;
                }

                s += v;
                q += v * v;
                if (v < mn) mn = v;
                if (v > mx) mx = v;
            }

            m.Count += chunk.Length - nan - inf;
            m.Sum += s;
            m.SumOfSquares += q;
            if (mn < m.Min) m.Min = mn;
            if (mx > m.Max) m.Max = mx;
            m.NaNCount += nan;
            m.InfinityCount += inf;
        }
    }

    /// <summary>
    /// Accumulates moments of <paramref name="count"/> elements of an element-wise dtype stored in
    /// <paramref name="bytes"/>.
    /// </summary>
    public static void Accumulate(TensorDType dtype, ReadOnlySpan<byte> bytes, int count, ref Moments m)
    {
        if (dtype == TensorDType.F32)
        {
            Accumulate(MemoryMarshal.Cast<byte, float>(bytes[..(count * 4)]), ref m);
            return;
        }

        Span<float> buffer = stackalloc float[ChunkElements];
        int size = dtype.BlockBytes();
        for (int start = 0; start < count; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, count - start);
            FloatConversion.ToSingle(dtype, bytes.Slice(start * size, n * size), buffer[..n]);
            Accumulate(buffer[..n], ref m);
        }
    }
}
