using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WeightPrint.Tests.Hub;

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
}

internal sealed record Fault(FaultKind Kind, int Status = 500, string? RetryAfter = null, int Bytes = 1000, TimeSpan Delay = default);

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

    public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = [];

    public Dictionary<string, string> Refs { get; } = [];

    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var sb = new StringBuilder(Id + Commits.Count);
        foreach (var (k, v) in files.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sb.Append(k).Append(Convert.ToHexString(SHA256.HashData(v)));
        string sha = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..40].ToLowerInvariant(); // a 40-hex commit id
        Commits[sha] = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
        Refs[branch] = sha;
        return sha;
    }
}

/// <summary>
/// A fake Hugging Face Hub on loopback: an origin serving <c>/api/models/{repo}/revision/{rev}</c> and
/// <c>/{repo}/resolve/{rev}/{file}</c>, which redirects weight files to a second server acting as the CDN.
/// Both honour single byte ranges. Faults can be injected per request. Records every request.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private readonly Dictionary<string, FakeRepo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly List<(Func<FakeRequest, bool> Match, Fault Fault, int[] Remaining)> _faults = [];
    private readonly Lock _lock = new();

    public FakeHub()
    {
        Origin = new FakeHttpServer("origin", HandleOrigin);
        Cdn = new FakeHttpServer("cdn", HandleCdn);
    }

    public FakeHttpServer Origin { get; }

    public FakeHttpServer Cdn { get; }

    public Uri Endpoint => Origin.BaseUri;

    public IEnumerable<FakeRequest> Requests => Origin.Log.Concat(Cdn.Log);

    public long BytesServed => Origin.BodyBytesSent + Cdn.BodyBytesSent;

    public FakeRepo AddRepo(string id, IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var repo = new FakeRepo(id);
        repo.AddCommit(files, branch);
        lock (_lock) _repos[id] = repo;
        return repo;
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
        if (TakeFault(r) is { Kind: FaultKind.Status } f) return StatusFault(f);
        string path = Uri.UnescapeDataString(r.Path);
        if (r.Path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            // /api/models/{org}/{name}/revision/{rev}  (rev is escaped as one segment)
            var rest = r.Path["/api/models/".Length..];
            int rv = rest.IndexOf("/revision/", StringComparison.Ordinal);
            if (rv < 0) return NotFound("RepoNotFound", "Repository not found");
            string repoId = rest[..rv];
            string revision = Uri.UnescapeDataString(rest[(rv + "/revision/".Length)..]);
            lock (_lock)
            {
                if (_aliases.TryGetValue(repoId, out var target))
                    return Redirect(307, $"/api/models/{target}/revision/{Uri.EscapeDataString(revision)}?{r.Query}");
            }

            var (repo, denied) = Authorize(repoId, r);
            if (denied != null) return denied;
            if (!TryResolve(repo!, revision, out string sha)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            return Json(repo!, sha);
        }

        int resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve > 0)
        {
            string repoId = path[1..resolve];
            string rest = path[(resolve + "/resolve/".Length)..];
            int slash = rest.IndexOf('/');
            string revision = rest[..slash];
            string file = rest[(slash + 1)..];
            lock (_lock)
            {
                if (_aliases.TryGetValue(repoId, out var target)) return Redirect(307, $"/{target}/resolve/{revision}/{file}");
            }

            var (repo, denied) = Authorize(repoId, r);
            if (denied != null) return denied;
            if (!TryResolve(repo!, revision, out string sha)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            if (!repo!.Commits[sha].TryGetValue(file, out var bytes)) return NotFound("EntryNotFound", "Entry not found");
            if (IsLfs(file, bytes))
            {
                string key = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
                lock (_lock) _blobs[key] = bytes;
                var redirect = Redirect(302, $"{Cdn.BaseUri}lfs/{key}?X-Amz-Signature=fake&Expires=9999999999");
                redirect.Headers.Add(("X-Repo-Commit", sha));
                return redirect;
            }

            return Serve(r, bytes, null);
        }

        return NotFound(null, "Not found");
    }

    private FakeResponse HandleCdn(FakeRequest r)
    {
        var fault = TakeFault(r);
        if (fault is { Kind: FaultKind.Status }) return StatusFault(fault);
        if (!r.Path.StartsWith("/lfs/", StringComparison.Ordinal)) return NotFound(null, "no such blob");
        byte[]? bytes;
        lock (_lock) _blobs.TryGetValue(r.Path["/lfs/".Length..], out bytes);
        return bytes == null ? NotFound(null, "no such blob") : Serve(r, bytes, fault);
    }

    private static bool IsLfs(string file, byte[] bytes) =>
        file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal)
        || file.EndsWith(".gguf", StringComparison.Ordinal) || bytes.Length > 100_000;

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

    private static bool TryResolve(FakeRepo repo, string revision, out string sha)
    {
        if (repo.Refs.TryGetValue(revision, out sha!)) return true;
        sha = revision;
        return repo.Commits.ContainsKey(revision);
    }

    private static FakeResponse Json(FakeRepo repo, string sha)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("_id", "fake");
            w.WriteString("id", repo.Id);
            w.WriteString("sha", sha);
            w.WriteBoolean("private", repo.Token != null);
            w.WriteStartArray("siblings");
            foreach (var (name, bytes) in repo.Commits[sha].OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("rfilename", name);
                if (repo.ListSizes) w.WriteNumber("size", bytes.Length);
                if (repo.ListLfs && (name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".gguf", StringComparison.Ordinal)))
                {
                    w.WriteStartObject("lfs");
                    w.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(bytes)));
                    w.WriteNumber("size", bytes.Length);
                    w.WriteNumber("pointerSize", 134);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var r = new FakeResponse { Body = stream.ToArray() };
        r.Headers.Add(("Content-Type", "application/json"));
        return r;
    }

    /// <summary>Serves bytes honouring one Range, applying a body fault.</summary>
    private static FakeResponse Serve(FakeRequest r, byte[] bytes, Fault? fault)
    {
        long length = bytes.Length;
        var range = r.Range;
        if (range == null || fault?.Kind == FaultKind.FullBody)
        {
            var full = new FakeResponse { Body = bytes };
            full.Headers.Add(("Content-Type", "application/octet-stream"));
            return full;
        }

        var (start, endOrNull) = range.Value;
        if (start >= length)
        {
            var bad = new FakeResponse { Status = 416, Reason = "Range Not Satisfiable" };
            bad.Headers.Add(("Content-Range", $"bytes */{length}"));
            return bad;
        }

        long end = Math.Min(endOrNull ?? length - 1, length - 1);
        if (fault?.Kind == FaultKind.WrongContentRange)
        {
            start = Math.Min(start + fault.Bytes, length - 1);
            end = Math.Max(start, end);
        }

        var body = bytes.AsSpan((int)start, (int)(end - start + 1)).ToArray();
        string total = fault?.Kind == FaultKind.WrongTotal ? (length + 1).ToString(CultureInfo.InvariantCulture) : length.ToString(CultureInfo.InvariantCulture);
        int cut = Math.Min(fault?.Bytes ?? 0, body.Length - 1);
        var response = new FakeResponse
        {
            Status = 206,
            Reason = "Partial Content",
            Body = body,
            SendOnly = fault?.Kind is FaultKind.Reset or FaultKind.Truncate ? cut : null,
            Reset = fault?.Kind == FaultKind.Reset,
            DelayPerChunk = fault?.Kind == FaultKind.Slow ? fault.Delay : TimeSpan.Zero,
            ChunkBytes = fault?.Kind == FaultKind.Slow ? 8 << 10 : 16 << 10,
            StallAfter = fault?.Kind == FaultKind.Stall ? cut : null,
            StallFor = fault?.Kind == FaultKind.Stall ? fault.Delay : TimeSpan.Zero,
        };
        response.Headers.Add(("Content-Range", $"bytes {start}-{end}/{total}"));
        response.Headers.Add(("Accept-Ranges", "bytes"));
        return response;
    }

    private static FakeResponse StatusFault(Fault f)
    {
        var r = FakeResponse.Text(f.Status, f.Status == 429 ? "Too Many Requests" : "Internal Server Error", "{\"error\":\"injected\"}");
        if (f.RetryAfter != null) r.Headers.Add(("Retry-After", f.RetryAfter));
        return r;
    }

    private static FakeResponse NotFound(string? code, string message)
    {
        var r = FakeResponse.Text(404, "Not Found", "{\"error\":\"" + message + "\"}");
        if (code != null) r.Headers.Add(("X-Error-Code", code));
        r.Headers.Add(("X-Error-Message", message));
        return r;
    }

    private static FakeResponse Redirect(int status, string location)
    {
        var r = new FakeResponse { Status = status, Reason = "Redirect" };
        r.Headers.Add(("Location", location));
        return r;
    }

    public void Dispose()
    {
        Origin.Dispose();
        Cdn.Dispose();
    }
}
