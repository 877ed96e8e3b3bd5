using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WeightPrint.TestSupport;

/// <summary>A request as the fake server saw it.</summary>
internal sealed record FakeRequest(string Server, string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Version = "HTTP/1.1")
{
    public string Path => Target.Split('?')[0];

    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target[(Target.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>Whether the client lets the connection stay open after this request.</summary>
    public bool KeepAlive
    {
        get
        {
            string connection = Header("Connection")?.ToUpperInvariant() ?? "";
            if (connection.Contains("CLOSE", StringComparison.Ordinal)) return false;
            return Version == "HTTP/1.1" || connection.Contains("KEEP-ALIVE", StringComparison.Ordinal);
        }
    }

    /// <summary>The single byte range asked for (inclusive end, null = to the end), or null without a well-formed
    /// <c>bytes=a-[b]</c> Range header.</summary>
    public (long Start, long? End)? Range
    {
        get
        {
            string? h = Header("Range");
            if (h == null || !h.StartsWith("bytes=", StringComparison.Ordinal)) return null;
            var parts = h[6..].Split('-');
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long start)) return null;
            if (parts[1].Length == 0) return (start, null);
            return long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long end) ? (start, end) : null;
        }
    }
}

/// <summary>What the fake server sends back, including ways to misbehave. The body comes from memory
/// (<see cref="Body"/>) or from a file range (<see cref="FilePath"/>, streamed, never loaded whole).</summary>
internal sealed class FakeResponse
{
    public int Status { get; init; } = 200;

    public string? Reason { get; init; }

    public List<(string Name, string Value)> Headers { get; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>When set, the body is [<see cref="FileOffset"/>, + <see cref="FileLength"/>) of this file.</summary>
    public string? FilePath { get; init; }

    public long FileOffset { get; init; }

    public long FileLength { get; init; }

    public long BodyLength => FilePath != null ? FileLength : Body.Length;

    /// <summary>Content-Length to declare (defaults to the body length; -1 to send none and close at the end).</summary>
    public long? DeclaredLength { get; init; }

    /// <summary>Stop after this many body bytes (a truncated body).</summary>
    public long? SendOnly { get; init; }

    /// <summary>When stopping early, reset the connection instead of closing it cleanly.</summary>
    public bool Reset { get; init; }

    public TimeSpan DelayBeforeHeaders { get; init; }

    /// <summary>Pause after each chunk of <see cref="ChunkBytes"/> (a slow server).</summary>
    public TimeSpan DelayPerChunk { get; init; }

    public int ChunkBytes { get; init; } = 16 << 10;

    /// <summary>After this many body bytes, pause for <see cref="StallFor"/> (a stalled transfer).</summary>
    public long? StallAfter { get; init; }

    public TimeSpan StallFor { get; init; }

    /// <summary>Close the connection after answering (always so for a response that misbehaves).</summary>
    public bool Close { get; init; }

    /// <summary>Whether the response lies about or drags out its body, so the connection must not be reused.</summary>
    public bool Misbehaves => DeclaredLength != null || SendOnly != null || StallAfter != null || DelayPerChunk > TimeSpan.Zero;

    public static FakeResponse Text(int status, string reason, string body, params (string, string)[] headers)
    {
        var r = new FakeResponse { Status = status, Reason = reason, Body = Encoding.UTF8.GetBytes(body) };
        r.Headers.AddRange(headers);
        return r;
    }

    public static string DefaultReason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
}

/// <summary>One line per answered request (for bench/hub's request logs), appended under a lock.</summary>
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

    public void Write(string listener, long connection, FakeRequest request, int status, long bodyBytes, double milliseconds)
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

/// <summary>
/// A small HTTP/1.1 server on 127.0.0.1 and an ephemeral port, for tests and the loopback Hub benchmark only: no
/// TLS, keep-alive unless the client or the response closes, no request bodies beyond a discarded Content-Length,
/// file bodies streamed through a fixed buffer. Records every request, and counts requests, response body bytes
/// written to sockets, connections, status classes, aborted responses and the most requests answered at once.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    /// <summary>Largest request head accepted (431 beyond it).</summary>
    public const int MaxHeadBytes = 64 << 10;

