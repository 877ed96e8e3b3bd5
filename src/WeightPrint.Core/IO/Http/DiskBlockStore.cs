using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace WeightPrint.IO.Http;

/// <summary>
/// Blocks of one remote file kept on disk, one file per aligned block (named by its index) in a folder that
/// also records the block size, so a later run reads them instead of the network. A block file is the block's
/// bytes followed by their 8-byte XxHash64: a file of the wrong length or whose hash does not match is deleted
/// and reported absent, so the block is fetched again. Each block is written to a temporary name and renamed
/// into place, so a reader (in this or another process) never sees a partial block. Reading a block sets its
/// modification time, which <see cref="BlockCacheBudget"/> uses to evict the least recently used blocks.
/// Content is keyed by an immutable commit, so it never goes stale.
/// </summary>
internal sealed class DiskBlockStore
{
    /// <summary>Bytes of the hash stored after each block.</summary>
    public const int HashBytes = 8;

    private readonly string _folder;
    private readonly BlockCacheBudget? _budget;
    private volatile bool _writable = true;

    public DiskBlockStore(string fileFolder, int blockBytes, BlockCacheBudget? budget = null)
    {
        FileFolder = fileFolder;
        BlockBytes = blockBytes;
        _budget = budget;
        _folder = Path.Combine(fileFolder, "b" + blockBytes.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The folder for this remote file (holding the block folder and the recorded length).</summary>
    public string FileFolder { get; }

    public int BlockBytes { get; }

    /// <summary>True for the name of a stored block file (digits only) or piece file (START-END, digits; see
    /// <see cref="TryReadPiece"/>); temporary files end in .tmp.</summary>
    public static bool IsBlockFileName(string name)
    {
        int dash = name.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? name.Length > 0 && name.All(char.IsAsciiDigit)
            : dash > 0 && dash < name.Length - 1 && !name.AsSpan(0, dash).ContainsAnyExcept(Digits) && !name.AsSpan(dash + 1).ContainsAnyExcept(Digits);
    }

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    private string BlockPath(long block) => Path.Combine(_folder, block.ToString(CultureInfo.InvariantCulture));

    /// <summary>A piece: the bytes [start, end) of the file, part of one block (a planned read's partial edge), stored
    /// like a block (bytes + hash, written under a temporary name and renamed) so a later run reads the same rows from
    /// disk; evicted with the blocks.</summary>
    private string PiecePath(long start, long end) => Path.Combine(_folder, start.ToString(CultureInfo.InvariantCulture) + "-" + end.ToString(CultureInfo.InvariantCulture));

    /// <summary>The piece [start, end) stored by an earlier read, or null (absent, unreadable, or corrupt: then deleted).</summary>
    public byte[]? TryReadPiece(long start, long end) => TryReadFile(PiecePath(start, end), checked((int)(end - start)));

    /// <summary>Stores the piece [start, end); an error message instead of throwing, as <see cref="Write"/>.</summary>
    public string? WritePiece(long start, long end, ReadOnlySpan<byte> data) => WriteFile(PiecePath(start, end), data);

    /// <summary>True when a block file of the right length is present (its hash is checked when it is read).</summary>
    public bool Contains(long block, int expectedLength)
    {
        try
        {
            var info = new FileInfo(BlockPath(block));
            return info.Exists && info.Length == expectedLength + HashBytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The block's bytes, or null when absent or unreadable; a block of the wrong length or hash is deleted.</summary>
    public byte[]? TryRead(long block, int expectedLength) => TryReadFile(BlockPath(block), expectedLength);

    private static byte[]? TryReadFile(string path, int expectedLength)
    {
        try
        {
            byte[] data;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None))
            {
                if (stream.Length != expectedLength + HashBytes) return Corrupt(path);
                data = new byte[expectedLength];
                stream.ReadExactly(data);
                Span<byte> stored = stackalloc byte[HashBytes];
                stream.ReadExactly(stored);
                if (XxHash64.HashToUInt64(data) != BinaryPrimitives.ReadUInt64LittleEndian(stored)) return Corrupt(path);
            }

            File.SetLastWriteTimeUtc(path, DateTime.UtcNow); // most recently used
            return data;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static byte[]? Corrupt(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Stores a block; returns an error message instead of throwing (a cache failure never fails a read).</summary>
    public string? Write(long block, ReadOnlySpan<byte> data) => WriteFile(BlockPath(block), data);

    private string? WriteFile(string path, ReadOnlySpan<byte> data)
    {
        if (!_writable) return null;
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            Directory.CreateDirectory(_folder);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                stream.Write(data);
                Span<byte> hash = stackalloc byte[HashBytes];
                BinaryPrimitives.WriteUInt64LittleEndian(hash, XxHash64.HashToUInt64(data));
                stream.Write(hash);
            }

            File.Move(temp, path, overwrite: true);
            _budget?.Written(data.Length + HashBytes);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _writable = false; // stop trying after the first failure (disk full, read-only cache)
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
            }

            return $"cannot write the cache at {_folder}: {e.Message}";
        }
    }

    /// <summary>The file length recorded by an earlier run, or null.</summary>
    public long? ReadLength()
    {
        try
        {
            string text = File.ReadAllText(Path.Combine(FileFolder, "length")).Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void WriteLength(long length)
    {
        try
        {
            Directory.CreateDirectory(FileFolder);
            string temp = Path.Combine(FileFolder, "length." + Guid.NewGuid().ToString("N") + ".tmp");
            File.WriteAllText(temp, length.ToString(CultureInfo.InvariantCulture));
            File.Move(temp, Path.Combine(FileFolder, "length"), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
