using System.Buffers.Binary;
using System.Diagnostics;
using WeightPrint.Formats;
using WeightPrint.Formats.PyTorch;
using WeightPrint.IO;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.PyTorch;

/// <summary>Hostile and broken zip containers, built byte by byte or patched at exact offsets.</summary>
public class TorchZipHostileTests
{
    private static readonly double[] Values = [1, 2, 3, 4, 5, 6];

    private static (TorchZipWriter Writer, byte[] Pickle) Valid()
    {
        var w = new TorchZipWriter()
            .AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, Values))
            .AddStorage("1", TensorDType.F16, TorchZipWriter.Encode(TensorDType.F16, Values));
        var sd = new PyDict { Ordered = true };
        sd.Add("a", new TorchTensor("0", 0, [2, 3]));
        sd.Add("b", new TorchTensor("1", 0, [3, 2], [1, 3]));
        return (w, w.Pickle(sd));
    }

    private static byte[] ValidArchive(out ZipLayout layout, bool zip64 = false)
    {
        var (w, pickle) = Valid();
        return w.BuildWithPickle(pickle, out layout, zip64: zip64);
    }

    private static InvalidModelFileException Fails(byte[] archive)
    {
        using var source = new MemoryByteSource("bad.pt", archive);
        return Assert.Throws<InvalidModelFileException>(() => TorchArchiveReader.ReadTensors(source));
    }

    private static void Patch32(byte[] b, long at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)at), value);

    private static void Patch16(byte[] b, long at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan((int)at), value);

    [Fact]
    public void The_valid_archives_used_below_do_read()
    {
        foreach (bool zip64 in new[] { false, true })
        {
            using var source = new MemoryByteSource("ok.pt", ValidArchive(out _, zip64));
            var tensors = TorchArchiveReader.ReadTensors(source);
            Assert.Equal(Values.Select(v => (float)v), TestTensors.ReadAll(tensors[0]));
            Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, TestTensors.ReadAll(tensors[1]));
        }
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("archive/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("archive\\data\\0")]
    [InlineData("C:/Windows/x")]
    public void Members_with_escaping_names_are_refused(string name)
    {
        var (_, pickle) = Valid();
        byte[] zip = TorchZipWriter.BuildZip(
            [new("archive/data.pkl", pickle), new(name, [1, 2, 3, 4]), new("archive/data/0", new byte[24]), new("archive/data/1", new byte[12])], out _);
        var e = Fails(zip);
        Assert.Contains("escapes the archive", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Duplicate_member_names_are_refused()
    {
        var (_, pickle) = Valid();
        byte[] zip = TorchZipWriter.BuildZip(
            [new("archive/data.pkl", pickle), new("archive/data/0", new byte[24]), new("archive/data/0", new byte[24]), new("archive/data/1", new byte[12])], out _);
        Assert.Contains("two entries named archive/data/0", Fails(zip).Message);
    }

    /// <summary>Raw deflate (fixed Huffman): one zero literal, then <paramref name="copies"/> copies of
    /// (length 258, distance 1) — 13 bits that inflate to 258 bytes each.</summary>
    private static byte[] DeflateBomb(long copies)
    {
        var bytes = new List<byte>((int)(copies * 13 / 8) + 16);
        ulong acc = 0;
        int bits = 0;
        void Put(ulong value, int count)
        {
            acc |= value << bits;
            bits += count;
            while (bits >= 8)
            {
                bytes.Add((byte)acc);
                acc >>= 8;
                bits -= 8;
            }
        }

        void Code(uint code, int length) // Huffman codes go most significant bit first
        {
            for (int i = length - 1; i >= 0; i--) Put((code >> i) & 1, 1);
        }

        Put(1, 1); // BFINAL
        Put(1, 2); // BTYPE = 01, fixed Huffman
        Code(0x30, 8); // literal 0
        for (long i = 0; i < copies; i++)
        {
            Code(0xC5, 8); // length symbol 285 = 258
            Code(0, 5); // distance symbol 0 = distance 1
        }

        Code(0, 7); // end of block
        if (bits > 0) bytes.Add((byte)acc);
        return [.. bytes];
    }

    [Fact]
    public void The_deflate_bomb_generator_really_inflates()
    {
        using var inflater = new System.IO.Compression.DeflateStream(new MemoryStream(DeflateBomb(1000)), System.IO.Compression.CompressionMode.Decompress);
        var output = new MemoryStream();
        inflater.CopyTo(output);
        Assert.Equal(1 + 258 * 1000, output.Length);
        Assert.All(output.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_deflated_data_pkl_that_inflates_to_gigabytes_fails_fast_with_bounded_memory()
    {
        byte[] bomb = DeflateBomb(8_400_000); // about 2 GiB of zeros from 13.6 MB
        var (_, pickle) = Valid();
        foreach (var (declared, zip64, expected) in new[] { (1000L, false, "zip bomb"), (4L << 30, true, "more than the limit") })
        {
            byte[] zip = TorchZipWriter.BuildZip(
                [new("archive/data.pkl", [], RawDeflated: bomb, DeclaredSize: declared), new("archive/data/0", new byte[24]), new("archive/data/1", new byte[12])],
                out _, zip64: zip64);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            var e = Fails(zip);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains(expected, e.Message);
            Assert.True(watch.ElapsedMilliseconds < 30_000, $"took {watch.ElapsedMilliseconds} ms");
            Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
        }

        _ = pickle;
    }

    [Fact]
    public void A_deflated_data_pkl_that_inflates_to_less_than_declared_or_is_not_deflate_is_refused()
    {
        var (_, pickle) = Valid();
        byte[] short_ = TorchZipWriter.BuildZip([new("archive/data.pkl", [], RawDeflated: DeflateBomb(10), DeclaredSize: 5000)], out _);
        Assert.Contains("fewer than the 5000 declared", Fails(short_).Message);
        byte[] junk = TorchZipWriter.BuildZip([new("archive/data.pkl", [], RawDeflated: [0xff, 0xff, 0xff, 0xff], DeclaredSize: 10)], out _);
        Assert.Contains("not valid deflate data", Fails(junk).Message);
        byte[] ratio = TorchZipWriter.BuildZip([new("archive/data.pkl", [], RawDeflated: [0x03, 0x00], DeclaredSize: 100_000)], out _);
        Assert.Contains("more than deflate can produce", Fails(ratio).Message);
        _ = pickle;
    }

    [Fact]
    public void Every_truncation_of_an_archive_is_refused_cleanly()
    {
        foreach (bool zip64 in new[] { false, true })
        {
            byte[] zip = ValidArchive(out _, zip64);
            for (int n = 0; n < zip.Length; n++)
            {
                var e = Fails(zip[..n]);
                Assert.Contains("bad.pt", e.Message);
            }
        }
    }

    [Fact]
    public void Cutting_bytes_out_of_the_middle_is_refused_cleanly()
    {
        byte[] zip = ValidArchive(out var layout);
        foreach (long at in layout.LocalHeaders.Concat(layout.DataOffsets).Append(layout.CentralDirectoryOffset))
        {
            foreach (int cut in new[] { 1, 4, 30 })
            {
                byte[] damaged = [.. zip.AsSpan(0, (int)at), .. zip.AsSpan((int)at + cut)];
                Fails(damaged);
            }
        }
    }

    [Fact]
    public void End_of_central_directory_pointing_outside_the_file_is_refused()
    {
        byte[] zip = ValidArchive(out var layout);
        Patch32(zip, layout.EocdOffset + 16, 0x7fff_fff0); // central directory offset
        Assert.Contains("lies outside the file", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.EocdOffset + 12, 0x7fff_fff0); // central directory size
        Assert.Contains("lies outside the file", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch16(zip, layout.EocdOffset + 10, 60000); // total entries
        Patch16(zip, layout.EocdOffset + 8, 60000);
        Assert.Contains("too small for 60000 entries", Fails(zip).Message);

        zip = ValidArchive(out layout, zip64: true);
        BinaryPrimitives.WriteInt64LittleEndian(zip.AsSpan((int)layout.Zip64EocdOffset + 48), 1L << 40); // zip64 cd offset
        Assert.Contains("lies outside the file", Fails(zip).Message);

        zip = ValidArchive(out layout, zip64: true);
        BinaryPrimitives.WriteInt64LittleEndian(zip.AsSpan((int)layout.EocdOffset - 12), 1L << 40); // locator → record
        Assert.Contains("zip64 end-of-central-directory offset", Fails(zip).Message);

        zip = ValidArchive(out layout, zip64: true);
        Patch16(zip, layout.EocdOffset + 10, 3); // not saturated, and not the zip64 record's entry count
        Patch16(zip, layout.EocdOffset + 8, 3);
        Assert.Contains("differs between the end-of-central-directory record (3) and its zip64 record", Fails(zip).Message);

        zip = ValidArchive(out layout, zip64: true);
        Patch16(zip, layout.CentralHeaders[0] + 46 + "archive/data.pkl".Length + 2, 8); // zip64 extra field cut to one value
        Assert.Contains("truncated zip64 extra field", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.EocdOffset + 12, (uint)layout.CentralDirectorySize - 1); // size one short of the headers
        Assert.Contains("zip central directory ends inside entry", Fails(zip).Message);
    }

    [Fact]
    public void Entry_offsets_and_sizes_out_of_range_are_refused()
    {
        byte[] zip = ValidArchive(out var layout);
        Patch32(zip, layout.CentralHeaders[2] + 42, (uint)zip.Length + 100); // local header offset of data/0
        Assert.Contains("lies outside the archive data", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.CentralHeaders[2] + 20, 1_000_000); // compressed and uncompressed size of data/0
        Patch32(zip, layout.CentralHeaders[2] + 24, 1_000_000);
        Assert.Contains("lies outside the archive data", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.CentralHeaders[2] + 20, 200); // data/0 now runs over data/1's header
        Patch32(zip, layout.CentralHeaders[2] + 24, 200);
        Assert.Contains("overlap", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.CentralHeaders[2] + 42, (uint)layout.LocalHeaders[3]); // points at another member's header
        Assert.Contains("local header names a different file", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch32(zip, layout.CentralHeaders[2] + 42, (uint)layout.DataOffsets[2]); // points into data
        Assert.Contains("no local header", Fails(zip).Message);
    }

    [Fact]
    public void Inconsistent_sizes_encryption_and_compressed_storages_are_refused()
    {
        byte[] zip = ValidArchive(out var layout);
        Patch32(zip, layout.CentralHeaders[2] + 20, 20); // stored, compressed 20 ≠ uncompressed 24
        Assert.Contains("sizes disagree", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch16(zip, layout.CentralHeaders[2] + 8, 0x0809); // encrypted flag
        Assert.Contains("encrypted", Fails(zip).Message);

        zip = ValidArchive(out layout);
        Patch16(zip, layout.LocalHeaders[2] + 8, 8); // local header says deflated
        Assert.Contains("local header says method 8", Fails(zip).Message);

        var (_, pickle) = Valid();
        byte[] compressed = TorchZipWriter.BuildZip(
            [new("archive/data.pkl", pickle), new("archive/data/0", TorchZipWriter.Encode(TensorDType.F32, Values), Deflate: true), new("archive/data/1", new byte[12])], out _);
        Assert.Contains("storage archive/data/0 is compressed", Fails(compressed).Message);

        zip = ValidArchive(out layout);
        zip[layout.DataOffsets[0] + 3] ^= 0x40; // corrupt data.pkl
        Assert.Contains("CRC-32", Fails(zip).Message);
    }

    [Fact]
    public void Archives_that_are_not_torch_state_dicts_are_named_as_such()
    {
        byte[] noPickle = TorchZipWriter.BuildZip([new("archive/data/0", new byte[4]), new("archive/version", "3\n"u8.ToArray())], out _);
        Assert.Contains("no <folder>/data.pkl", Fails(noPickle).Message);

        var (_, pickle) = Valid();
        byte[] script = TorchZipWriter.BuildZip([new("archive/data.pkl", pickle), new("archive/code/__torch__.py", [1]), new("archive/constants.pkl", [0x80, 2, 0x29, 0x2e])], out _);
        Assert.Contains("TorchScript", Fails(script).Message);

        byte[] big = TorchZipWriter.BuildZip([new("archive/data.pkl", pickle), new("archive/byteorder", "big"u8.ToArray())], out _);
        Assert.Contains("big-endian", Fails(big).Message);

        byte[] empty = TorchZipWriter.BuildZip([new("archive/data.pkl", new TorchZipWriter().Pickle(new PyDict { { "lr", 0.1 } }))], out _);
        Assert.Contains("holds no tensors", Fails(empty).Message);
    }

    [Fact]
    public void Random_corruption_never_escapes_as_another_exception()
    {
        byte[] valid = ValidArchive(out _);
        var random = new Random(20240526);
        int ok = 0, refused = 0;
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            byte[] zip = (byte[])valid.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++) zip[random.Next(zip.Length)] = (byte)random.Next(256);
            using var source = new MemoryByteSource("fuzz.pt", zip);
            try
            {
                foreach (var t in TorchArchiveReader.ReadTensors(source))
                {
                    if (t.ElementCount <= 1 << 16) TestTensors.ReadAll(t);
                }

                ok++;
            }
            catch (InvalidModelFileException)
            {
                refused++;
            }
        }

        Assert.True(ok > 0 && refused > 0, $"ok {ok}, refused {refused}");
    }
}
