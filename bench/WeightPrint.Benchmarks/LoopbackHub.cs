using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WeightPrint.Benchmarks;

/// <summary>
/// <c>serve-hub --port-file FILE [--log FILE] [--no-cdn] ORG/NAME=DIR [ORG/NAME=DIR ...]</c>: serves local folders
/// as Hugging Face Hub repositories on 127.0.0.1, for measuring what the Hub client fetches (bench/hub). Never
/// used by the tests or shipped.
/// <para>
/// The origin answers <c>GET /api/models/{ORG}/{NAME}/revision/{REV}</c> (JSON: <c>sha</c>,
/// <c>siblings[].rfilename</c> and <c>siblings[].size</c>, as with <c>?blobs=True</c>) and
/// <c>GET /{ORG}/{NAME}/resolve/{REV}/{FILE}</c>. REV is <c>main</c> or the repository's commit: a fixed 40-hex
/// string hashed from the repository id and its file names and sizes. Like the real Hub, weight files
/// (.safetensors, .bin, .gguf, .pt, .pth, or anything over 10 MB) are redirected (302) to a second listener acting
/// as the CDN, unless <c>--no-cdn</c>; the other files are served by the origin.
/// </para>
/// <para>
/// Files are streamed from disk in 1 MiB chunks (never loaded whole). One byte range per request
/// (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>): 206 with an inclusive <c>Content-Range</c>, 200 without a
/// Range header (or with several ranges, which the server may ignore), 416 with <c>Content-Range: bytes */LENGTH</c>
/// for a malformed or unsatisfiable range, 404 (with the Hub's <c>X-Error-Code</c>) for an unknown repository,
/// revision or file. HTTP/1.1 keep-alive; each connection is served concurrently.
/// </para>
/// <para>
/// The origin's port is written to the port file once both listeners are up. Runs until SIGTERM or SIGINT, then
/// prints to stdout one line of totals (requests and response body bytes per listener), the exact bytes the
/// client was sent. <c>--log FILE</c> writes one line per request.
/// </para>
/// </summary>
internal static class LoopbackHub
{
    /// <summary>Files served through the CDN listener regardless of name when larger than this.</summary>
    public const long LfsThresholdBytes = 10L << 20;

    public static int Run(string[] args)
    {
        string? portFile = null, logFile = null;
        bool cdn = true;
        var specs = new List<(string Id, string Dir)>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port-file" when i + 1 < args.Length:
                    portFile = args[++i];
                    break;
                case "--log" when i + 1 < args.Length:
                    logFile = args[++i];
                    break;
                case "--no-cdn":
                    cdn = false;
                    break;
                default:
                    int eq = args[i].IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || args[i].StartsWith('-')) return Usage($"unexpected argument '{args[i]}'");
                    string id = args[i][..eq], dir = args[i][(eq + 1)..];
                    var parts = id.Split('/');
                    if (parts.Length != 2 || parts.Any(p => p.Length == 0)) return Usage($"repository id '{id}' is not ORG/NAME");
                    if (!Directory.Exists(dir)) return Usage($"no such folder: {dir}");
                    if (specs.Any(s => s.Id == id)) return Usage($"repository {id} given twice");
                    specs.Add((id, dir));
                    break;
            }
        }

        if (portFile == null || specs.Count == 0) return Usage("--port-file and at least one ORG/NAME=DIR are required");

        var repos = specs.Select(s => HubRepo.Load(s.Id, s.Dir)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        using var log = logFile != null ? new RequestLog(logFile) : null;
        using var hub = new LoopbackHubServer(repos, cdn, log);
        using var stop = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        hub.Start();

        string tmp = portFile + ".tmp";
        File.WriteAllText(tmp, hub.OriginPort.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(tmp, portFile, overwrite: true);
        foreach (var r in repos.Values)
            Console.Error.WriteLine($"serve-hub: {r.Id} @ {r.Sha}: {r.Files.Count} files, {r.Files.Values.Sum(f => f.Size)} bytes from {r.Directory}");
        Console.Error.WriteLine($"serve-hub: listening on http://127.0.0.1:{hub.OriginPort}" + (cdn ? $" (CDN http://127.0.0.1:{hub.CdnPort})" : ""));

        stop.Wait();
        hub.Stop();
        Console.Out.WriteLine(hub.Totals());
        Console.Out.Flush();
        return 0;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine("serve-hub: " + problem);
        Console.Error.WriteLine("usage: serve-hub --port-file FILE [--log FILE] [--no-cdn] ORG/NAME=DIR [ORG/NAME=DIR ...]");
        return 2;
    }
}

