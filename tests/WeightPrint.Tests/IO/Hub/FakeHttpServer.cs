using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WeightPrint.Tests.Hub;

/// <summary>A request as the fake server saw it.</summary>
internal sealed record FakeRequest(string Server, string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?')[0];

    public string Query => Target.Contains('?') ? Target[(Target.IndexOf('?') + 1)..] : "";

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>The single byte range asked for (inclusive end, null = to the end), or null without a Range header.</summary>
    public (long Start, long? End)? Range
    {
        get
        {
            string? h = Header("Range");
            if (h == null || !h.StartsWith("bytes=", StringComparison.Ordinal)) return null;
            var parts = h[6..].Split('-');
            long start = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            long? end = parts[1].Length > 0 ? long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : null;
            return (start, end);
        }
    }
}

/// <summary>What the fake server sends back, including ways to misbehave.</summary>
internal sealed class FakeResponse
{
    public int Status { get; init; } = 200;

    public string Reason { get; init; } = "OK";

    public List<(string Name, string Value)> Headers { get; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>Content-Length to declare (defaults to the body length; -1 to send none and close at the end).</summary>
    public long? DeclaredLength { get; init; }

    /// <summary>Stop after this many body bytes (a truncated body).</summary>
    public int? SendOnly { get; init; }

    /// <summary>When stopping early, reset the connection instead of closing it cleanly.</summary>
    public bool Reset { get; init; }

    public TimeSpan DelayBeforeHeaders { get; init; }

    /// <summary>Pause after each chunk of <see cref="ChunkBytes"/> (a slow server).</summary>
    public TimeSpan DelayPerChunk { get; init; }

    public int ChunkBytes { get; init; } = 16 << 10;

    /// <summary>After this many body bytes, pause for <see cref="StallFor"/> (a stalled transfer).</summary>
    public int? StallAfter { get; init; }

    public TimeSpan StallFor { get; init; }

    public static FakeResponse Text(int status, string reason, string body, params (string, string)[] headers)
    {
        var r = new FakeResponse { Status = status, Reason = reason, Body = Encoding.UTF8.GetBytes(body) };
        r.Headers.AddRange(headers);
        return r;
    }
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and an ephemeral port, one request per connection
/// (<c>Connection: close</c>), for tests only: no TLS, no request bodies.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    private const int MaxHeadBytes = 32 << 10;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<FakeRequest, FakeResponse> _handler;
    private long _bodyBytesSent;
    private bool _disposed;
    private int _active;
    private int _maxActive;

    public FakeHttpServer(string name, Func<FakeRequest, FakeResponse> handler)
    {
        Name = name;
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoop);
    }

    public string Name { get; }

    public int Port { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public ConcurrentQueue<FakeRequest> Log { get; } = new();

    public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

    /// <summary>Most requests that were being answered at the same time.</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxActive);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                client.NoDelay = true;
                var stream = client.GetStream();
                var request = await ReadRequest(stream);
                if (request == null) return;
                Log.Enqueue(request);
                int now = Interlocked.Increment(ref _active);
                int seen;
                while (now > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, now, seen) != seen)
                {
                }

                try
                {
                    var response = _handler(request);
                    await Write(client, stream, response);
                }
                finally
                {
                    Interlocked.Decrement(ref _active);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
    }

    private async Task<FakeRequest?> ReadRequest(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (head.Count < MaxHeadBytes)
        {
            int n = await stream.ReadAsync(one, timeout.Token);
            if (n == 0) return null;
            head.Add(one[0]);
            int c = head.Count;
            if (c >= 4 && head[c - 4] == '\r' && head[c - 3] == '\n' && head[c - 2] == '\r' && head[c - 1] == '\n') break;
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        if (first.Length < 3) return null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return new FakeRequest(Name, first[0], first[1], headers);
    }

    private async Task Write(TcpClient client, NetworkStream stream, FakeResponse r)
    {
        if (r.DelayBeforeHeaders > TimeSpan.Zero) await Task.Delay(r.DelayBeforeHeaders, _stop.Token);
        var sb = new StringBuilder();
        sb.Append($"HTTP/1.1 {r.Status} {r.Reason}\r\n");
        foreach (var (name, value) in r.Headers) sb.Append($"{name}: {value}\r\n");
        long declared = r.DeclaredLength ?? r.Body.Length;
        if (declared >= 0) sb.Append($"Content-Length: {declared}\r\n");
        sb.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), _stop.Token);
        int limit = Math.Min(r.Body.Length, r.SendOnly ?? int.MaxValue);
        int sent = 0;
        bool stalled = false;
        while (sent < limit)
        {
            int n = Math.Min(r.ChunkBytes, limit - sent);
            if (r.StallAfter is int s && !stalled && sent + n > s)
            {
                n = Math.Max(0, s - sent);
                if (n > 0) await stream.WriteAsync(r.Body.AsMemory(sent, n), _stop.Token);
                sent += n;
                Interlocked.Add(ref _bodyBytesSent, n);
                await stream.FlushAsync(_stop.Token);
                await Task.Delay(r.StallFor, _stop.Token);
                stalled = true;
                continue;
            }

            await stream.WriteAsync(r.Body.AsMemory(sent, n), _stop.Token);
            sent += n;
            Interlocked.Add(ref _bodyBytesSent, n);
            if (r.DelayPerChunk > TimeSpan.Zero && sent < limit) await Task.Delay(r.DelayPerChunk, _stop.Token);
        }

        await stream.FlushAsync(_stop.Token);
        if (r.SendOnly != null && r.Reset) client.Client.LingerState = new LingerOption(true, 0);
        else client.Client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
