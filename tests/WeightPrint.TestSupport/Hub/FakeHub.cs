using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WeightPrint.TestSupport;

/// <summary>Ways the fake Hub can misbehave for a matching request.</summary>
internal enum FaultKind
{
    /// <summary>Answer with <see cref="Fault.Status"/> (and Retry-After when set).</summary>
    Status,

    /// <summary>Send part of the body, then reset the connection.</summary>
    Reset,

    /// <summary>Declare the full length, send part of the body, close cleanly.</summary>
    Truncate,

    /// <summary>Answer 206 with a Content-Range (and data) shifted forward from what was asked.</summary>
    WrongContentRange,

    /// <summary>Ignore Range and answer 200 with the whole file.</summary>
    FullBody,

    /// <summary>Send the body slowly in small chunks.</summary>
    Slow,

    /// <summary>Send part of the body, then stall longer than the client's idle timeout.</summary>
    Stall,

    /// <summary>Answer 206 with a Content-Range whose total differs from the file size.</summary>
    WrongTotal,

    /// <summary>Answer 206 with the right Content-Range and Content-Length, but send <see cref="Fault.Bytes"/> more
    /// body bytes than announced.</summary>
    LongBody,

    /// <summary>Answer 206 with the right Content-Range, but announce and send <see cref="Fault.Bytes"/> fewer bytes.</summary>
    ShortBody,

    /// <summary>Answer with the body gzip-compressed and <c>Content-Encoding: gzip</c>, though identity was asked.</summary>
    Gzip,

    /// <summary>Add a response header of <see cref="Fault.Bytes"/> characters.</summary>
    HugeHeader,

    /// <summary>Drip-feed any answer (ranged or not): <see cref="Fault.Bytes"/> bytes every <see cref="Fault.Delay"/>.</summary>
    Drip,
}

internal sealed record Fault(FaultKind Kind, int Status = 500, string? RetryAfter = null, int Bytes = 1000, TimeSpan Delay = default);

/// <summary>One file of a commit: bytes in memory, or a file on disk streamed in ranges (never loaded whole).</summary>
internal sealed record HubFile(byte[]? Bytes, string? DiskPath, long Size, string ETag)
{
    public static HubFile FromBytes(byte[] bytes) => new(bytes, null, bytes.Length, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes)) + "\"");
}

/// <summary>A repository on the fake Hub: commits (file sets) and branch/tag refs.</summary>
internal sealed class FakeRepo(string id)
{
    public string Id { get; } = id;

    public string? Token { get; set; }

    public bool Gated { get; set; }

    /// <summary>Whether the API listing gives sibling sizes (as with ?blobs=True).</summary>
    public bool ListSizes { get; set; } = true;

    /// <summary>Whether the API listing gives <c>lfs.sha256</c> (and <c>lfs.size</c>) for weight files, as the Hub does for files in Git LFS.</summary>
    public bool ListLfs { get; set; }

    public Dictionary<string, Dictionary<string, HubFile>> Commits { get; } = [];

    public Dictionary<string, string> Refs { get; } = [];

    /// <summary>Adds a commit of in-memory files (its id hashes the repository, the commit count and the contents)
    /// and points <paramref name="branch"/> at it.</summary>
    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var sb = new StringBuilder(Id + Commits.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var (k, v) in files.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sb.Append(k).Append(Convert.ToHexString(SHA256.HashData(v)));
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..40]; // a 40-hex commit id
        Commits[sha] = files.ToDictionary(kv => kv.Key, kv => HubFile.FromBytes(kv.Value), StringComparer.Ordinal);
        Refs[branch] = sha;
        return sha;
    }

    /// <summary>Adds a commit serving a local folder (recursively, skipping names that start with '.'), files
    /// streamed from disk. Its id hashes the repository id and the file names and sizes (no file is read).</summary>
    public string AddFolder(string directory, string branch = "main")
    {
        string root = Path.GetFullPath(directory);
        var paths = new SortedDictionary<string, (string Path, long Size)>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string name = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (name.Split('/').Any(p => p.StartsWith('.'))) continue;
            var info = new FileInfo(path);
            if (info.LinkTarget != null) info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info; // a symlinked file: its target's size
            paths[name] = (path, info.Length);
        }

        var listing = new StringBuilder(Id).Append('\n');
        foreach (var (name, f) in paths) listing.Append(name).Append('\t').Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('\n');
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())))[..40];
        Commits[sha] = paths.ToDictionary(
            kv => kv.Key,
            kv => new HubFile(null, kv.Value.Path, kv.Value.Size, "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{sha}/{kv.Key}/{kv.Value.Size}")))[..32] + "\""),
            StringComparer.Ordinal);
        Refs[branch] = sha;
        return sha;
    }
}