/// <summary>A local folder served as a repository at one fixed commit.</summary>
internal sealed record HubRepo(string Id, string Directory, string Sha, IReadOnlyDictionary<string, HubRepoFile> Files)
{
    /// <summary>Lists the folder (recursively, skipping names that start with '.') and derives the commit id.</summary>
    public static HubRepo Load(string id, string directory)
    {
        string root = Path.GetFullPath(directory);
        var files = new SortedDictionary<string, HubRepoFile>(StringComparer.Ordinal);
        foreach (string path in System.IO.Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string name = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (name.Split('/').Any(p => p.StartsWith('.'))) continue;
            files[name] = new HubRepoFile(name, path, new FileInfo(path).Length);
        }

        var listing = new StringBuilder(id).Append('\n');
        foreach (var f in files.Values) listing.Append(f.Name).Append('\t').Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('\n');
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())))[..40];
        var withTags = files.Values.ToDictionary(
            f => f.Name,
            f => f with { ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{sha}/{f.Name}/{f.Size}")))[..32] + "\"" },
            StringComparer.Ordinal);
        return new HubRepo(id, root, sha, withTags);
    }

    /// <summary>The commit for a revision: <c>main</c> or the commit id itself.</summary>
    public bool Resolves(string revision) => revision == "main" || revision == Sha;
}

internal sealed record HubRepoFile(string Name, string Path, long Size, string ETag = "");

/// <summary>A parsed request head.</summary>
internal sealed record HttpRequestHead(string Method, string Target, string Version, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?')[0];

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public bool KeepAlive
    {
        get
        {
            string connection = Header("Connection")?.ToUpperInvariant() ?? "";
            if (connection.Contains("CLOSE", StringComparison.Ordinal)) return false;
            return Version == "HTTP/1.1" || connection.Contains("KEEP-ALIVE", StringComparison.Ordinal);
        }
    }
}

/// <summary>What to answer: status, headers, and a body from memory or from a file range.</summary>
internal sealed class HttpAnswer
{
    public int Status { get; init; } = 200;

    public List<(string Name, string Value)> Headers { get; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>When set, the body is [Offset, Offset + Length) of this file instead of <see cref="Body"/>.</summary>
    public string? FilePath { get; init; }

    public long FileOffset { get; init; }

    public long FileLength { get; init; }

    public long BodyLength => FilePath != null ? FileLength : Body.Length;

    /// <summary>Close the connection after answering.</summary>
    public bool Close { get; init; }

    public static HttpAnswer Text(int status, string body, params (string, string)[] headers)
    {
        var a = new HttpAnswer { Status = status, Body = Encoding.UTF8.GetBytes(body) };
        a.Headers.Add(("Content-Type", "application/json; charset=utf-8"));
        a.Headers.AddRange(headers);
        return a;
    }

    public static string Reason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => "Status",
    };
}

/// <summary>One request line per answered request (appended under a lock, flushed at exit).</summary>
internal sealed class RequestLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public RequestLog(string path)
    {
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        _writer.WriteLine("# seconds listener connection method target range status body_bytes milliseconds");
    }

    public void Write(string listener, long connection, HttpRequestHead request, int status, long bodyBytes, double milliseconds)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_clock.Elapsed.TotalSeconds:F3} {listener} {connection} {request.Method} {request.Target} {request.Header("Range")?.Replace(' ', '_') ?? "-"} {status} {bodyBytes} {milliseconds:F1}");
        lock (_lock) _writer.WriteLine(line);
    }

    public void Dispose()
    {
        lock (_lock) _writer.Dispose();
    }
}

