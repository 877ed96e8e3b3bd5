using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace WeightPrint.IO.Http;

/// <summary>The outcome of a range read: bytes written, and the file's total length when the server said it.</summary>
internal readonly record struct RangeReadResult(int Filled, long? TotalLength);

/// <summary>
/// Sends GET requests for whole small files and byte ranges, following redirects itself so that the bearer
/// token only ever goes to <c>authOrigin</c> (never to a CDN host after a redirect). Retries 429 (honouring
/// Retry-After), 408, 5xx, connection failures, stalls and truncated bodies with exponential backoff, bounded
/// by <see cref="HttpReadOptions.MaxAttempts"/> and <see cref="HttpReadOptions.RetryBudget"/>; resumes a broken
/// range from the first byte not yet received. Checks every 206 Content-Range and takes only the needed part
/// of a 200 full-body answer (streamed, never buffered whole). Failures become <see cref="InvalidModelFileException"/>.
/// </summary>
internal sealed class HttpFetcher : IDisposable
{
    /// <summary>Size of the scratch buffer used to skip unwanted bytes of a 200 answer.</summary>
    public const int SkipBufferBytes = 64 << 10;

    private readonly HttpClient _client;
    private readonly HttpReadOptions _options;
    private readonly Uri? _authOrigin;
    private readonly string? _token;
    private readonly SemaphoreSlim _slots;
    private readonly RemoteTransfer _transfer;

