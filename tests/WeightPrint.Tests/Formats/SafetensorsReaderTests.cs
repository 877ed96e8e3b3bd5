using System.Buffers.Binary;
using System.Text;
using WeightPrint.Formats;
using WeightPrint.Formats.Safetensors;
using WeightPrint.IO;
using WeightPrint.Numerics;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats;

public class SafetensorsReaderTests
{
    /// <summary>Builds a safetensors file byte by byte: 8-byte length, header text, data.</summary>
    internal static byte[] Build(string header, byte[] data, ulong? claimedLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, claimedLength ?? (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        return file;
    }

    private static Checkpoint Open(byte[] file) => SafetensorsReader.Open(new MemoryByteSource("test.safetensors", file));

    private static InvalidModelFileException Fails(byte[] file) => Assert.Throws<InvalidModelFileException>(() => Open(file));

    public static TheoryData<string, int, Func<float, byte[]>> DTypes => new()
    {
        { "F32", 4, v => BitConverter.GetBytes(v) },
        { "F64", 8, v => BitConverter.GetBytes((double)v) },
        { "F16", 2, v => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v)) },
        { "BF16", 2, v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)) },
        { "F8_E5M2", 1, v => [(byte)(BitConverter.HalfToUInt16Bits((Half)v) >> 8)] },
        { "F8_E4M3", 1, v => [v switch { 1f => 0x38, -2f => 0xC0, 0.5f => 0x30, _ => 0x00 }] },
        { "I64", 8, v => BitConverter.GetBytes((long)v) },
        { "I32", 4, v => BitConverter.GetBytes((int)v) },
        { "I16", 2, v => BitConverter.GetBytes((short)v) },
        { "I8", 1, v => [(byte)(sbyte)v] },
        { "U8", 1, v => [(byte)MathF.Truncate(Math.Abs(v))] },
        { "BOOL", 1, v => [(byte)(v != 0 ? 1 : 0)] },
    };

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Every_dtype_round_trips(string dtype, int size, Func<float, byte[]> encode)
    {
        float[] values = [1f, -2f, 0.5f, 0f, 1f, 0.5f];
        if (dtype == "U8") values = values.Select(v => MathF.Truncate(Math.Abs(v))).ToArray();
        if (dtype == "BOOL") values = values.Select(v => v != 0 ? 1f : 0f).ToArray();
        if (dtype is "I64" or "I32" or "I16" or "I8") values = values.Select(MathF.Truncate).ToArray();
        var data = values.SelectMany(encode).ToArray();
        Assert.Equal(values.Length * size, data.Length);
        string header = $$$"""{"__metadata__":{"format":"pt"},"w":{"dtype":"{{{dtype}}}","shape":[2,3],"data_offsets":[0,{{{data.Length}}}]}}""";
        using var c = Open(Build(header, data));
        var t = Assert.Single(c.Tensors);
        Assert.Equal(SafetensorsReader.ParseDType(dtype), t.DType);
        Assert.Equal([2L, 3L], t.Shape);
        Assert.Equal("pt", c.Metadata["format"]);
        Assert.Equal(values, TestTensors.ReadAll(t));
        var m = TensorReader.ComputeMoments(t);
        Assert.Equal(values.Sum(), m.Sum, 6);
    }

    [Fact]
    public void Tensors_are_listed_without_reading_data_and_offsets_may_come_in_any_order()
    {
        var data = new byte[24];
        BitConverter.GetBytes(7f).CopyTo(data, 16);
        string header = """{"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        using var c = Open(Build(header, data));
        Assert.Equal(["b", "a"], c.Tensors.Select(t => t.Name));
        Assert.Equal(7f, TestTensors.ReadAll(c.Find("b")!)[0]);
    }

    [Fact]
    public void Empty_tensors_and_scalars_are_valid()
    {
        string header = """{"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}""";
        using var c = Open(Build(header, BitConverter.GetBytes(3f)));
        Assert.Equal(0, c.Find("e")!.ElementCount);
        Assert.Equal(3f, TestTensors.ReadAll(c.Find("s")!)[0]);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "truncated")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}""", 8, "not a non-negative integer")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}}""", 8, "overflows")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16, "duplicate")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "gap")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "must equal the file size")]
    [InlineData("""{"a":{"dtype":"Q4_0","shape":[1],"data_offsets":[0,4]}}""", 4, "unsupported dtype Q4_0 in tensor a")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "before begin")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", 4, "data_offsets")]
    [InlineData("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "missing dtype")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    [InlineData("""{"a": """, 0, "not valid JSON")]
    [InlineData("""{"__metadata__":{"k":1}}""", 0, "not a string")]
    public void Hostile_headers_fail_with_a_clear_message(string header, int dataBytes, string expected)
    {
        var e = Fails(Build(header, new byte[dataBytes]));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("test.safetensors: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Header_length_beyond_the_file_or_the_cap_fails_before_allocating()
    {
        Assert.Contains("exceeds", Fails(Build("{}", [], claimedLength: 200_000_000)).Message);
        Assert.Contains("truncated", Fails(Build("{}", [], claimedLength: 50_000_000)).Message);
        Assert.Contains("too small", Fails([1, 2, 3]).Message);
    }

    [Fact]
    public void Invalid_utf8_in_the_header_is_rejected()
    {
        var file = Build("{\"\u00e9\":1}", []);
        file[10] = 0xFF; // break the two-byte sequence for é
        Assert.Contains("UTF-8", Fails(file).Message);
    }

    [Fact]
    public void Deeply_nested_json_is_rejected_quickly()
    {
        string deep = "{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}";
        Assert.Contains("not valid JSON", Fails(Build(deep, [])).Message);
    }

    [Fact]
    public void Reading_past_a_tensor_is_refused()
    {
        using var c = Open(Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorReader.ReadFloats(c.Tensors[0], 1, new float[2]));
    }

    [Fact]
    public void Moments_of_a_long_bf16_tensor_match_a_double_reference()
    {
        var rng = new Random(11);
        int n = 100_003;
        var bits = new ushort[n];
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++)
        {
            bits[i] = (ushort)(BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() - 0.5)) >> 16);
            double v = FloatConversion.BF16ToSingle(bits[i]);
            sum += v;
            sumSq += v * v;
        }

        var data = bits.SelectMany(BitConverter.GetBytes).ToArray();
        using var c = Open(Build($$$"""{"w":{"dtype":"BF16","shape":[{{{n}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data));
        var m = TensorReader.ComputeMoments(c.Tensors[0]);
        Assert.Equal(n, m.Count);
        Assert.Equal(sum, m.Sum, 1e-3);
        Assert.Equal(sumSq, m.SumOfSquares, sumSq * 1e-4); // float within 4K chunks, double across
    }
}
