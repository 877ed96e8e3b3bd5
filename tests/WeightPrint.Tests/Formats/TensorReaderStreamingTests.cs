using System.Globalization;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Numerics;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Formats;

/// <summary>Streaming reads of memory-mapped tensors: results, and resident memory that does not grow with the tensor.</summary>
[Collection(ProcessMemoryTests.Name)]
public class TensorReaderStreamingTests
{
    private const int HeaderBytes = 8 + 37; // an odd data offset, as in a real safetensors file

    [Fact]
    public void Streamed_moments_equal_one_kernel_pass_over_the_same_bytes()
    {
        using var dir = new TempDir();
        var (path, bytes) = WriteBf16(dir, elements: 3 * TensorReader.ChunkBytes / 2 + 123, seed: 1);
        using var source = new MemoryMappedFileSource(path);
        var t = new TensorInfo("w", TensorDType.BF16, [bytes.Length / 2 - HeaderBytes / 2], source, HeaderBytes);
        var expected = Moments.Empty;
        MomentKernels.Accumulate(TensorDType.BF16, bytes.AsSpan(HeaderBytes), (int)t.ElementCount, ref expected);
        Assert.Equal(expected, TensorReader.ComputeMoments(t));

        // A sub-range, and the float path used by ForEachChunk.
        var sub = Moments.Empty;
        MomentKernels.Accumulate(TensorDType.BF16, bytes.AsSpan(HeaderBytes + 2 * 1000), 700_000, ref sub);
        Assert.Equal(sub, TensorReader.ComputeMoments(t, 1000, 700_000));
        var viaChunks = Moments.Empty;
        long next = 0;
        TensorReader.ForEachChunk(t, 0, t.ElementCount, (span, first) =>
        {
            Assert.Equal(next, first);
            next += span.Length;
            MomentKernels.Accumulate(span, ref viaChunks);
        });
        Assert.Equal(t.ElementCount, next);
        Assert.Equal(expected.Count, viaChunks.Count);
        Assert.Equal(expected.Sum, viaChunks.Sum, 6);
    }

    [Fact]
    public void Pair_moments_fuse_same_dtype_and_convert_mixed_dtypes()
    {
        using var dir = new TempDir();
        int n = 300_001;
        var (pathA, bytesA) = WriteBf16(dir, n, seed: 2, name: "a");
        var (pathB, bytesB) = WriteBf16(dir, n, seed: 3, name: "b");
        using var sa = new MemoryMappedFileSource(pathA);
        using var sb = new MemoryMappedFileSource(pathB);
        var a = new TensorInfo("a", TensorDType.BF16, [n], sa, HeaderBytes);
        var b = new TensorInfo("b", TensorDType.BF16, [n], sb, HeaderBytes);
        var expected = new PairMoments();
        PairKernels.Accumulate(TensorDType.BF16, bytesA.AsSpan(HeaderBytes), bytesB.AsSpan(HeaderBytes), n, ref expected);
        Assert.Equal(expected, TensorReader.ComputePairMoments(a, b));

        // b as f32 in memory: the mixed path converts both sides to float.
        var floatsB = TestTensors.ReadAll(b);
        var bytesF = new byte[floatsB.Length * 4];
        Buffer.BlockCopy(floatsB, 0, bytesF, 0, bytesF.Length);
        using var mem = new MemoryByteSource("b32", bytesF);
        var b32 = new TensorInfo("b32", TensorDType.F32, [n], mem, 0);
        var mixed = TensorReader.ComputePairMoments(a, b32);
        Assert.Equal(expected.Count, mixed.Count);
        Assert.Equal(expected.Dot, mixed.Dot, 6);
        Assert.Equal(expected.SumOfSquaresB, mixed.SumOfSquaresB, 6);
        Assert.Throws<ArgumentException>(() => TensorReader.ComputePairMoments(a, new TensorInfo("c", TensorDType.BF16, [n - 1], sb, HeaderBytes)));
    }