/// <summary>The origin and (optionally) the CDN listener, with the Hub's routes.</summary>
internal sealed class LoopbackHubServer : IDisposable
{
    private readonly IReadOnlyDictionary<string, HubRepo> _repos;
    private readonly bool _useCdn;
    private readonly HttpListenerLoop _origin;
    private readonly HttpListenerLoop? _cdn;

    public LoopbackHubServer(IReadOnlyDictionary<string, HubRepo> repos, bool useCdn, RequestLog? log)
    {
        _repos = repos;
        _useCdn = useCdn;
        _origin = new HttpListenerLoop("origin", HandleOrigin, log);
        _cdn = useCdn ? new HttpListenerLoop("cdn", HandleCdn, log) : null;
    }

    public int OriginPort => _origin.Port;

    public int CdnPort => _cdn?.Port ?? 0;

    public void Start()
    {
        _cdn?.Start();
        _origin.Start();
    }

    public void Stop()
    {
        _origin.Stop();
        _cdn?.Stop();
    }

    /// <summary>One line of key=value totals (bench/hub parses it).</summary>
    public string Totals()
    {
        var all = new[] { _origin, _cdn }.OfType<HttpListenerLoop>().ToArray();
        var sb = new StringBuilder("serve-hub totals:");
        sb.Append(CultureInfo.InvariantCulture, $" requests={all.Sum(l => l.Requests)} body_bytes={all.Sum(l => l.BodyBytes)}");
        foreach (var l in all)
            sb.Append(CultureInfo.InvariantCulture, $" {l.Name}_requests={l.Requests} {l.Name}_bytes={l.BodyBytes} {l.Name}_connections={l.Connections} {l.Name}_max_concurrent={l.MaxConcurrent}");
        sb.Append(CultureInfo.InvariantCulture, $" status_2xx={all.Sum(l => l.StatusCount(2))} status_3xx={all.Sum(l => l.StatusCount(3))} status_4xx={all.Sum(l => l.StatusCount(4))} status_5xx={all.Sum(l => l.StatusCount(5))}");
        sb.Append(CultureInfo.InvariantCulture, $" aborted={all.Sum(l => l.Aborted)}");
        return sb.ToString();
    }

    private HttpAnswer HandleOrigin(HttpRequestHead r)
    {
        if (r.Method is not ("GET" or "HEAD")) return MethodNotAllowed();
        string path = r.Path;
        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            // /api/models/{ORG}/{NAME}[/revision/{REV}]  (REV escaped as one segment)
            string rest = path["/api/models/".Length..];
            int rv = rest.IndexOf("/revision/", StringComparison.Ordinal);
            string repoId = Unescape(rv < 0 ? rest.TrimEnd('/') : rest[..rv]);
            string revision = rv < 0 ? "main" : Unescape(rest[(rv + "/revision/".Length)..]);
            if (!_repos.TryGetValue(repoId, out var repo)) return NotFound("RepoNotFound", "Repository not found");
            if (!repo.Resolves(revision)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            return Listing(repo);
        }

        // /{ORG}/{NAME}/resolve/{REV}/{FILE...}
        var segments = path.Split('/');
        if (segments.Length >= 6 && segments[0].Length == 0 && segments[3] == "resolve")
        {
            string repoId = Unescape(segments[1]) + "/" + Unescape(segments[2]);
            string revision = Unescape(segments[4]);
            string file = string.Join('/', segments[5..].Select(Unescape));
            if (!_repos.TryGetValue(repoId, out var repo)) return NotFound("RepoNotFound", "Repository not found");
            if (!repo.Resolves(revision)) return NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            if (!repo.Files.TryGetValue(file, out var f)) return NotFound("EntryNotFound", "Entry not found");
            if (_useCdn && IsLfs(f))
            {
                var redirect = new HttpAnswer { Status = 302 };
                redirect.Headers.Add(("Location", $"http://127.0.0.1:{CdnPort}/repos/{repoId}/{repo.Sha}/{Escape(f.Name)}"));
                redirect.Headers.Add(("X-Repo-Commit", repo.Sha));
                redirect.Headers.Add(("X-Linked-Size", f.Size.ToString(CultureInfo.InvariantCulture)));
                redirect.Headers.Add(("X-Linked-Etag", f.ETag));
                redirect.Headers.Add(("ETag", f.ETag));
                return redirect;
            }

            var served = Serve(r, f);
            served.Headers.Add(("X-Repo-Commit", repo.Sha));
            return served;
        }

        return NotFound(null, "Not found");
    }