/// <summary>
/// A fake Hugging Face Hub on loopback, for the tests and bench/hub's <c>serve-hub</c>: an origin serving
/// <c>/api/models/{repo}[/revision/{rev}]</c> (JSON: <c>sha</c>, <c>siblings[].rfilename</c> and, as with
/// <c>?blobs=True</c>, <c>siblings[].size</c>) and <c>/{repo}/resolve/{rev}/{file}</c>, which redirects (302) weight
/// files (.safetensors, .bin, .gguf, .pt, .pth, or anything larger than <see cref="LfsThresholdBytes"/>) to a second
/// listener acting as the CDN, like the real Hub; other files are served by the origin. Files come from memory or
/// from disk. One byte range per request (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>): 206 with an
/// inclusive Content-Range, 200 without a Range header (or with several ranges), 416 for a malformed or
/// unsatisfiable range, 404 with the Hub's <c>X-Error-Code</c> for an unknown repository, revision or file. Tokens,
/// gated repositories, renamed repositories (307) and injected faults per request. Records every request.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private static readonly string[] LfsExtensions = [".safetensors", ".bin", ".gguf", ".pt", ".pth"];
    private readonly Dictionary<string, FakeRepo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly List<(Func<FakeRequest, bool> Match, Fault Fault, int[] Remaining)> _faults = [];
    private readonly Lock _lock = new();
    private readonly bool _useCdn;

    /// <param name="useCdn">Redirect weight files to the CDN listener (false: the origin serves everything).</param>
    /// <param name="requestLog">One line per request, for benchmarks.</param>
    /// <param name="keepRequests">Keep every request in <see cref="Requests"/> (off for a long benchmark).</param>
    public FakeHub(bool useCdn = true, RequestLog? requestLog = null, bool keepRequests = true)
    {
        _useCdn = useCdn;
        Origin = new FakeHttpServer("origin", HandleOrigin, requestLog) { KeepLog = keepRequests };
        Cdn = new FakeHttpServer("cdn", HandleCdn, requestLog) { KeepLog = keepRequests };
    }

    public FakeHttpServer Origin { get; }

    public FakeHttpServer Cdn { get; }

    public Uri Endpoint => Origin.BaseUri;

    /// <summary>Files larger than this go through the CDN whatever their name.</summary>
    public long LfsThresholdBytes { get; init; } = 100_000;

    public IEnumerable<FakeRequest> Requests => Origin.Log.Concat(Cdn.Log);

    public long BytesServed => Origin.BodyBytesSent + Cdn.BodyBytesSent;

    public IReadOnlyCollection<FakeRepo> Repos
    {
        get
        {
            lock (_lock) return _repos.Values.ToList();
        }
    }

    public FakeRepo AddRepo(string id, IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var repo = new FakeRepo(id);
        repo.AddCommit(files, branch);
        lock (_lock) _repos[id] = repo;
        return repo;
    }

    /// <summary>Serves a local folder as repository <paramref name="id"/> (files streamed from disk).</summary>
    public FakeRepo AddFolder(string id, string directory)
    {
        var repo = new FakeRepo(id);
        repo.AddFolder(directory);
        lock (_lock) _repos[id] = repo;
        return repo;
    }

    /// <summary>Serves other bytes for a file of an existing commit (a server whose file changes under a fixed commit).</summary>
    public void Replace(FakeRepo repo, string sha, string name, byte[] bytes)
    {
        lock (_lock) repo.Commits[sha][name] = HubFile.FromBytes(bytes);
    }

    /// <summary>A renamed repository: requests for <paramref name="oldId"/> are redirected (relative 307) to <paramref name="newId"/>.</summary>
    public void AddAlias(string oldId, string newId)
    {
        lock (_lock) _aliases[oldId] = newId;
    }

    /// <summary>Applies <paramref name="fault"/> to <paramref name="times"/> requests matching (server, path part, ranged),
    /// after letting the first <paramref name="skip"/> matching ones through.</summary>
    public void Inject(Fault fault, int times = 1, string server = "cdn", string? pathContains = null, bool rangedOnly = true, int skip = 0)
    {
        lock (_lock)
        {
            _faults.Add((r => r.Server == server && (pathContains == null || r.Target.Contains(pathContains, StringComparison.Ordinal))
                && (!rangedOnly || r.Range != null), fault, [times, skip]));
        }
    }

    /// <summary>One line of key=value totals (bench/hub parses it).</summary>
    public string Totals()
    {
        var all = _useCdn ? new[] { Origin, Cdn } : [Origin];
        var sb = new StringBuilder("serve-hub totals:");
        sb.Append(CultureInfo.InvariantCulture, $" requests={all.Sum(l => l.Requests)} body_bytes={all.Sum(l => l.BodyBytesSent)}");
        foreach (var l in all)
            sb.Append(CultureInfo.InvariantCulture, $" {l.Name}_requests={l.Requests} {l.Name}_bytes={l.BodyBytesSent} {l.Name}_connections={l.Connections} {l.Name}_max_concurrent={l.MaxConcurrentRequests}");
        sb.Append(CultureInfo.InvariantCulture, $" status_2xx={all.Sum(l => l.StatusCount(2))} status_3xx={all.Sum(l => l.StatusCount(3))} status_4xx={all.Sum(l => l.StatusCount(4))} status_5xx={all.Sum(l => l.StatusCount(5))}");
        sb.Append(CultureInfo.InvariantCulture, $" aborted={all.Sum(l => l.Aborted)}");
        return sb.ToString();
    }

    private Fault? TakeFault(FakeRequest r)
    {
        lock (_lock)
        {
            foreach (var (match, fault, remaining) in _faults)
            {
                if (remaining[0] > 0 && match(r))
                {
                    if (remaining[1] > 0)
                    {
                        remaining[1]--;
                        continue;
                    }

                    remaining[0]--;
                    return fault;
                }
            }
        }

        return null;
    }

    private FakeResponse HandleOrigin(FakeRequest r)
    {
        var fault = TakeFault(r);
        if (fault is { Kind: FaultKind.Status }) return StatusFault(fault);
        if (r.Method is not ("GET" or "HEAD")) return MethodNotAllowed();
        if (r.Path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            // /api/models/{org}/{name}[/revision/{rev}]  (rev is escaped as one segment)
            var rest = r.Path["/api/models/".Length..];
            int rv = rest.IndexOf("/revision/", StringComparison.Ordinal);
            string repoId = Uri.UnescapeDataString(rv < 0 ? rest.TrimEnd('/') : rest[..rv]);
            string revision = rv < 0 ? "main" : Uri.UnescapeDataString(rest[(rv + "/revision/".Length)..]);
            lock (_lock)
            {
                if (_aliases.TryGetValue(repoId, out var target))
                    return Redirect(307, $"/api/models/{target}/revision/{Uri.EscapeDataString(revision)}?{r.Query}");
            }

            var (repo, denied) = Authorize(repoId, r);
            if (denied != null) return denied;
            if (!TryResolve(repo!, revision, out string sha)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            return Listing(repo!, sha, fault);
        }

        string path = Uri.UnescapeDataString(r.Path);
        int resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve > 0)
        {
            string repoId = path[1..resolve];
            string rest = path[(resolve + "/resolve/".Length)..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) return NotFound(null, "Not found");
            string revision = rest[..slash];
            string file = rest[(slash + 1)..];
            lock (_lock)
            {
                if (_aliases.TryGetValue(repoId, out var target)) return Redirect(307, $"/{target}/resolve/{revision}/{file}");
            }

            var (repo, denied) = Authorize(repoId, r);
            if (denied != null) return denied;
            if (!TryResolve(repo!, revision, out string sha)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            HubFile? f;
            lock (_lock) repo!.Commits[sha].TryGetValue(file, out f);
            if (f == null) return NotFound("EntryNotFound", "Entry not found");
            if (_useCdn && IsLfs(file, f))
            {
                var redirect = Redirect(302, $"{Cdn.BaseUri}repos/{repo.Id}/{sha}/{Escape(file)}?X-Amz-Signature=fake&Expires=9999999999");
                redirect.Headers.Add(("X-Repo-Commit", sha));
                redirect.Headers.Add(("X-Linked-Size", f.Size.ToString(CultureInfo.InvariantCulture)));
                redirect.Headers.Add(("X-Linked-Etag", f.ETag));
                redirect.Headers.Add(("ETag", f.ETag));
                return redirect;
            }

            var served = Serve(r, f, fault);
            served.Headers.Add(("X-Repo-Commit", sha));
            return served;
        }

        return NotFound(null, "Not found");
    }

    private FakeResponse HandleCdn(FakeRequest r)
    {
        var fault = TakeFault(r);
        if (fault is { Kind: FaultKind.Status }) return StatusFault(fault);
        if (r.Method is not ("GET" or "HEAD")) return MethodNotAllowed();
        // /repos/{ORG}/{NAME}/{SHA}/{FILE...}: the commit must be exact (a signed URL names one object)
        var segments = r.Path.Split('/');
        if (segments.Length >= 6 && segments[0].Length == 0 && segments[1] == "repos")
        {
            string repoId = Uri.UnescapeDataString(segments[2]) + "/" + Uri.UnescapeDataString(segments[3]);
            string file = string.Join('/', segments[5..].Select(Uri.UnescapeDataString));
            HubFile? f = null;
            lock (_lock)
            {
                if (_repos.TryGetValue(repoId, out var repo) && repo.Commits.TryGetValue(segments[4], out var commit)) commit.TryGetValue(file, out f);
            }

            if (f != null) return Serve(r, f, fault);
        }

        return FakeResponse.Text(404, "Not Found", "{\"error\":\"NoSuchKey\"}");
    }

    private bool IsLfs(string file, HubFile f) =>
        f.Size > LfsThresholdBytes || LfsExtensions.Any(ext => file.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    private (FakeRepo? Repo, FakeResponse? Denied) Authorize(string repoId, FakeRequest r)
    {
        FakeRepo? repo;
        lock (_lock) _repos.TryGetValue(repoId, out repo);
        if (repo == null) return (null, NotFound("RepoNotFound", "Repository not found"));
        if (repo.Token == null) return (repo, null);
        string? auth = r.Header("Authorization");
        if (auth == null)
        {
            return (null, FakeResponse.Text(401, "Unauthorized", "{\"error\":\"Repository not found\"}",
                ("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")));
        }

        if (auth != "Bearer " + repo.Token)
        {
            if (repo.Gated) return (null, FakeResponse.Text(403, "Forbidden", "{}", ("X-Error-Code", "GatedRepo"), ("X-Error-Message", "Access to this model is restricted")));
            return (null, FakeResponse.Text(401, "Unauthorized", "{}", ("X-Error-Message", "Invalid credentials in Authorization header")));
        }

        return (repo, null);
    }

    private bool TryResolve(FakeRepo repo, string revision, out string sha)
    {
        lock (_lock)
        {
            if (repo.Refs.TryGetValue(revision, out sha!)) return true;
            sha = revision;
            return repo.Commits.ContainsKey(revision);
        }
    }

    private FakeResponse Listing(FakeRepo repo, string sha, Fault? fault)
    {
        List<KeyValuePair<string, HubFile>> files;
        lock (_lock) files = repo.Commits[sha].OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("_id", sha[..24]);
            w.WriteString("id", repo.Id);
            w.WriteString("modelId", repo.Id);
            w.WriteString("sha", sha);
            w.WriteBoolean("private", repo.Token != null);
            w.WriteBoolean("gated", repo.Gated);
            w.WriteStartArray("siblings");
            foreach (var (name, f) in files)
            {
                w.WriteStartObject();
                w.WriteString("rfilename", name);
                if (repo.ListSizes) w.WriteNumber("size", f.Size);
                if (repo.ListLfs && (name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".gguf", StringComparison.Ordinal)))
                {
                    w.WriteStartObject("lfs");
                    w.WriteString("sha256", Convert.ToHexStringLower(f.Bytes != null ? SHA256.HashData(f.Bytes) : HashFile(f.DiskPath!)));
                    w.WriteNumber("size", f.Size);
                    w.WriteNumber("pointerSize", 134);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var r = new FakeResponse { Body = stream.ToArray() };
        r.Headers.Add(("Content-Type", "application/json; charset=utf-8"));
        return ApplyFaults(r, fault);
    }

    /// <summary>A file, whole (200) or one byte range (206), or 416; applying a body fault.</summary>
    private static FakeResponse Serve(FakeRequest r, HubFile f, Fault? fault)
    {
        long length = f.Size;
        var range = ParseRange(r.Header("Range"), length, out bool unsatisfiable);
        if (unsatisfiable && fault?.Kind != FaultKind.FullBody)
        {
            var bad = FakeResponse.Text(416, "Range Not Satisfiable", "{\"error\":\"InvalidRange\"}", ("Content-Range", $"bytes */{length}"));
            bad.Headers.Add(("ETag", f.ETag));
            return bad;
        }

        FakeResponse response;
        if (range == null || fault?.Kind == FaultKind.FullBody)
        {
            response = Body(f, 0, length, 200);
        }
        else
        {
            var (start, end) = range.Value;
            if (fault?.Kind == FaultKind.WrongContentRange)
            {
                start = Math.Min(start + fault.Bytes, length - 1);
                end = Math.Max(start, end);
            }

            long count = end - start + 1;
            long cut = Math.Min(fault?.Bytes ?? 0, count - 1);
            long sendCount = fault?.Kind == FaultKind.ShortBody ? Math.Max(1, count - fault.Bytes) : fault?.Kind == FaultKind.LongBody ? Math.Min(count + fault.Bytes, length - start) : count;
            response = Body(f, start, sendCount, 206, fault?.Kind switch
            {
                FaultKind.Reset or FaultKind.Truncate => new FakeResponse { SendOnly = cut, Reset = fault.Kind == FaultKind.Reset },
                FaultKind.Slow => new FakeResponse { DelayPerChunk = fault.Delay, ChunkBytes = 8 << 10 },
                FaultKind.Stall => new FakeResponse { StallAfter = cut, StallFor = fault.Delay },
                FaultKind.LongBody => new FakeResponse { DeclaredLength = count },
                _ => null,
            });
            string total = fault?.Kind == FaultKind.WrongTotal ? (length + 1).ToString(CultureInfo.InvariantCulture) : length.ToString(CultureInfo.InvariantCulture);
            long shownEnd = fault?.Kind == FaultKind.ShortBody ? start + sendCount - 1 : end;
            response.Headers.Add(("Content-Range", $"bytes {start}-{shownEnd}/{total}"));
        }

        if (response.Status != 416) response.Headers.Add(("Content-Type", "application/octet-stream"));
        response.Headers.Add(("Accept-Ranges", "bytes"));
        response.Headers.Add(("ETag", f.ETag));
        return ApplyFaults(response, fault);
    }

    /// <summary>A response whose body is [<paramref name="start"/>, + <paramref name="count"/>) of the file, with the
    /// misbehaviour of <paramref name="how"/> (when not null).</summary>
    private static FakeResponse Body(HubFile f, long start, long count, int status, FakeResponse? how = null)
    {
        how ??= new FakeResponse();
        return new FakeResponse
        {
            Status = status,
            Body = f.Bytes != null ? f.Bytes.AsSpan((int)start, (int)count).ToArray() : [],
            FilePath = f.DiskPath,
            FileOffset = start,
            FileLength = f.DiskPath != null ? count : 0,
            DeclaredLength = how.DeclaredLength,
            SendOnly = how.SendOnly,
            Reset = how.Reset,
            DelayPerChunk = how.DelayPerChunk,
            ChunkBytes = how.ChunkBytes,
            StallAfter = how.StallAfter,
            StallFor = how.StallFor,
        };
    }

    /// <summary>Gzip, huge-header and drip faults, which change the answer after it is built.</summary>
    private static FakeResponse ApplyFaults(FakeResponse response, Fault? fault)
    {
        if (fault?.Kind == FaultKind.HugeHeader) response.Headers.Add(("X-Padding", new string('a', fault.Bytes)));
        if (fault?.Kind == FaultKind.Drip)
        {
            var dripping = new FakeResponse
            {
                Status = response.Status, Body = response.Body, FilePath = response.FilePath, FileOffset = response.FileOffset, FileLength = response.FileLength,
                ChunkBytes = fault.Bytes, DelayPerChunk = fault.Delay,
            };
            dripping.Headers.AddRange(response.Headers);
            return dripping;
        }

        if (fault?.Kind != FaultKind.Gzip || response.FilePath != null) return response;
        using var packed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(response.Body);
        var zipped = new FakeResponse { Status = response.Status, Body = packed.ToArray() };
        zipped.Headers.AddRange(response.Headers);
        zipped.Headers.Add(("Content-Encoding", "gzip"));
        return zipped;
    }

    /// <summary>
    /// One range of a file of <paramref name="length"/> bytes as (first, last) inclusive, clamped to the file; null
    /// for no Range header, a unit other than bytes, or several ranges (all answered with the whole file).
    /// Malformed or unsatisfiable single ranges set <paramref name="unsatisfiable"/>.
    /// </summary>
    internal static (long First, long Last)? ParseRange(string? header, long length, out bool unsatisfiable)
    {
        unsatisfiable = false;
        if (header == null) return null;
        string h = header.Trim();
        if (!h.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return null;
        string spec = h[6..].Trim();
        if (spec.Contains(',', StringComparison.Ordinal)) return null;
        int dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            unsatisfiable = true;
            return null;
        }

        string a = spec[..dash].Trim(), b = spec[(dash + 1)..].Trim();
        static bool Number(string s, out long v) =>
            long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (a.Length == 0)
        {
            // bytes=-N: the last N bytes
            if (!Number(b, out long suffix) || suffix == 0 || length == 0)
            {
                unsatisfiable = true;
                return null;
            }

            return (Math.Max(0, length - suffix), length - 1);
        }

        if (!Number(a, out long first) || first >= length)
        {
            unsatisfiable = true;
            return null;
        }

        if (b.Length == 0) return (first, length - 1);
        if (!Number(b, out long last) || last < first)
        {
            unsatisfiable = true;
            return null;
        }

        return (first, Math.Min(last, length - 1));
    }

    private static FakeResponse StatusFault(Fault f)
    {
        var r = FakeResponse.Text(f.Status, FakeResponse.DefaultReason(f.Status), "{\"error\":\"injected\"}");
        if (f.RetryAfter != null) r.Headers.Add(("Retry-After", f.RetryAfter));
        return r;
    }

    private static FakeResponse NotFound(string? code, string message)
    {
        var r = FakeResponse.Text(404, "Not Found", JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }));
        if (code != null) r.Headers.Add(("X-Error-Code", code));
        r.Headers.Add(("X-Error-Message", message));
        return r;
    }

    private static FakeResponse MethodNotAllowed() => FakeResponse.Text(405, "Method Not Allowed", "{\"error\":\"method not allowed\"}", ("Allow", "GET, HEAD"));

    private static FakeResponse Redirect(int status, string location)
    {
        var r = new FakeResponse { Status = status, Reason = "Redirect" };
        r.Headers.Add(("Location", location));
        return r;
    }

    private static byte[] HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    private static string Escape(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    /// <summary>Stops both listeners (open connections end).</summary>
    public void Stop()
    {
        Origin.Stop();
        Cdn.Stop();
    }

    public void Dispose()
    {
        Origin.Dispose();
        Cdn.Dispose();
    }
}
