using System.IO.Hashing;
using System.Text;
using WeightPrint.IO.Http;

namespace WeightPrint.IO.Hub;

/// <summary>
/// The WeightPrint cache of one repository: <c>{root}/models--ORG--NAME/</c> holding <c>refs/{revision}</c>
/// (the commit a branch or tag pointed to when last resolved), <c>listings/{sha}.json</c> (file list and sizes)
/// and <c>blocks/{sha}/{file}/…</c> (fetched byte ranges, see <see cref="DiskBlockStore"/>). Everything is keyed
/// by commit SHA, so cached bytes never go stale. Write failures are ignored (a cache never fails a read).
/// </summary>
internal sealed class HubRangeCache
{
    /// <summary>Longest escaped file name used as a folder name before it is shortened with a hash.</summary>
    public const int MaxEscapedNameLength = 160;

    public HubRangeCache(string root, HubReference reference)
    {
        Root = root;
        RepoFolder = Path.Combine(root, reference.CacheFolderName);
    }

    public string Root { get; }

    public string RepoFolder { get; }

    public string? ReadRef(string revision)
    {
        string? text = TryReadText(Path.Combine(RepoFolder, "refs", Escape(revision)));
        return text != null && HubReference.IsCommitSha(text) ? text.ToLowerInvariant() : null;
    }

    public void WriteRef(string revision, string sha)
    {
        if (HubReference.IsCommitSha(revision)) return;
        TryWriteAtomically(Path.Combine(RepoFolder, "refs", Escape(revision)), Encoding.ASCII.GetBytes(sha));
    }

    public HubListing? ReadListing(string sha)
    {
        string path = Path.Combine(RepoFolder, "listings", sha + ".json");
        try
        {
            if (!File.Exists(path)) return null;
            var listing = HubListing.Parse(path, File.ReadAllBytes(path));
            return listing.Sha == sha ? listing : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidModelFileException)
        {
            return null; // a damaged cache entry is treated as absent
        }
    }

    public void WriteListing(HubListing listing) =>
        TryWriteAtomically(Path.Combine(RepoFolder, "listings", listing.Sha + ".json"), listing.ToJson());

    /// <summary>The block store for one file at one commit.</summary>
    public DiskBlockStore BlocksFor(string sha, string file, int blockBytes) =>
        new(Path.Combine(RepoFolder, "blocks", sha, Escape(file)), blockBytes, BlockCacheBudget.For(Root, MaxBytes));

    /// <summary>The size cap of the whole cache under <see cref="Root"/> (least recently used blocks are evicted).</summary>
    public long MaxBytes { get; init; } = BlockCacheBudget.DefaultMaxBytes;

    /// <summary>A file-system-safe, reversible-enough name: [A-Za-z0-9._-] kept, everything else %XX (UTF-8);
    /// long names are shortened and suffixed with a hash.</summary>
    public static string Escape(string name)
    {
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && sb.Length > 0)) sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (sb.Length <= MaxEscapedNameLength) return sb.ToString();
        ulong hash = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(name));
        return sb.ToString(0, MaxEscapedNameLength - 17) + "~" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? TryReadText(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length <= 1024 ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWriteAtomically(string path, byte[] bytes)
    {
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}

/// <summary>
/// A repository in the standard Hugging Face cache layout, read only and without network:
/// <c>{HF_HUB_CACHE}/models--ORG--NAME/refs/{revision}</c> holds a commit SHA and
/// <c>snapshots/{sha}/{file}</c> are (usually) symlinks into <c>blobs/</c>.
/// </summary>
internal sealed class HuggingFaceCacheRepo(string hubCache, HubReference reference)
{
    /// <summary>Weight files whose presence makes a snapshot usable without the network.</summary>
    private static readonly string[] WeightNames =
        ["adapter_config.json", "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin"];

    public string RepoFolder { get; } = Path.Combine(hubCache, reference.CacheFolderName);

    /// <summary>The commit a revision names here (a SHA names itself), or null.</summary>
    public string? ResolveCommit(string revision)
    {
        if (HubReference.IsCommitSha(revision)) return revision.ToLowerInvariant();
        if (HubReference.RevisionProblem(revision) != null) return null;
        try
        {
            string path = Path.Combine([RepoFolder, "refs", .. revision.Split('/')]);
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 1024) return null;
            string text = File.ReadAllText(path).Trim();
            return HubReference.IsCommitSha(text) ? text.ToLowerInvariant() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public string SnapshotFolder(string sha) => Path.Combine(RepoFolder, "snapshots", sha);

    /// <summary>Files of a snapshot (relative '/'-separated name → resolved path and size); broken links are left out.</summary>
    public Dictionary<string, (string Path, long Size)> ListSnapshot(string sha)
    {
        var files = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        string folder = SnapshotFolder(sha);
        if (!Directory.Exists(folder)) return files;
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (string path in Directory.EnumerateFiles(folder, "*", options))
            {
                var info = new FileInfo(path);
                if (info.LinkTarget != null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
                if (!info.Exists) continue;
                string name = Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/');
                files[name] = (path, info.Length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // an unreadable snapshot is treated as partial
        }

        return files;
    }

    /// <summary>True when the snapshot holds something the loader would open as weights.</summary>
    public static bool HasWeights(IEnumerable<string> names) => names.Any(n => !n.Contains('/', StringComparison.Ordinal)
        && (WeightNames.Contains(n, StringComparer.Ordinal) || n.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            || n.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)));
}
