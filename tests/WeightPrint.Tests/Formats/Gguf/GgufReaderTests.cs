using System.Buffers.Binary;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.IO;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.Gguf;

public class GgufReaderTests
{
    private static GgufHeader Read(byte[] bytes) => GgufReader.ReadHeader(new MemoryByteSource("test.gguf", bytes));

    private static GgufWriter EveryValueType(uint version) => new GgufWriter { Version = version }
        .Add("general.architecture", GgufValue.Str("llama"))
        .Add("t.u8", GgufValue.U8(255))
        .Add("t.i8", GgufValue.I8(-128))
        .Add("t.u16", GgufValue.U16(65535))
        .Add("t.i16", GgufValue.I16(-32768))
        .Add("t.u32", GgufValue.U32(uint.MaxValue))
        .Add("t.i32", GgufValue.I32(int.MinValue))
        .Add("t.f32", GgufValue.F32(0.1f))
        .Add("t.true", GgufValue.Bool(true))
        .Add("t.false", GgufValue.Bool(false))
        .Add("t.str", GgufValue.Str("héllo ✓ \n tab\t"))
        .Add("t.empty", GgufValue.Str(""))
        .Add("t.u64", GgufValue.U64(ulong.MaxValue))
        .Add("t.i64", GgufValue.I64(long.MinValue))
        .Add("t.f64", GgufValue.F64(Math.PI))
        .Add("t.ints", GgufValue.Ints(1, -2, 3))
        .Add("t.strings", GgufValue.Strings("a", "", "ß"))
        .Add("t.bools", GgufValue.Array(GgufValueType.Bool, GgufValue.Bool(true), GgufValue.Bool(false)))
        .Add("t.u64s", GgufValue.Array(GgufValueType.UInt64, GgufValue.U64(ulong.MaxValue)))
        .Add("t.none", GgufValue.Array(GgufValueType.Float64))
        .Add("t.nested", GgufValue.Array(GgufValueType.Array,
            GgufValue.Array(GgufValueType.UInt8, GgufValue.U8(1), GgufValue.U8(2)),
            GgufValue.Array(GgufValueType.String, GgufValue.Str("x")),
            GgufValue.Array(GgufValueType.Array, GgufValue.Array(GgufValueType.Int16, GgufValue.I16(-7)))));

    [Theory]
    [InlineData(3u)]
    [InlineData(2u)]
    public void Metadata_of_every_value_type_round_trips_with_the_documented_clr_types(uint version)
    {
        var h = Read(EveryValueType(version).ToArray());
        var m = h.Metadata;
        Assert.Equal(version, h.Version);
        Assert.Equal("llama", m["general.architecture"]);
        Assert.Equal(255L, m["t.u8"]);
        Assert.Equal(-128L, m["t.i8"]);
        Assert.Equal(65535L, m["t.u16"]);
        Assert.Equal(-32768L, m["t.i16"]);
        Assert.Equal((long)uint.MaxValue, m["t.u32"]);
        Assert.Equal((long)int.MinValue, m["t.i32"]);
        Assert.Equal((double)0.1f, m["t.f32"]);
        Assert.Equal(true, m["t.true"]);
        Assert.Equal(false, m["t.false"]);
        Assert.Equal("héllo ✓ \n tab\t", m["t.str"]);
        Assert.Equal("", m["t.empty"]);
        Assert.Equal(ulong.MaxValue, m["t.u64"]);
        Assert.Equal(long.MinValue, m["t.i64"]);
        Assert.Equal(Math.PI, m["t.f64"]);
        Assert.Equal(new object[] { 1L, -2L, 3L }, m["t.ints"]);
        Assert.Equal(new object[] { "a", "", "ß" }, m["t.strings"]);
        Assert.Equal(new object[] { true, false }, m["t.bools"]);
        Assert.Equal(new object[] { ulong.MaxValue }, m["t.u64s"]);
        Assert.Empty((object[])m["t.none"]);
        var nested = Assert.IsType<object[]>(m["t.nested"]);
        Assert.Equal(new object[] { 1L, 2L }, nested[0]);
        Assert.Equal(new object[] { "x" }, nested[1]);
        Assert.Equal(new object[] { -7L }, Assert.IsType<object[]>(nested[2])[0]);
        Assert.Equal(GgufValueType.UInt16, h.MetadataTypes["t.u16"]);
        Assert.Equal(GgufValueType.Array, h.MetadataTypes["t.nested"]);
        Assert.Equal(21, m.Count);
    }