    private HttpAnswer HandleCdn(HttpRequestHead r)
    {
        if (r.Method is not ("GET" or "HEAD")) return MethodNotAllowed();
        // /repos/{ORG}/{NAME}/{SHA}/{FILE...}: the commit must be exact (a signed URL names one object)
        var segments = r.Path.Split('/');
        if (segments.Length >= 6 && segments[0].Length == 0 && segments[1] == "repos"
            && _repos.TryGetValue(Unescape(segments[2]) + "/" + Unescape(segments[3]), out var repo) && segments[4] == repo.Sha
            && repo.Files.TryGetValue(string.Join('/', segments[5..].Select(Unescape)), out var f))
        {
            return Serve(r, f);
        }

        return HttpAnswer.Text(404, "{\"error\":\"NoSuchKey\"}");
    }

    private static readonly string[] LfsExtensions = [".safetensors", ".bin", ".gguf", ".pt", ".pth"];

    private static bool IsLfs(HubRepoFile f) =>
        f.Size > LoopbackHub.LfsThresholdBytes || LfsExtensions.Any(ext => f.Name.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    /// <summary>A file, whole (200) or one byte range (206), or 416.</summary>
    private static HttpAnswer Serve(HttpRequestHead r, HubRepoFile f)
    {
        long length = f.Size;
        var range = ParseRange(r.Header("Range"), length, out bool unsatisfiable);
        HttpAnswer answer;
        if (unsatisfiable)
        {
            answer = HttpAnswer.Text(416, "{\"error\":\"InvalidRange\"}", ("Content-Range", $"bytes */{length}"));
        }
        else if (range is var (first, last))
        {
            answer = new HttpAnswer { Status = 206, FilePath = f.Path, FileOffset = first, FileLength = last - first + 1 };
            answer.Headers.Add(("Content-Range", $"bytes {first}-{last}/{length}"));
        }
        else
        {
            answer = new HttpAnswer { Status = 200, FilePath = f.Path, FileOffset = 0, FileLength = length };
        }

        if (answer.Status != 416) answer.Headers.Add(("Content-Type", "application/octet-stream"));
        answer.Headers.Add(("Accept-Ranges", "bytes"));
        answer.Headers.Add(("ETag", f.ETag));
        return answer;
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

    private static HttpAnswer Listing(HubRepo repo)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("_id", repo.Sha[..24]);
            w.WriteString("id", repo.Id);
            w.WriteString("modelId", repo.Id);
            w.WriteString("sha", repo.Sha);
            w.WriteBoolean("private", false);
            w.WriteBoolean("gated", false);
            w.WriteStartArray("siblings");
            foreach (var f in repo.Files.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("rfilename", f.Name);
                w.WriteNumber("size", f.Size);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var answer = new HttpAnswer { Body = stream.ToArray() };
        answer.Headers.Add(("Content-Type", "application/json; charset=utf-8"));
        return answer;
    }

    private static HttpAnswer NotFound(string? code, string message)
    {
        var a = HttpAnswer.Text(404, JsonSerializerString(message));
        if (code != null) a.Headers.Add(("X-Error-Code", code));
        a.Headers.Add(("X-Error-Message", message));
        return a;
    }

    private static string JsonSerializerString(string message)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static HttpAnswer MethodNotAllowed() => HttpAnswer.Text(405, "{\"error\":\"method not allowed\"}", ("Allow", "GET, HEAD"));

    private static string Unescape(string s) => Uri.UnescapeDataString(s);

    private static string Escape(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    public void Dispose()
    {
        _origin.Dispose();
        _cdn?.Dispose();
    }
}

/// <summary>
/// A small HTTP/1.1 server on 127.0.0.1 and an ephemeral port: keep-alive, one task per connection, no request
/// bodies beyond a discarded Content-Length, file bodies streamed with <see cref="RandomAccess"/>. Counts requests,
/// response body bytes written to the socket, connections and the most requests answered at once.
/// </summary>
internal sealed class HttpListenerLoop : IDisposable
{
    /// <summary>Largest request head accepted.</summary>
    public const int MaxHeadBytes = 64 << 10;

    /// <summary>Size of the buffer a file body is streamed through.</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>An idle keep-alive connection is closed after this long.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    private readonly Func<HttpRequestHead, HttpAnswer> _handler;
    private readonly RequestLog? _log;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly long[] _statusCounts = new long[6];
    private long _requests, _bodyBytes, _connections, _aborted;
    private int _active, _maxActive;
    private Task? _accept;

    public HttpListenerLoop(string name, Func<HttpRequestHead, HttpAnswer> handler, RequestLog? log)
    {
        Name = name;
        _handler = handler;
        _log = log;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Response body bytes written to sockets (headers not included).</summary>
    public long BodyBytes => Interlocked.Read(ref _bodyBytes);

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Responses whose body could not be sent completely (the client closed the connection).</summary>
    public long Aborted => Interlocked.Read(ref _aborted);

    public int MaxConcurrent => Volatile.Read(ref _maxActive);

    public long StatusCount(int hundreds) => Interlocked.Read(ref _statusCounts[hundreds]);

    public void Start()
    {
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptLoopAsync);
    }

    public void Stop()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accept?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            long id = Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeConnectionAsync(client, id));
        }
    }