    public HttpFetcher(HttpReadOptions options, RemoteTransfer transfer, Uri? authOrigin = null, string? token = null)
    {
        options.Validate();
        _options = options;
        _transfer = transfer;
        _authOrigin = authOrigin;
        _token = string.IsNullOrEmpty(token) ? null : token;
        if (_token != null && _token.Any(c => c <= ' ' || c > '~'))
            throw new ArgumentException("the token contains spaces or characters that cannot be sent in a header", nameof(token));
        _slots = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = options.MaxConcurrentRequests + 2,
        };
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("weightprint/1.0");
        // Without Accept-Encoding any coding would be acceptable (RFC 9110 12.5.3): ask for the bytes as stored.
        _client.DefaultRequestHeaders.AcceptEncoding.ParseAdd("identity");
    }

    public HttpReadOptions Options => _options;

    public RemoteTransfer Transfer => _transfer;

    /// <summary>Reads a whole small file (an API answer, a JSON sidecar), refusing more than <paramref name="limit"/> bytes.</summary>
    public byte[] GetBytes(RemoteFile file, long limit, CancellationToken cancellation = default) =>
        GetBytesAsync(file, limit, cancellation).GetAwaiter().GetResult();

    public async Task<byte[]> GetBytesAsync(RemoteFile file, long limit, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await _slots.WaitAsync(cancellation).ConfigureAwait(false);
                try
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    var (response, fromMemo) = await SendAsync(file, null, idle, cancellation).ConfigureAwait(false);
                    using (response)
                    {
                        if (response.StatusCode != HttpStatusCode.OK) throw StatusError(response, file, fromMemo);
                        long? declared = response.Content.Headers.ContentLength;
                        if (declared > limit) throw new InvalidModelFileException(file.Name, $"answer of {declared} bytes exceeds the {limit}-byte limit");
                        using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
                        using var collected = new MemoryStream();
                        byte[] buffer = new byte[SkipBufferBytes];
                        var reading = Stopwatch.StartNew();
                        while (true)
                        {
                            idle.CancelAfter(_options.IdleTimeout);
                            int n = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                            if (n == 0) break;
                            _transfer.AddFetched(n);
                            if (collected.Length + n > limit) throw new InvalidModelFileException(file.Name, $"answer exceeds the {limit}-byte limit");
                            collected.Write(buffer, 0, n);
                            // A drip-fed answer never trips the idle timeout: hold it to the same rate floor as ranges.
                            if (reading.Elapsed > _options.IdleTimeout + TimeSpan.FromSeconds((double)collected.Length / _options.MinBytesPerSecond))
                                throw new RetryableException($"too slow: {collected.Length} bytes in {reading.Elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (below {_options.MinBytesPerSecond} bytes/s)");
                        }

                        if (declared != null && collected.Length != declared)
                            throw new RetryableException($"the answer stopped after {collected.Length} of {declared} bytes");
                        return collected.ToArray();
                    }
                }
                finally
                {
                    _slots.Release();
                }
            }
            catch (Exception e) when (Retryable(e, cancellation) is { } retry)
            {
                await WaitBeforeRetryAsync(file, retry, attempt, clock, cancellation).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Synchronous <see cref="ReadRangeAsync"/>.</summary>
    public RangeReadResult ReadRange(RemoteFile file, long offset, Memory<byte> destination, CancellationToken cancellation = default) =>
        ReadRangeAsync(file, offset, destination, cancellation).GetAwaiter().GetResult();

    /// <summary>
    /// Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>. When the file's length
    /// is known the range must lie inside it and is filled completely; when unknown, fewer bytes are returned
    /// only if the file ends first (the total length is then learned from the answer).
    /// </summary>
    public async Task<RangeReadResult> ReadRangeAsync(RemoteFile file, long offset, Memory<byte> destination, CancellationToken cancellation = default)
    {
        long? known = file.Length;
        ByteRange.Check(file.Name, known, offset, destination.Length);
        var clock = Stopwatch.StartNew();
        int filled = 0, failures = 0;
        long? total = known;
        while (true)
        {
            if (filled == destination.Length) return new RangeReadResult(filled, total);
            try
            {
                await _slots.WaitAsync(cancellation).ConfigureAwait(false);
                try
                {
                    var step = await ReadOnceAsync(file, offset + filled, destination[filled..], cancellation).ConfigureAwait(false);
                    filled += step.Filled;
                    if (step.Total != null) total = step.Total;
                    if (step.EndOfFile) return new RangeReadResult(filled, total);
                    if (step.Problem != null && filled < destination.Length) throw new RetryableException(step.Problem, progressed: step.Filled > 0 && !step.TooSlow);
                }
                finally
                {
                    _slots.Release();
                    _transfer.Report();
                }
            }
            catch (Exception e) when (Retryable(e, cancellation) is { } retry)
            {
                // A broken answer that delivered bytes is resumed without counting as a failed attempt
                // (still bounded by the retry time limit, and each resume makes progress).
                if (!retry.Progressed) failures++;
                else clock.Restart(); // the retry time limit counts from the last progress
                await WaitBeforeRetryAsync(file, retry, Math.Max(1, failures), clock, cancellation).ConfigureAwait(false);
            }
        }
    }

    private readonly record struct Step(int Filled, long? Total, bool EndOfFile, string? Problem, bool TooSlow = false);

    /// <summary>One request for [start, start + destination.Length): returns how much arrived and why it stopped early.</summary>
    private async Task<Step> ReadOnceAsync(RemoteFile file, long start, Memory<byte> destination, CancellationToken cancellation)
    {
        long requestedLast = start + destination.Length - 1;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var (response, fromMemo) = await SendAsync(file, (start, requestedLast), idle, cancellation).ConfigureAwait(false);
        using (response)
        {
            long? known = file.Length;
            long skip;
            int take;
            long? total;
            bool endOfFile = false;
            switch (response.StatusCode)
            {
                case HttpStatusCode.PartialContent:
                {
                    var header = response.Content.Headers.TryGetValues("Content-Range", out var values) ? values.FirstOrDefault() : null;
                    if (!ContentRange.TryParse(header, out var range) || range.Unsatisfied)
                        throw new RetryableException($"206 answer with a missing or malformed Content-Range '{header}' for bytes {start}-{requestedLast}");
                    total = range.Complete;
                    CheckTotal(file, total);
                    if (range.First > start || range.Last < start)
                        throw new RetryableException($"the server sent Content-Range {range} for requested bytes {start}-{requestedLast}");
                    CheckEtag(file, response);
                    if (response.Content.Headers.ContentLength is long cl && cl != range.Length)
                        throw new RetryableException($"206 answer's Content-Length {cl} disagrees with its Content-Range {range}");
                    skip = start - range.First;
                    long last = Math.Min(range.Last, requestedLast);
                    take = checked((int)(last - start + 1));
                    if (range.Last < requestedLast)
                    {
                        long? fileLength = known ?? total;
                        if (fileLength != null && range.Last == fileLength - 1) endOfFile = true;
                    }

                    break;
                }

                case HttpStatusCode.OK:
                {
                    // The server ignored Range: the body is the whole file from byte 0. Stream past the prefix, but only
                    // a bounded one: deep in a huge file, every block would download everything before it.
                    total = response.Content.Headers.ContentLength;
                    CheckTotal(file, total);
                    CheckEtag(file, response);
                    if (start > _options.MaxIgnoredRangeSkipBytes)
                    {
                        throw new RetryableException($"the server ignores byte ranges (200 with the whole {(known ?? total)?.ToString(CultureInfo.InvariantCulture) ?? "unknown-size"}-byte file for bytes {start}-{requestedLast}): "
                            + $"reaching byte {start} would download everything before it, more than the {_options.MaxIgnoredRangeSkipBytes} bytes allowed");
                    }

                    skip = start;
                    long available = (known ?? total) is long len ? Math.Max(0, len - start) : long.MaxValue;
                    take = (int)Math.Min(destination.Length, available);
                    if (take < destination.Length) endOfFile = true;
                    break;
                }

                case HttpStatusCode.RequestedRangeNotSatisfiable:
                {
                    var header = response.Content.Headers.TryGetValues("Content-Range", out var values) ? values.FirstOrDefault() : null;
                    if (known == null && ContentRange.TryParse(header, out var range) && range.Unsatisfied && range.Complete <= start)
                    {
                        file.SetLength(range.Complete!.Value);
                        return new Step(0, range.Complete, EndOfFile: true, null);
                    }

                    throw new InvalidModelFileException(file.Name, $"the server says bytes {start}-{requestedLast} lie outside the file (416, {header ?? "no Content-Range"}): the file changed or its size is wrong");
                }

                default:
                    throw StatusError(response, file, fromMemo);
            }

            if (known == null && total != null) file.SetLength(total.Value);
            using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            if (skip > 0 && !await SkipAsync(body, skip, idle, cancellation).ConfigureAwait(false))
                return new Step(0, total, false, $"the answer ended before reaching byte {start}");
            var deadline = _options.IdleTimeout + TimeSpan.FromSeconds((double)(skip + take) / _options.MinBytesPerSecond);
            using var slow = new CancellationTokenSource(deadline);
            var clock = Stopwatch.StartNew();
            int got = await FillAsync(body, destination[..take], idle, slow.Token, cancellation).ConfigureAwait(false);
            if (got < take && slow.IsCancellationRequested)
            {
                string seconds = clock.Elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
                return new Step(got, total, false, $"too slow: {got} of {take} bytes in {seconds} s (below {_options.MinBytesPerSecond} bytes/s)", TooSlow: true);
            }

            if (got < take && response.StatusCode == HttpStatusCode.OK && known == null && total == null)
            {
                // A 200 body of unknown length ends where the file ends.
                file.SetLength(start + got);
                return new Step(got, start + got, EndOfFile: true, null);
            }

            if (got < take) return new Step(got, total, false, $"the answer stopped after {got} of {take} bytes (truncated body)");
            return new Step(got, total, endOfFile, null);
        }
    }

    /// <summary>The first answer's ETag is the file's; a later answer with another one is another version of the file
    /// (the server changed it under the same address), whose bytes must not be mixed with those already read.</summary>
    private static void CheckEtag(RemoteFile file, HttpResponseMessage response)
    {
        string? tag = response.Headers.ETag?.Tag;
        if (tag == null) return;
        string? first = file.AgreeOnETag(tag);
        if (first != null)
            throw new InvalidModelFileException(file.Name, $"the file changed on the server between requests (ETag {OneLine(first, 80)}, then {OneLine(tag, 80)}): refusing to mix two versions of it; try again");
    }

    private static void CheckTotal(RemoteFile file, long? total)
    {
        if (file.Length is long known && total is long t && t != known)
            throw new InvalidModelFileException(file.Name, $"the server reports {t} bytes for this file but {known} were expected: the file changed on the server or the listing is wrong");
    }

    private async Task<bool> SkipAsync(Stream body, long count, CancellationTokenSource idle, CancellationToken cancellation)
    {
        byte[] scratch = new byte[SkipBufferBytes];
        while (count > 0)
        {
            idle.CancelAfter(_options.IdleTimeout);
            int n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count)), idle.Token).ConfigureAwait(false);
            if (n == 0) return false;
            _transfer.AddFetched(n);
            count -= n;
        }

        cancellation.ThrowIfCancellationRequested();
        return true;
    }

    private async Task<int> FillAsync(Stream body, Memory<byte> destination, CancellationTokenSource idle, CancellationToken tooSlow, CancellationToken cancellation)
    {
        int got = 0;
        try
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, tooSlow);
            while (got < destination.Length)
            {
                idle.CancelAfter(_options.IdleTimeout);
                int n = await body.ReadAsync(destination[got..], either.Token).ConfigureAwait(false);
                if (n == 0) break;
                _transfer.AddFetched(n);
                got += n;
            }
        }
        catch (Exception e) when ((got > 0 || tooSlow.IsCancellationRequested) && !cancellation.IsCancellationRequested
            && e is IOException or HttpRequestException or OperationCanceledException)
        {
            // Keep what arrived; the caller resumes from the first missing byte.
        }

        return got;
    }

    /// <summary>Sends one GET, following redirects; the token goes only to the auth origin.</summary>
    private async Task<(HttpResponseMessage Response, bool FromMemo)> SendAsync(RemoteFile file, (long First, long Last)? range,
        CancellationTokenSource idle, CancellationToken cancellation)
    {
        Uri? memo = file.Redirected;
        Uri current = memo ?? file.Url;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (range is var (first, last)) request.Headers.Range = new RangeHeaderValue(first, last);
            if (_token != null && SameOrigin(current, _authOrigin)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            _transfer.AddRequest();
            idle.CancelAfter(_options.IdleTimeout);
            var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            if (code is 301 or 302 or 303 or 307 or 308)
            {
                var location = response.Headers.Location;
                response.Dispose();
                if (location == null) throw new InvalidModelFileException(file.Name, $"redirect ({code}) without a Location header");
                if (hop >= _options.MaxRedirects) throw new InvalidModelFileException(file.Name, $"more than {_options.MaxRedirects} redirects");
                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                    throw new InvalidModelFileException(file.Name, $"redirect to a non-HTTP address ({next.Scheme})");
                if (current.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
                    throw new InvalidModelFileException(file.Name, $"refusing a redirect from https to plain http ({next.Host})");
                current = next;
                continue;
            }

            if (code is 200 or 206 && response.Content.Headers.ContentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase)))
            {
                string encoding = OneLine(string.Join(", ", response.Content.Headers.ContentEncoding), 60);
                response.Dispose();
                throw new InvalidModelFileException(file.Name, $"the server sent Content-Encoding {encoding} though only identity was accepted: those are not the file's bytes");
            }

            if (code is 200 or 206 && (hop > 0 || memo != null) && !SameOrigin(current, file.Url))
                file.Redirected = current;
            return (response, memo != null && hop == 0);
        }
    }

    /// <summary>Same scheme, host and port.</summary>
    internal static bool SameOrigin(Uri a, Uri? b) =>
        b != null && string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>Turns a non-success answer into a retry or a final, one-line error.</summary>
    private Exception StatusError(HttpResponseMessage response, RemoteFile file, bool fromMemo)
    {
        int code = (int)response.StatusCode;
        string reason = response.ReasonPhrase is { Length: > 0 } r ? " " + OneLine(r, 60) : "";
        string? errorCode = Header(response, "X-Error-Code");
        string? errorMessage = Header(response, "X-Error-Message");
        string detail = errorMessage != null ? $" (server: {OneLine(errorMessage, 200)})" : "";
        if (fromMemo && code is 401 or 403 or 404 or 410)
        {
            file.Redirected = null; // a signed CDN address expired: resolve again through the origin
            return new RetryableException($"the download address answered {code}{reason}", immediate: true);
        }

        if (code == 429)
        {
            var wait = RetryAfter(response);
            return new RetryableException($"rate limited ({code}{reason})", wait);
        }

        if (code is 408 || code >= 500)
            return new RetryableException($"server error ({code}{reason}){detail}", code == 503 ? RetryAfter(response) : null);

        bool toOrigin = SameOrigin(response.RequestMessage?.RequestUri ?? file.Url, _authOrigin);
        bool sentToken = _token != null && toOrigin;
        string problem = code switch
        {
            401 when sentToken => $"the token in HF_TOKEN was rejected (401{reason}){detail}: check that it is valid and not expired",
            401 when errorCode == "RepoNotFound" || toOrigin => $"authentication required (401{reason}): the repository does not exist, or it is private or gated and needs a token; set HF_TOKEN{detail}",
            401 => $"the download server refused the request (401{reason}){detail}",
            403 when errorCode == "GatedRepo" => $"access to this gated repository is refused (403{reason}){detail}: accept its conditions on the Hub with the account whose token is in HF_TOKEN",
            403 when sentToken => $"the token in HF_TOKEN has no access to this repository (403{reason}){detail}",
            403 when toOrigin => $"access denied (403{reason}){detail}: the repository is private or gated; set HF_TOKEN",
            403 => $"the download server refused access (403{reason}){detail}",
            404 or 410 when errorCode == "RepoNotFound" => $"no such repository (404{reason}){(_token == null ? "; if it is private, set HF_TOKEN" : "")}",
            404 or 410 when errorCode == "RevisionNotFound" => $"no such revision: branch, tag or commit not found (404{reason})",
            404 or 410 when errorCode == "EntryNotFound" => $"no such file in the repository at this revision (404{reason})",
            404 or 410 => file.NotFoundProblem + detail,
            _ => $"unexpected HTTP status {code}{reason}{detail}",
        };
        return new InvalidModelFileException(file.Name, problem);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string OneLine(string s, int max)
    {
        var cleaned = new string(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return cleaned.Length <= max ? cleaned : cleaned[..max] + "…";
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var h = response.Headers.RetryAfter;
        if (h == null) return null;
        if (h.Delta is TimeSpan d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        if (h.Date is DateTimeOffset date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>Classifies an exception: a retry description, or null to let it propagate.</summary>
    private RetryableException? Retryable(Exception e, CancellationToken cancellation)
    {
        if (cancellation.IsCancellationRequested) return null;
        return e switch
        {
            RetryableException r => r,
            HttpRequestException h when IsNameResolutionFailure(h) => new RetryableException(
                "network error: " + OneLine(Innermost(h), 200) + " (the host name does not resolve: check the address, HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use the local cache)",
                permanent: true),
            HttpRequestException h => new RetryableException("network error: " + OneLine(Innermost(h), 200)),
            IOException io => new RetryableException("connection broken: " + OneLine(Innermost(io), 200)),
            OperationCanceledException => new RetryableException($"timed out (no answer within {_options.IdleTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s or no connection within {_options.ConnectTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)"),
            _ => null,
        };
    }

    /// <summary>True for a failure to resolve the host name: retrying would only wait (the resolver has answered),
    /// so it fails at once.</summary>
    public static bool IsNameResolutionFailure(HttpRequestException e)
        => e.HttpRequestError == HttpRequestError.NameResolutionError
           || e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData };

    private static string Innermost(Exception e)
    {
        string message = e.Message;
        for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal)) message += ": " + inner.Message;
        }

        return message;
    }

    private async Task WaitBeforeRetryAsync(RemoteFile file, RetryableException retry, int attempt, Stopwatch clock, CancellationToken cancellation)
    {
        string elapsed = clock.Elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
        if (retry.Permanent) throw new InvalidModelFileException(file.Name, retry.Message);
        if (retry.RetryAfter is TimeSpan asked && asked > _options.MaxRetryAfter)
            throw new InvalidModelFileException(file.Name, $"{retry.Message}: the server asks to wait {asked.TotalSeconds:0} s, more than the {_options.MaxRetryAfter.TotalSeconds:0} s allowed; try again later");
        if (attempt >= _options.MaxAttempts)
            throw new InvalidModelFileException(file.Name, $"{retry.Message}; gave up after {attempt} attempts in {elapsed} s");
        TimeSpan delay;
        if (retry.Immediate) delay = TimeSpan.Zero;
        else if (retry.RetryAfter is TimeSpan ra) delay = ra;
        else
        {
            double exp = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.BaseBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
            delay = TimeSpan.FromMilliseconds(exp * (0.5 + RandomNumberGenerator.GetInt32(1000) / 2000.0));
        }

        if (clock.Elapsed + delay > _options.RetryBudget)
            throw new InvalidModelFileException(file.Name, $"{retry.Message}; gave up after {attempt} attempts in {elapsed} s (retry time limit {_options.RetryBudget.TotalSeconds:0.#} s)");
        _transfer.AddRetry();
        _options.Retrying?.Invoke($"{file.Name}: retrying ({attempt + 1}/{_options.MaxAttempts}) in {delay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s after {retry.Message}");
        if (delay > TimeSpan.Zero) await Task.Delay(delay, cancellation).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _client.Dispose();
        _slots.Dispose();
    }

    /// <summary>A failure worth retrying (transient server or network trouble).</summary>
    private sealed class RetryableException : Exception
    {
        public RetryableException()
        {
        }

        public RetryableException(string message) : base(message)
        {
        }

        public RetryableException(string message, Exception inner) : base(message, inner)
        {
        }

        public RetryableException(string message, TimeSpan? retryAfter = null, bool immediate = false, bool progressed = false, bool permanent = false) : base(message)
        {
            RetryAfter = retryAfter;
            Immediate = immediate;
            Progressed = progressed;
            Permanent = permanent;
        }

        /// <summary>Not worth retrying after all (the host name does not resolve): fail at once with the message.</summary>
        public bool Permanent { get; }

        public TimeSpan? RetryAfter { get; }

        public bool Immediate { get; }

        public bool Progressed { get; }
    }
}
