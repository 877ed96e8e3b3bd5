using System.Globalization;

namespace WeightPrint.IO.Http;

/// <summary>
/// Blocks of one remote file kept on disk, one file per aligned block (named by its index) in a folder that
/// also records the block size, so a later run reads them instead of the network. Each block is written to a
/// temporary name and renamed into place, so a reader never sees a partial block; a block whose size is not
/// the expected one is ignored. Content is keyed by an immutable commit, so it never goes stale.
/// </summary>
public sealed class DiskBlockStore
{
    private readonly string _folder;
    private volatile bool _writable = true;

    public DiskBlockStore(string fileFolder, int blockBytes)
    {
        FileFolder = fileFolder;
        BlockBytes = blockBytes;
        _folder = Path.Combine(fileFolder, "b" + blockBytes.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The folder for this remote file (holding the block folder and the recorded length).</summary>
    public string FileFolder { get; }

    public int BlockBytes { get; }

    private string BlockPath(long block) => Path.Combine(_folder, block.ToString(CultureInfo.InvariantCulture));

    public bool Contains(long block, int expectedLength)
    {
        try
        {
            var info = new FileInfo(BlockPath(block));
            return info.Exists && info.Length == expectedLength;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The block's bytes, or null when absent, unreadable or of the wrong size.</summary>
    public byte[]? TryRead(long block, int expectedLength)
    {
        try
        {
            using var stream = new FileStream(BlockPath(block), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            if (stream.Length != expectedLength) return null;
            var data = new byte[expectedLength];
            stream.ReadExactly(data);
            return data;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Stores a block; returns an error message instead of throwing (a cache failure never fails a read).</summary>
    public string? Write(long block, ReadOnlySpan<byte> data)
    {
        if (!_writable) return null;
        string temp = BlockPath(block) + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            Directory.CreateDirectory(_folder);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
                stream.Write(data);
            File.Move(temp, BlockPath(block), overwrite: true);
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
