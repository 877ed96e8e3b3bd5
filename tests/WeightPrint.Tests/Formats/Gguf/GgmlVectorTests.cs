using System.Runtime.InteropServices;
using WeightPrint.Formats;
using WeightPrint.Numerics;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats.Gguf;

/// <summary>Blocks and the floats ggml's own dequantize_row_* made of them (see GgmlVectors/README.md).</summary>
public class GgmlVectorTests
{
    private static string VectorFile(string name)
        => Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Formats", "Gguf", "GgmlVectors", name);

    [Theory]
    [MemberData(nameof(BlockDequantizerTests.QuantTypes), MemberType = typeof(BlockDequantizerTests))]
    public void Dequantisation_is_bit_exact_to_ggml(TensorDType t)
    {
        var blocks = File.ReadAllBytes(VectorFile($"{t}.blocks"));
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(VectorFile($"{t}.f32"))).ToArray();
        Assert.Equal(0, blocks.Length % t.BlockBytes());
        Assert.Equal(blocks.Length / t.BlockBytes() * t.BlockElements(), expected.Length);

        var actual = new float[expected.Length];
        BlockDequantizer.Dequantize(t, blocks, actual);
        var reference = ReferenceDequantizer.Dequantize(t, blocks);
        for (int i = 0; i < expected.Length; i++)
        {
            int want = BitConverter.SingleToInt32Bits(expected[i]);
            if (want != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{t} element {i}: ggml gives {expected[i]:R}, BlockDequantizer {actual[i]:R}");
            if (want != BitConverter.SingleToInt32Bits(reference[i]))
                Assert.Fail($"{t} element {i}: ggml gives {expected[i]:R}, the test reference {reference[i]:R}");
        }
    }
}