    [Fact]
    public void Tensors_get_reversed_dims_and_their_exact_values_for_every_plain_type()
    {
        var f32 = Enumerable.Range(0, 24).Select(i => (i * 0.25f) - 3).ToArray();
        var writer = new GgufWriter()
            .AddF32("m", f32, 2, 3, 4)
            .AddF32("scalar", [42f])
            .AddTensor("f16", TensorDType.F16, [3], Bytes(2, 3, (s, i) => BinaryPrimitives.WriteUInt16LittleEndian(s, BitConverter.HalfToUInt16Bits((Half)(i - 1.5)))))
            .AddTensor("bf16", TensorDType.BF16, [2], Bytes(2, 2, (s, i) => BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(BitConverter.SingleToUInt32Bits(i + 0.5f) >> 16))))
            .AddTensor("f64", TensorDType.F64, [2], Bytes(8, 2, (s, i) => BinaryPrimitives.WriteDoubleLittleEndian(s, -i - 0.125)))
            .AddTensor("i8", TensorDType.I8, [2], Bytes(1, 2, (s, i) => s[0] = (byte)(sbyte)(-5 * (i + 1))))
            .AddTensor("i16", TensorDType.I16, [2], Bytes(2, 2, (s, i) => BinaryPrimitives.WriteInt16LittleEndian(s, (short)(-300 * (i + 1)))))
            .AddTensor("i32", TensorDType.I32, [2], Bytes(4, 2, (s, i) => BinaryPrimitives.WriteInt32LittleEndian(s, -70000 * (i + 1))))
            .AddTensor("i64", TensorDType.I64, [2], Bytes(8, 2, (s, i) => BinaryPrimitives.WriteInt64LittleEndian(s, -9 * (i + 1))));
        var bytes = writer.ToArray();
        using var c = GgufReader.Open(new MemoryByteSource("test.gguf", bytes));
        Assert.Equal("gguf", c.Format);
        Assert.Equal("test.gguf", c.Location);
        var m = c.Find("m")!;
        Assert.Equal(new long[] { 2, 3, 4 }, m.Shape);
        Assert.Equal(f32, TestTensors.ReadAll(m));
        Assert.Empty(c.Find("scalar")!.Shape);
        Assert.Equal(new[] { 42f }, TestTensors.ReadAll(c.Find("scalar")!));
        Assert.Equal(new[] { -1.5f, -0.5f, 0.5f }, TestTensors.ReadAll(c.Find("f16")!));
        Assert.Equal(new[] { 0.5f, 1.5f }, TestTensors.ReadAll(c.Find("bf16")!));
        Assert.Equal(new[] { -0.125f, -1.125f }, TestTensors.ReadAll(c.Find("f64")!));
        Assert.Equal(new[] { -5f, -10f }, TestTensors.ReadAll(c.Find("i8")!));
        Assert.Equal(new[] { -300f, -600f }, TestTensors.ReadAll(c.Find("i16")!));
        Assert.Equal(new[] { -70000f, -140000f }, TestTensors.ReadAll(c.Find("i32")!));
        Assert.Equal(new[] { -9f, -18f }, TestTensors.ReadAll(c.Find("i64")!));
        Assert.Equal(
            [TensorDType.F32, TensorDType.F32, TensorDType.F16, TensorDType.BF16, TensorDType.F64, TensorDType.I8, TensorDType.I16, TensorDType.I32, TensorDType.I64],
            c.Tensors.Select(t => t.DType));
        foreach (var t in c.Tensors) Assert.Equal(0, t.DataOffset % 32);
    }

    private static byte[] Bytes(int size, int count, Action<Span<byte>, int> put)
    {
        var b = new byte[size * count];
        for (int i = 0; i < count; i++) put(b.AsSpan(size * i, size), i);
        return b;
    }

    [Theory]
    [MemberData(nameof(BlockDequantizerTests.QuantTypes), MemberType = typeof(BlockDequantizerTests))]
    public void Quantised_tensors_round_trip_through_CheckpointLoader_exactly(TensorDType t)
    {
        int cols = 2 * t.BlockElements(), rows = 3;
        var rng = new Random((int)t);
        var x = Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var quantised = GgmlQuantizer.Quantize(t, x);
        using var dir = new TempDir();
        string path = dir.File("q.gguf");
        new GgufWriter().AddF32("bias", [1f, 2f], 2).AddTensor("w", t, [rows, cols], quantised).Write(path);
        using var c = CheckpointLoader.Open(path);
        Assert.Equal("gguf", c.Format);
        var w = c.Find("w")!;
        Assert.Equal(t, w.DType);
        Assert.Equal(new long[] { rows, cols }, w.Shape);
        Assert.Equal(quantised.Length, w.ByteLength);
        var values = TestTensors.ReadAll(w);
        Assert.Equal(ReferenceDequantizer.Dequantize(t, quantised), values);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(values[i] - x[i]) < 0.5, $"{t} element {i}: {values[i]} vs {x[i]}");
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(8u)]
    [InlineData(64u)]
    [InlineData(4096u)]
    public void Custom_alignment_places_the_data_section_and_tensors_on_its_multiples(uint alignment)
    {
        var bytes = new GgufWriter { Alignment = alignment }.AddF32("a", [1f, 2f, 3f], 3).AddF32("b", [4f], 1).ToArray();
        var h = Read(bytes);
        Assert.Equal(alignment, h.Alignment);
        Assert.Equal(0, h.DataStart % alignment);
        Assert.Equal(new[] { 4f }, TestTensors.ReadAll(h.Tensors[1]));
        Assert.All(h.Tensors, t => Assert.Equal(0, (t.DataOffset - h.DataStart) % alignment));
    }

    [Fact]
    public void Vocabulary_comes_from_tokenizer_ggml_tokens()
    {
        var bytes = new GgufWriter().Add(GgufReader.TokensKey, GgufValue.Strings("<unk>", "a", "▁the")).ToArray();
        using var c = GgufReader.Open(new MemoryByteSource("v.gguf", bytes), "somewhere");
        Assert.Equal(new[] { "<unk>", "a", "▁the" }, c.Vocabulary);
        Assert.Equal("somewhere", c.Location);
        Assert.Empty(c.Tensors);

        var notStrings = new GgufWriter().Add(GgufReader.TokensKey, GgufValue.Ints(1, 2)).ToArray();
        using var c2 = GgufReader.Open(new MemoryByteSource("v.gguf", notStrings));
        Assert.Null(c2.Vocabulary);
    }

    [Fact]
    public void A_folder_holding_one_gguf_file_opens_as_gguf_with_its_vocabulary()
    {
        using var dir = new TempDir();
        new GgufWriter().Add("general.architecture", GgufValue.Str("llama")).Add(GgufReader.TokensKey, GgufValue.Strings("x", "y"))
            .AddF32("token_embd.weight", [1, 2, 3, 4], 2, 2).Write(dir.File("model.gguf"));
        using var c = CheckpointLoader.Open(dir.Path);
        Assert.Equal("gguf", c.Format);
        Assert.Equal(dir.Path, c.Location);
        Assert.Equal(new[] { "x", "y" }, c.Vocabulary);
        Assert.Equal("llama", c.Metadata["general.architecture"]);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_value_is_replaced_not_fatal()
    {
        var b = new GgufBytes().Header(3, 0, 1).Str("k").U32((uint)GgufValueType.String).U64(3).Raw([0x61, 0xFF, 0x62]);
        Assert.Equal("a\uFFFDb", Read(b.ToArray()).Metadata["k"]);
    }

    [Fact]
    public void LooksLikeGguf_checks_the_magic_only()
    {
        Assert.True(GgufReader.LooksLikeGguf(new MemoryByteSource("a", "GGUF"u8.ToArray())));
        Assert.False(GgufReader.LooksLikeGguf(new MemoryByteSource("a", "GGU"u8.ToArray())));
        Assert.False(GgufReader.LooksLikeGguf(new MemoryByteSource("a", "GGML"u8.ToArray())));
    }

    [Fact]
    public void Ggml_type_names_cover_the_types_that_cannot_be_read()
    {
        Assert.Equal("Q8_1", GgmlTypes.Name(9));
        Assert.Equal("IQ2_XXS", GgmlTypes.Name(16));
        Assert.Equal("IQ4_XS", GgmlTypes.Name(23));
        Assert.Equal("TQ1_0", GgmlTypes.Name(34));
        Assert.Equal("MXFP4", GgmlTypes.Name(39));
        Assert.Null(GgmlTypes.Name(1000));
        for (uint t = 0; t <= GgmlTypes.MaxKnownType; t++)
        {
            if (GgmlTypes.ToTensorDType(t) is { } dt) Assert.Equal((GgmlType)t, GgmlTypes.FromTensorDType(dt));
        }
    }
}