    /// <summary>Size of the buffer a file body is streamed through.</summary>
    public const int FileChunkBytes = 1 << 20;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<FakeRequest, FakeResponse> _handler;
    private readonly RequestLog? _requestLog;
    private readonly long[] _statusCounts = new long[6];
    private readonly Task _accept;
    private long _bodyBytesSent, _requests, _connections, _aborted;
    private bool _disposed;
    private int _active;
    private int _maxActive;

    public FakeHttpServer(string name, Func<FakeRequest, FakeResponse> handler, RequestLog? requestLog = null)
    {
        Name = name;
        _handler = handler;
        _requestLog = requestLog;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptLoop);
    }

    public string Name { get; }

    public int Port { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    /// <summary>An idle keep-alive connection is closed after this long.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Every request, in arrival order (when <see cref="KeepLog"/>).</summary>
    public ConcurrentQueue<FakeRequest> Log { get; } = new();

    /// <summary>Whether to keep <see cref="Log"/> (a benchmark over a large model turns it off).</summary>
    public bool KeepLog { get; init; } = true;

    /// <summary>Response body bytes written to sockets (headers not included).</summary>
    public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

    public long Requests => Interlocked.Read(ref _requests);

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Responses whose body could not be sent completely (the client went away).</summary>
    public long Aborted => Interlocked.Read(ref _aborted);

    /// <summary>Most requests that were being answered at the same time.</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxActive);

    /// <summary>Responses with a status of <paramref name="hundreds"/>xx.</summary>
    public long StatusCount(int hundreds) => Interlocked.Read(ref _statusCounts[hundreds]);

    private async Task AcceptLoop()
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
            _ = Task.Run(() => Serve(client, id));
        }
    }

    private async Task Serve(TcpClient client, long id)
    {
        using (client)
        {
            try
            {
                client.NoDelay = true;
                var stream = client.GetStream();
                var reader = new HeadReader(stream, Name);
                byte[]? chunk = null;
                while (!_stop.IsCancellationRequested)
                {
                    FakeRequest? request;
                    bool tooLarge;
                    using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                    {
                        idle.CancelAfter(IdleTimeout);
                        (request, tooLarge) = await reader.ReadHeadAsync(idle.Token).ConfigureAwait(false);
                    }

                    if (request == null)
                    {
                        if (tooLarge) await Write(client, stream, null, FakeResponse.Text(431, "Request Header Fields Too Large", "{}"), false, null).ConfigureAwait(false);
                        return;
                    }

                    if (KeepLog) Log.Enqueue(request);
                    var clock = Stopwatch.StartNew();
                    FakeResponse response;
                    bool keepAlive = request.KeepAlive;
                    if (request.Header("Transfer-Encoding") != null)
                    {
                        response = FakeResponse.Text(501, "Not Implemented", "{\"error\":\"request bodies are not supported\"}");
                        keepAlive = false;
                    }
                    else if (request.Header("Content-Length") is { } cl && (!long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out long bodyLength) || bodyLength > MaxHeadBytes))
                    {
                        response = FakeResponse.Text(400, "Bad Request", "{\"error\":\"bad or too large Content-Length\"}");
                        keepAlive = false;
                    }
                    else
                    {
                        if (request.Header("Content-Length") is { } c2) await reader.DiscardAsync(long.Parse(c2, CultureInfo.InvariantCulture), _stop.Token).ConfigureAwait(false);
                        response = _handler(request);
                        keepAlive &= !response.Close && !response.Misbehaves;
                    }

                    Interlocked.Increment(ref _requests);
                    Interlocked.Increment(ref _statusCounts[Math.Clamp(response.Status / 100, 0, 5)]);
                    int now = Interlocked.Increment(ref _active);
                    int seen;
                    while (now > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, now, seen) != seen)
                    {
                    }

                    long sent = 0;
                    try
                    {
                        if (response.FilePath != null && request.Method != "HEAD") chunk ??= new byte[FileChunkBytes];
                        sent = await Write(client, stream, request, response, keepAlive, chunk).ConfigureAwait(false);
                    }
                    catch
                    {
                        Interlocked.Increment(ref _aborted);
                        throw;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _active);
                        _requestLog?.Write(Name, id, request, response.Status, sent, clock.Elapsed.TotalMilliseconds);
                    }

                    if (!keepAlive) return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The client went away, or the server is stopping.
            }
        }
    }

    /// <summary>Writes the head and (unless HEAD) the body, misbehaving as asked; returns the body bytes written.</summary>
    private async Task<long> Write(TcpClient client, NetworkStream stream, FakeRequest? request, FakeResponse r, bool keepAlive, byte[]? chunk)
    {
        var token = _stop.Token;
        if (r.DelayBeforeHeaders > TimeSpan.Zero) await Task.Delay(r.DelayBeforeHeaders, token).ConfigureAwait(false);
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {r.Status} {r.Reason ?? FakeResponse.DefaultReason(r.Status)}\r\n");
        foreach (var (name, value) in r.Headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        long declared = r.DeclaredLength ?? r.BodyLength;
        if (declared >= 0) head.Append(CultureInfo.InvariantCulture, $"Content-Length: {declared}\r\n");
        head.Append(keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), token).ConfigureAwait(false);
        long sent = 0;
        if (request?.Method != "HEAD")
        {
            using var file = r.FilePath != null ? File.OpenHandle(r.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read) : null;
            long limit = Math.Min(r.BodyLength, r.SendOnly ?? long.MaxValue);
            int chunkBytes = r.FilePath != null && r.DelayPerChunk == TimeSpan.Zero ? chunk!.Length : r.ChunkBytes;
            bool stalled = false;
            while (sent < limit)
            {
                int n = (int)Math.Min(chunkBytes, limit - sent);
                if (r.StallAfter is long s && !stalled && sent + n > s)
                {
                    n = (int)Math.Max(0, s - sent);
                    if (n > 0) await WriteBody(stream, r, file, chunk, sent, n, token).ConfigureAwait(false);
                    sent += n;
                    await stream.FlushAsync(token).ConfigureAwait(false);
                    await Task.Delay(r.StallFor, token).ConfigureAwait(false);
                    stalled = true;
                    continue;
                }

                await WriteBody(stream, r, file, chunk, sent, n, token).ConfigureAwait(false);
                sent += n;
                if (r.DelayPerChunk > TimeSpan.Zero && sent < limit) await Task.Delay(r.DelayPerChunk, token).ConfigureAwait(false);
            }
        }

        await stream.FlushAsync(token).ConfigureAwait(false);
        if (!keepAlive)
        {
            if (r.SendOnly != null && r.Reset) client.Client.LingerState = new LingerOption(true, 0);
            else client.Client.Shutdown(SocketShutdown.Send);
        }

        return sent;
    }

    private async Task WriteBody(NetworkStream stream, FakeResponse r, Microsoft.Win32.SafeHandles.SafeFileHandle? file, byte[]? chunk, long offset, int count, CancellationToken token)
    {
        if (file == null)
        {
            await stream.WriteAsync(r.Body.AsMemory((int)offset, count), token).ConfigureAwait(false);
            Interlocked.Add(ref _bodyBytesSent, count);
            return;
        }

        int done = 0;
        while (done < count)
        {
            int want = Math.Min(chunk!.Length, count - done);
            int n = await RandomAccess.ReadAsync(file, chunk.AsMemory(0, want), r.FileOffset + offset + done, token).ConfigureAwait(false);
            if (n == 0) throw new IOException($"{r.FilePath} ended before byte {r.FileOffset + r.FileLength}: it changed while served");
            await stream.WriteAsync(chunk.AsMemory(0, n), token).ConfigureAwait(false);
            Interlocked.Add(ref _bodyBytesSent, n);
            done += n;
        }
    }

    /// <summary>Stops accepting and ends open connections.</summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accept.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stop();
        _listener.Dispose();
        _stop.Dispose();
    }

    /// <summary>Reads request heads from a connection, keeping bytes that arrive after one head for the next.</summary>
    private sealed class HeadReader(NetworkStream stream, string server)
    {
        private readonly byte[] _buffer = new byte[MaxHeadBytes];
        private int _start, _end;

        /// <summary>The next head, or null at end of stream or for a malformed or oversized head.</summary>
        public async Task<(FakeRequest? Head, bool TooLarge)> ReadHeadAsync(CancellationToken token)
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

        private FakeRequest? Parse(string text)
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

            return new FakeRequest(server, first[0], first[1], headers, first[2]);
        }
    }
}