    private async Task ServeConnectionAsync(TcpClient client, long id)
    {
        using (client)
        {
            try
            {
                client.NoDelay = true;
                var stream = client.GetStream();
                var reader = new HeadReader(stream);
                byte[]? chunk = null;
                while (!_stop.IsCancellationRequested)
                {
                    HttpRequestHead? request;
                    bool tooLarge;
                    using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                    {
                        idle.CancelAfter(IdleTimeout);
                        (request, tooLarge) = await reader.ReadHeadAsync(idle.Token).ConfigureAwait(false);
                    }

                    if (request == null)
                    {
                        if (tooLarge) await WriteAsync(stream, null, HttpAnswer.Text(431, "{}"), false, null).ConfigureAwait(false);
                        return;
                    }

                    var clock = Stopwatch.StartNew();
                    HttpAnswer answer;
                    bool keepAlive = request.KeepAlive;
                    if (request.Header("Transfer-Encoding") != null)
                    {
                        answer = HttpAnswer.Text(501, "{\"error\":\"request bodies are not supported\"}");
                        keepAlive = false;
                    }
                    else if (request.Header("Content-Length") is { } cl && (!long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out long bodyLength) || bodyLength > MaxHeadBytes))
                    {
                        answer = HttpAnswer.Text(400, "{\"error\":\"bad or too large Content-Length\"}");
                        keepAlive = false;
                    }
                    else
                    {
                        if (request.Header("Content-Length") is { } c2) await reader.DiscardAsync(long.Parse(c2, CultureInfo.InvariantCulture), _stop.Token).ConfigureAwait(false);
                        answer = _handler(request);
                        keepAlive &= !answer.Close;
                    }

                    Interlocked.Increment(ref _requests);
                    Interlocked.Increment(ref _statusCounts[Math.Clamp(answer.Status / 100, 0, 5)]);
                    int now = Interlocked.Increment(ref _active);
                    int seen;
                    while (now > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, now, seen) != seen)
                    {
                    }

                    long sent = 0;
                    try
                    {
                        if (answer.FilePath != null && request.Method != "HEAD") chunk ??= new byte[ChunkBytes];
                        sent = await WriteAsync(stream, request, answer, keepAlive, chunk).ConfigureAwait(false);
                    }
                    catch
                    {
                        Interlocked.Increment(ref _aborted);
                        throw;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _active);
                        _log?.Write(Name, id, request, answer.Status, sent, clock.Elapsed.TotalMilliseconds);
                    }

                    if (!keepAlive)
                    {
                        client.Client.Shutdown(SocketShutdown.Send);
                        return;
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The client went away, or the server is stopping.
            }
        }
    }

    /// <summary>Writes the head and (unless HEAD) the body; returns the body bytes written.</summary>
    private async Task<long> WriteAsync(NetworkStream stream, HttpRequestHead? request, HttpAnswer answer, bool keepAlive, byte[]? chunk)
    {
        var token = _stop.Token;
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {answer.Status} {HttpAnswer.Reason(answer.Status)}\r\n");
        head.Append("Server: weightprint-serve-hub\r\n");
        foreach (var (name, value) in answer.Headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {answer.BodyLength}\r\n");
        head.Append(keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), token).ConfigureAwait(false);
        if (request?.Method == "HEAD") return 0;
        if (answer.FilePath == null)
        {
            if (answer.Body.Length > 0) await stream.WriteAsync(answer.Body, token).ConfigureAwait(false);
            Interlocked.Add(ref _bodyBytes, answer.Body.Length);
            return answer.Body.Length;
        }

        long sent = 0;
        using var file = File.OpenHandle(answer.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        while (sent < answer.FileLength)
        {
            int want = (int)Math.Min(chunk!.Length, answer.FileLength - sent);
            int n = await RandomAccess.ReadAsync(file, chunk.AsMemory(0, want), answer.FileOffset + sent, token).ConfigureAwait(false);
            if (n == 0) throw new IOException($"{answer.FilePath} ended before byte {answer.FileOffset + answer.FileLength}: it changed while served");
            await stream.WriteAsync(chunk.AsMemory(0, n), token).ConfigureAwait(false);
            Interlocked.Add(ref _bodyBytes, n);
            sent += n;
        }

        return sent;
    }

    public void Dispose()
    {
        Stop();
        _listener.Dispose();
        _stop.Dispose();
    }

    /// <summary>Reads request heads from a connection, keeping bytes that arrive after one head for the next.</summary>
    private sealed class HeadReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[MaxHeadBytes];
        private int _start, _end;

        /// <summary>The next head, or null at end of stream or for a malformed or oversized head.</summary>
        public async Task<(HttpRequestHead? Head, bool TooLarge)> ReadHeadAsync(CancellationToken token)
        {
            int scanFrom = _start;
            while (true)
            {
                int found = _buffer.AsSpan(scanFrom, _end - scanFrom).IndexOf("\r\n\r\n"u8);
                if (found >= 0)
                {
                    int headEnd = scanFrom + found;
                    string text = Encoding.Latin1.GetString(_buffer, _start, headEnd - _start);
                    _start = headEnd + 4;
                    return (Parse(text), false);
                }

                scanFrom = Math.Max(_start, _end - 3);
                if (_start > 0 && _end == _buffer.Length)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    scanFrom -= _start;
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length) return (null, true);
                int n = await stream.ReadAsync(_buffer.AsMemory(_end), token).ConfigureAwait(false);
                if (n == 0) return (null, false);
                _end += n;
            }
        }

        public async Task DiscardAsync(long count, CancellationToken token)
        {
            int buffered = (int)Math.Min(count, _end - _start);
            _start += buffered;
            count -= buffered;
            var scratch = new byte[4096];
            while (count > 0)
            {
                int n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count)), token).ConfigureAwait(false);
                if (n == 0) throw new IOException("the request body ended early");
                count -= n;
            }
        }

        private static HttpRequestHead? Parse(string text)
        {
            var lines = text.Split("\r\n");
            var first = lines[0].Split(' ');
            if (first.Length != 3 || !first[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !first[1].StartsWith('/')) return null;
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0) return null;
                string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var previous) ? previous + ", " + value : value;
            }

            return new HttpRequestHead(first[0], first[1], first[2], headers);
        }
    }
}