    [SkippableFact]
    public void Streaming_a_large_mapped_tensor_keeps_resident_memory_bounded()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "resident-set accounting via /proc is Linux-only");
        using var dir = new TempDir();
        const int elements = 96 << 20; // 192 MB of bf16
        var (path, _) = WriteBf16(dir, elements, seed: 4, keepBytes: false);
        using var source = new MemoryMappedFileSource(path);
        var t = new TensorInfo("w", TensorDType.BF16, [elements], source, HeaderBytes);
        const long bound = 64L << 20;

        long before = ResidentBytes();
        var m = TensorReader.ComputeMoments(t);
        Assert.Equal(elements, m.Count + m.NaNCount + m.InfinityCount);
        Assert.True(ResidentBytes() - before < bound, $"ComputeMoments left {(ResidentBytes() - before) >> 20} MB resident");

        before = ResidentBytes();
        _ = TensorReader.ContentHash(t);
        Assert.True(ResidentBytes() - before < bound, $"ContentHash left {(ResidentBytes() - before) >> 20} MB resident");

        before = ResidentBytes();
        TensorReader.ForEachChunk(t, 0, t.ElementCount, (_, _) => { });
        Assert.True(ResidentBytes() - before < bound, $"ForEachChunk left {(ResidentBytes() - before) >> 20} MB resident");

        // Chunks below MemoryMappedFileSource.InPlaceMaxBytes are read in place from the map: released as they go.
        before = ResidentBytes();
        TensorReader.ForEachChunk(t, 0, t.ElementCount, (_, _) => { }, chunkElements: MemoryMappedFileSource.InPlaceMaxBytes / 8);
        Assert.True(ResidentBytes() - before < bound, $"ForEachChunk in place left {(ResidentBytes() - before) >> 20} MB resident");

        before = ResidentBytes();
        _ = TensorReader.ComputePairMoments(t, t);
        Assert.True(ResidentBytes() - before < bound, $"ComputePairMoments left {(ResidentBytes() - before) >> 20} MB resident");

        // Control: touching every page without releasing does grow the resident set, so the checks above can fail.
        before = ResidentBytes();
        long sum = 0;
        for (long off = HeaderBytes; off < source.Length; off += 4096)
        {
            source.TryGetSpan(off, 1, out var one);
            sum += one[0];
        }

        long grown = ResidentBytes() - before;
        Skip.If(grown < 128L << 20, $"mapped file pages are not counted in this process's resident set here ({grown >> 20} MB, checksum {sum})");
    }

    [SkippableFact]
    public void Listing_tensors_faults_no_tensor_pages()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "per-mapping resident sizes via /proc/self/smaps are Linux-only");
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        const long elements = 16L << 20; // 32 MB of bf16 data after the header
        var header = System.Text.Encoding.UTF8.GetBytes($"{{\"w\":{{\"dtype\":\"BF16\",\"shape\":[4096,4096],\"data_offsets\":[0,{2 * elements}]}}}}");
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            var block = new byte[1 << 20];
            Array.Fill(block, (byte)0x3C);
            for (long done = 0; done < 2 * elements; done += block.Length) f.Write(block);
        }

        using var checkpoint = CheckpointLoader.Open(path);
        var t = Assert.Single(checkpoint.Tensors);
        Assert.Equal(TensorDType.BF16, t.DType);
        Assert.Equal(elements, t.ElementCount);
        long resident = MappedResidentBytes(path);
        Assert.True(resident <= 128 << 10, $"listing left {resident >> 10} KB of the file resident");

        // Control: a streamed read does fault pages of this mapping (then releases them).
        long touched = 0;
        TensorReader.ForEachChunk(t, 0, 1 << 16, (_, _) => touched = Math.Max(touched, MappedResidentBytes(path)));
        Skip.If(touched == 0, "this system does not report per-mapping resident sizes");
    }

    private static long MappedResidentBytes(string path)
    {
        long kb = 0;
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal), space = line.IndexOf(' ', StringComparison.Ordinal);
            bool mappingHeader = line.Length > 0 && (char.IsAsciiDigit(line[0]) || line[0] is >= 'a' and <= 'f') && dash > 0 && dash < space;
            if (mappingHeader)
                inside = line.EndsWith(" " + path, StringComparison.Ordinal);
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                kb += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }

        return kb * 1024;
    }

    private static (string Path, byte[] Bytes) WriteBf16(TempDir dir, int elements, int seed, string name = "t", bool keepBytes = true)
    {
        string path = dir.File(name + ".bin");
        var rng = new Random(seed);
        var block = new byte[1 << 20];
        var all = keepBytes ? new byte[HeaderBytes + 2L * elements] : [];
        using (var f = File.Create(path))
        {
            f.Write(new byte[HeaderBytes]);
            long remaining = 2L * elements;
            long at = HeaderBytes;
            while (remaining > 0)
            {
                int n = (int)Math.Min(block.Length, remaining);
                for (int i = 0; i + 1 < n; i += 2)
                {
                    float v = (float)(rng.NextDouble() - 0.5) * 0.1f;
                    ushort bits = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
                    block[i] = (byte)bits;
                    block[i + 1] = (byte)(bits >> 8);
                }

                f.Write(block, 0, n);
                if (keepBytes) Array.Copy(block, 0, all, at, n);
                at += n;
                remaining -= n;
            }
        }

        return (path, all);
    }

    private static long ResidentBytes()
    {
        string statm = File.ReadAllText("/proc/self/statm");
        return long.Parse(statm.Split(' ')[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }
}
