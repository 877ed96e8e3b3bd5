using System.Diagnostics;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.IO;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats.Gguf;

/// <summary>Hostile GGUF files built byte by byte: each must fail with one <see cref="InvalidModelFileException"/>
/// line naming the file, quickly and without large allocations.</summary>
public class GgufHostileFileTests
{
    private const string FileName = "hostile.gguf";

    private static InvalidModelFileException Fails(byte[] bytes, string expected)
    {
        var watch = Stopwatch.StartNew();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidModelFileException>(() => GgufReader.Open(new MemoryByteSource(FileName, bytes)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        watch.Stop();
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(FileName, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(watch.ElapsedMilliseconds < 2000, $"took {watch.ElapsedMilliseconds} ms");
        Assert.True(allocated < (16 << 20) + (4L * bytes.Length), $"allocated {allocated} bytes for a {bytes.Length}-byte file");
        // Detection by content goes the same way.
        Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.OpenFile(new MemoryByteSource(FileName, bytes), FileName));
        return e;
    }

    private static GgufBytes Header(ulong tensors, ulong kvs, uint version = 3) => new GgufBytes().Header(version, tensors, kvs);

    /// <summary>One tensor info plus aligned data of <paramref name="dataBytes"/> bytes.</summary>
    private static byte[] OneTensor(ulong[] ne, uint type, ulong offset = 0, int dataBytes = 0)
        => Header(1, 0).TensorInfo("w", ne, type, offset).Pad(32).Raw(new byte[dataBytes]).ToArray();

    [Fact]
    public void Every_truncation_of_a_valid_file_fails()
    {
        var valid = new GgufWriter()
            .Add("general.architecture", GgufValue.Str("llama"))
            .Add("a", GgufValue.Array(GgufValueType.Array, GgufValue.Ints(1, 2)))
            .Add(GgufReader.TokensKey, GgufValue.Strings("a", "b"))
            .AddF32("x", new float[8], 8)
            .AddF32("y", new float[32], 4, 8) // 128 bytes: the file ends exactly at the end of its data
            .ToArray();
        using (GgufReader.Open(new MemoryByteSource(FileName, valid)))
        {
        }

        for (int n = 0; n < valid.Length; n++)
            Assert.Throws<InvalidModelFileException>(() => GgufReader.Open(new MemoryByteSource(FileName, valid.AsMemory(0, n))));
        Fails(valid[..(valid.Length - 1)], "runs past the end");
        Fails(valid[..30], "truncated");
        Fails(valid[..10], "too small");
    }

    [Fact]
    public void Wrong_magic() => Fails(new GgufBytes().U32(0x58554747).U32(3).U64(0).U64(0).ToArray(), "not a GGUF file");

    [Fact]
    public void Version_1_is_refused_by_name() => Fails(Header(0, 0, version: 1).ToArray(), "unsupported GGUF version 1");

    [Fact]
    public void Unknown_versions_are_refused()
    {
        Fails(Header(0, 0, version: 4).ToArray(), "unsupported GGUF version 4");
        Fails(Header(0, 0, version: 0).ToArray(), "unsupported GGUF version 0");
    }

    [Fact]
    public void Big_endian_files_are_detected_by_their_byte_swapped_version()
    {
        Fails(Header(0, 0, version: 0x03000000).ToArray(), "big-endian GGUF (version 3");
        Fails(Header(0, 0, version: 0x02000000).ToArray(), "big-endian");
    }

    [Fact]
    public void Huge_tensor_and_metadata_counts_fail_before_allocating()
    {
        Fails(Header(ulong.MaxValue, 0).ToArray(), "more than the limit");
        Fails(Header(0, 1UL << 62).ToArray(), "more than the limit");
        Fails(Header(GgufReader.MaxTensorCount, 0).ToArray(), "cannot fit");
        Fails(Header(0, GgufReader.MaxMetadataCount).ToArray(), "cannot fit");
    }

    [Fact]
    public void Huge_string_lengths_fail_before_allocating()
    {
        Fails(Header(0, 1).U64(ulong.MaxValue).Raw(new byte[16]).ToArray(), "more than the limit");
        Fails(Header(0, 1).U64(GgufReader.MaxKeyBytes).Raw(new byte[100]).ToArray(), "runs past the end");
        Fails(Header(0, 1).Str("k").U32((uint)GgufValueType.String).U64(1UL << 40).ToArray(), "exceeds the limit");
        Fails(Header(0, 1).Str("k").U32((uint)GgufValueType.String).U64(GgufReader.MaxStringBytes).Raw(new byte[64]).ToArray(), "runs past the end");
        Fails(Header(1, 0).U64(1UL << 63).Raw(new byte[32]).ToArray(), "tensor name");
    }

    [Fact]
    public void Nested_array_bombs_fail_fast()
    {
        // Depth: arrays of arrays far deeper than the limit.
        var deep = Header(0, 1).Str("bomb").U32((uint)GgufValueType.Array);
        for (int i = 0; i < 1000; i++) deep.U32((uint)GgufValueType.Array).U64(1);
        Fails(deep.ToArray(), "nested more than");

        // Breadth: a count beyond the limit, and a count within it that the file cannot hold.
        Fails(Header(0, 1).Str("bomb").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.Array).U64(1UL << 60).ToArray(), "exceeds the limit");
        Fails(Header(0, 1).Str("bomb").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.Array).U64(GgufReader.MaxArrayLength).Raw(new byte[1000]).ToArray(), "needs at least");
        Fails(Header(0, 1).Str("bomb").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.String).U64(1000).Raw(new byte[100]).ToArray(), "needs at least");

