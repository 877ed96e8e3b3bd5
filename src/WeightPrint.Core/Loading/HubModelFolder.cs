using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO;

namespace WeightPrint.Loading;

using WeightPrint.IO.Hub;

/// <summary>
/// A repository snapshot as an <see cref="IModelFolder"/>: files already in the Hugging Face cache are
/// memory-mapped; the others are read remotely with ranges (through the WeightPrint cache), or only from that
/// cache when offline.
/// </summary>
internal sealed class HubModelFolder : IModelFolder
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sha256 = new(StringComparer.Ordinal);
    private readonly HttpFetcher? _fetcher;
    private readonly HubRangeCache? _cache;
    private readonly BlockMemoryCache _memory;
    private readonly HttpReadOptions _http;
    private readonly RemoteTransfer _transfer;
    private readonly string _offlineReason;
    private int _prefetchedShards;

    private sealed record Entry(string Name, long? Size, string? LocalPath, RemoteFile? Remote);

    internal HubModelFolder(HubReference reference, string sha, Uri endpoint, IEnumerable<HubFile> remoteFiles,
        IReadOnlyDictionary<string, (string Path, long Size)> localFiles, HttpFetcher? fetcher, HubRangeCache? cache,
        HttpReadOptions http, RemoteTransfer transfer, string offlineReason)
    {
        Location = reference.ToString();
        Reference = reference;
        Commit = sha;
        _fetcher = fetcher;
        _cache = cache;
        _http = http;
        _memory = new BlockMemoryCache(http.MemoryCacheBlocks);
        _transfer = transfer;
        _offlineReason = offlineReason;
        foreach (var f in remoteFiles)
        {
            if (f.Sha256 != null) _sha256[f.Name] = f.Sha256;
            // A file already in the Hugging Face cache is used in place when its size agrees with the listing.
            if (localFiles.TryGetValue(f.Name, out var local) && (f.Size == null || f.Size == local.Size))
                _entries[f.Name] = new Entry(f.Name, local.Size, local.Path, null);
            else
            {
                var url = HubListing.ResolveUrl(endpoint, reference.Repo, sha, f.Name);
                var remote = new RemoteFile(url, url.AbsoluteUri, f.Size) { NotFoundProblem = $"{f.Name} is listed at commit {sha} but the Hub has no such file (404)" };
                _entries[f.Name] = new Entry(f.Name, f.Size, null, remote);
            }
        }

        foreach (var (name, local) in localFiles)
            _entries.TryAdd(name, new Entry(name, local.Size, local.Path, null));
    }

    public string Location { get; }

    /// <summary>The SHA-256 of files stored with Git LFS, by repository path, as the listing gave them.</summary>
    public IReadOnlyDictionary<string, string> Sha256 => _sha256;

    public HubReference Reference { get; }

    /// <summary>The commit SHA every file is read at.</summary>
    public string Commit { get; }

    public IEnumerable<string> FileNames => _entries.Keys.Where(n => !n.Contains('/', StringComparison.Ordinal));

    /// <summary>True when some file is read over the network (or the WeightPrint cache), not from the HF cache.</summary>
    public bool HasRemoteFiles => _entries.Values.Any(e => e.Remote != null);

    public bool Exists(string name) => _entries.ContainsKey(name);

    public string PathOf(string name) => _entries.TryGetValue(name, out var e) ? e.LocalPath ?? e.Remote!.Name : Location + "/" + name;

    public IByteSource Open(string name)
    {
        if (!_entries.TryGetValue(name, out var e)) throw new InvalidModelFileException(Location, $"the repository has no file {name} at commit {Commit}");
        if (e.LocalPath != null) return new MemoryMappedFileSource(e.LocalPath);
        var source = OpenRemote(e);
        if (name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && Exists("model.safetensors.index.json"))
            PrefetchShardHeaders(name);
        return source;
    }

    public byte[] ReadAllBytes(string name, long limit, string what)
    {
        if (!_entries.TryGetValue(name, out var e)) throw new InvalidModelFileException(Location, $"the repository has no file {name} at commit {Commit}");
        if (e.LocalPath != null) return new LocalModelFolder(Path.GetDirectoryName(e.LocalPath)!, p => new MemoryMappedFileSource(p)).ReadAllBytes(Path.GetFileName(e.LocalPath), limit, what);
        string path = PathOf(name);
        if (e.Size > limit) throw new InvalidModelFileException(path, $"{what} of {e.Size} bytes exceeds the {limit}-byte limit");
        using var source = OpenRemote(e);
        if (source.Length > limit) throw new InvalidModelFileException(path, $"{what} of {source.Length} bytes exceeds the {limit}-byte limit");
        var bytes = new byte[source.Length];
        source.Read(0, bytes);
        return bytes;
    }

    private HttpRangeByteSource OpenRemote(Entry e) =>
        HttpRangeByteSource.Open(e.Remote!, _fetcher, _cache?.BlocksFor(Commit, e.Name, _http.BlockBytes), _memory, _http, _transfer, _offlineReason);

    /// <summary>The loader reads shard headers one after another; start all their first blocks at once.</summary>
    private void PrefetchShardHeaders(string opened)
    {
        if (_fetcher == null || Interlocked.Exchange(ref _prefetchedShards, 1) != 0) return;
        foreach (var e in _entries.Values)
        {
            if (e.Remote?.Length == null || e.Name == opened || e.Name.Contains('/', StringComparison.Ordinal)
                || !e.Name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) continue;
            using var source = OpenRemote(e);
            source.Prefetch(0, 1);
        }
    }
}
