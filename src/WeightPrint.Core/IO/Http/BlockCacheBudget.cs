using System.Collections.Concurrent;

namespace WeightPrint.IO.Http;

/// <summary>
/// The size cap of one on-disk block cache (a folder tree of <see cref="DiskBlockStore"/> block files): after
/// every <see cref="CheckEveryBytes"/> written, the least recently used blocks (by modification time, which
/// <see cref="DiskBlockStore"/> sets when it reads a block) are deleted until the tree holds at most
/// <see cref="EvictToFraction"/> of <see cref="MaxBytes"/>. Several processes may share the tree: a block
/// deleted under a reader is simply fetched again, and files are only ever replaced by atomic renames.
/// </summary>
internal sealed class BlockCacheBudget
{
    /// <summary>The default cap: 20 GB.</summary>
    public const long DefaultMaxBytes = 20L << 30;

    /// <summary>Eviction leaves this fraction of the cap used, so it does not run on every write.</summary>
    public const double EvictToFraction = 0.9;

    private static readonly ConcurrentDictionary<string, BlockCacheBudget> Shared = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private long _sinceCheck;

    private BlockCacheBudget(string root, long maxBytes)
    {
        Root = root;
        MaxBytes = maxBytes;
        CheckEveryBytes = Math.Clamp(maxBytes / 32, 1, 256L << 20);
    }

    /// <summary>The budget of <paramref name="root"/> in this process (one per folder, so all readers share it).</summary>
    public static BlockCacheBudget For(string root, long maxBytes)
    {
        return Shared.GetOrAdd(Path.GetFullPath(root) + "|" + maxBytes, _ => new BlockCacheBudget(root, maxBytes));
    }

    public string Root { get; }

    public long MaxBytes { get; }

    /// <summary>Bytes written between two size checks.</summary>
    public long CheckEveryBytes { get; }

    /// <summary>Called after a block of <paramref name="bytes"/> was stored; evicts when a check is due.</summary>
    public void Written(long bytes)
    {
        if (Interlocked.Add(ref _sinceCheck, bytes) < CheckEveryBytes) return;
        lock (_gate)
        {
            if (Interlocked.Read(ref _sinceCheck) < CheckEveryBytes) return;
            Interlocked.Exchange(ref _sinceCheck, 0);
            Evict(Root, MaxBytes);
        }
    }

    /// <summary>Files and bytes under <paramref name="root"/> (0 when it does not exist).</summary>
    public static (long Files, long Bytes) Measure(string root)
    {
        long files = 0, bytes = 0;
        foreach (var f in Files(root))
        {
            files++;
            bytes += f.Length;
        }

        return (files, bytes);
    }

    /// <summary>Deletes least recently used block files until at most <see cref="EvictToFraction"/> × <paramref name="maxBytes"/>
    /// remain (when above <paramref name="maxBytes"/>); returns the bytes deleted.</summary>
    public static long Evict(string root, long maxBytes)
    {
        var all = Files(root);
        long total = all.Sum(f => f.Length);
        if (total <= maxBytes) return 0;
        long target = (long)(maxBytes * EvictToFraction), deleted = 0;
        foreach (var f in all.OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.FullName, StringComparer.Ordinal))
        {
            if (total - deleted <= target) break;
            long length = f.Length; // read before Delete, which invalidates the FileInfo
            try
            {
                f.Delete();
                deleted += length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return deleted;
    }

    /// <summary>Block files under <paramref name="root"/> (refs, listings and recorded lengths are tiny and kept).</summary>
    private static List<FileInfo> Files(string root)
    {
        if (!Directory.Exists(root)) return [];
        try
        {
            return new DirectoryInfo(root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .Where(f => DiskBlockStore.IsBlockFileName(f.Name)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