        // Within limits and within the file: nesting exactly at the limit is fine.
        var ok = Header(0, 1).Str("ok").U32((uint)GgufValueType.Array);
        for (int i = 1; i < GgufReader.MaxNestingDepth; i++) ok.U32((uint)GgufValueType.Array).U64(1);
        ok.U32((uint)GgufValueType.UInt8).U64(1).U8(9);
        var value = GgufReader.ReadHeader(new MemoryByteSource(FileName, ok.ToArray())).Metadata["ok"];
        for (int i = 0; i < GgufReader.MaxNestingDepth; i++) value = Assert.Single((object[])value);
        Assert.Equal(9L, value);
    }

    [Fact]
    public void The_total_number_of_metadata_values_is_bounded()
    {
        int half = (int)(GgufReader.MaxMetadataValues / 2);
        var b = Header(0, 2);
        foreach (string key in new[] { "a", "b" })
            b.Str(key).U32((uint)GgufValueType.Array).U32((uint)GgufValueType.UInt8).U64((ulong)half + 1).Raw(new byte[half + 1]);
        var e = Assert.Throws<InvalidModelFileException>(() => GgufReader.ReadHeader(new MemoryByteSource(FileName, b.ToArray())));
        Assert.Contains($"more than {GgufReader.MaxMetadataValues} values (at key b)", e.Message);
    }

    [Fact]
    public void Unknown_value_types_fail()
    {
        Fails(Header(0, 1).Str("k").U32(13).U64(0).ToArray(), "unknown value type 13");
        Fails(Header(0, 1).Str("k").U32((uint)GgufValueType.Array).U32(99).U64(0).ToArray(), "unknown element type 99");
    }

    [Fact]
    public void Duplicate_metadata_keys_fail()
        => Fails(Header(0, 2).KeyValue("a.b", GgufValue.U8(1)).KeyValue("a.b", GgufValue.U8(2)).ToArray(), "duplicate metadata key 'a.b'");

    [Fact]
    public void Duplicate_tensor_names_fail()
        => Fails(Header(2, 0).TensorInfo("w", [8], 0, 0).TensorInfo("w", [8], 0, 32).Pad(32).Raw(new byte[64]).ToArray(), "duplicate tensor name 'w'");

    [Fact]
    public void Invalid_utf8_in_keys_and_names_fails()
    {
        Fails(Header(0, 1).U64(2).Raw([0xC3, 0x28]).U32(0).U8(0).ToArray(), "not valid UTF-8");
        Fails(Header(1, 0).U64(1).Raw([0xFF]).U32(1).U64(1).U32(0).U64(0).Pad(32).Raw(new byte[4]).ToArray(), "not valid UTF-8");
    }

    [Fact]
    public void Misaligned_offsets_fail() => Fails(OneTensor([4], 0, offset: 4, dataBytes: 64), "is not a multiple of the alignment 32");

    [Fact]
    public void Data_outside_the_file_fails()
    {
        Fails(OneTensor([8], 0, offset: 0, dataBytes: 31), "runs past the end");
        Fails(OneTensor([8], 0, offset: 1UL << 62, dataBytes: 32), "runs past the end");
        Fails(OneTensor([8], 0, offset: ulong.MaxValue - 31, dataBytes: 32), "runs past the end");
        Fails(Header(1, 0).TensorInfo("w", [8], 0, 0).ToArray(), "runs past the end"); // no data section at all
    }

    [Fact]
    public void Overlapping_tensors_fail()
        => Fails(Header(2, 0).TensorInfo("a", [16], 0, 0).TensorInfo("b", [8], 0, 32).Pad(32).Raw(new byte[96]).ToArray(), "overlaps");

    [Fact]
    public void Bad_dimensions_fail()
    {
        Fails(OneTensor([1UL << 32, 1UL << 32, 1UL << 32], 0), "overflow a 64-bit element count");
        Fails(OneTensor([1UL << 62], 0), "overflow a 64-bit byte size");
        Fails(OneTensor([1UL << 63], 0), "negative");
        Fails(OneTensor([4, 0], 0), "zero dimension");
        Fails(OneTensor([1, 1, 1, 1, 1], 0), "at most 4");
        Fails(Header(1, 0).Str("w").U32(uint.MaxValue).Raw(new byte[32]).ToArray(), "at most 4");
    }

    [Fact]
    public void Quantised_rows_must_be_whole_blocks()
    {
        Fails(OneTensor([64, 4], (uint)GgmlType.Q4_K, dataBytes: 4096), "ne[0] = 64 is not a multiple of the Q4_K block size 256");
        Fails(OneTensor([48], (uint)GgmlType.Q8_0, dataBytes: 4096), "Q8_0 block size 32");
    }

    [Fact]
    public void Bad_alignment_fails()
    {
        Fails(Header(0, 1).KeyValue(GgufReader.AlignmentKey, GgufValue.U32(0)).ToArray(), "non-zero power of two");
        Fails(Header(0, 1).KeyValue(GgufReader.AlignmentKey, GgufValue.U32(48)).ToArray(), "non-zero power of two");
        Fails(Header(0, 1).KeyValue(GgufReader.AlignmentKey, GgufValue.U64(32)).ToArray(), "must be uint32");
        Fails(Header(0, 1).KeyValue(GgufReader.AlignmentKey, GgufValue.Str("32")).ToArray(), "must be uint32");
    }

    [Theory]
    [InlineData(9u, "unsupported quantisation Q8_1 (ggml type 9) in tensor w")]
    [InlineData(16u, "unsupported quantisation IQ2_XXS (ggml type 16) in tensor w")]
    [InlineData(4u, "unsupported quantisation Q4_2 (ggml type 4) in tensor w")]
    [InlineData(34u, "unsupported quantisation TQ1_0 (ggml type 34) in tensor w")]
    [InlineData(39u, "unsupported quantisation MXFP4 (ggml type 39) in tensor w")]
    [InlineData(1000u, "unknown ggml type 1000 in tensor w")]
    public void Unsupported_types_are_named(uint type, string expected) => Fails(OneTensor([256], type, dataBytes: 4096), expected);
}
