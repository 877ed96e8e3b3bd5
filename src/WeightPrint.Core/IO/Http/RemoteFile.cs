namespace WeightPrint.IO.Http;

/// <summary>
/// One remote file read with HTTP ranges: the URL it is requested from, the name used in error messages, its
/// length once known, and the last redirect target (a CDN URL) so later ranges skip the redirect hop.
/// </summary>
internal sealed class RemoteFile
{
    private long _length;
    private volatile Uri? _redirected;
    private string? _etag;

    public RemoteFile(Uri url, string name, long? length = null)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"{url} is not an http(s) URL", nameof(url));
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        Url = url;
        Name = name;
        _length = length ?? -1;
    }

    public Uri Url { get; }

    /// <summary>The name used in error messages (never carries a token).</summary>
    public string Name { get; }

    /// <summary>What a 404 without a more precise error code means for this file.</summary>
    public string NotFoundProblem { get; init; } = "not found (404)";

    /// <summary>The length in bytes, or null while unknown.</summary>
    public long? Length
    {
        get
        {
            long v = Interlocked.Read(ref _length);
            return v < 0 ? null : v;
        }
    }

    internal Uri? Redirected
    {
        get => _redirected;
        set => _redirected = value;
    }

    internal void SetLength(long length) => Interlocked.Exchange(ref _length, length);

    /// <summary>Records <paramref name="etag"/> as the file's ETag when it has none yet; returns null when it agrees
    /// with the recorded one, else the recorded one.</summary>
    internal string? AgreeOnETag(string etag)
    {
        string? first = Interlocked.CompareExchange(ref _etag, etag, null) ?? etag;
        return first == etag ? null : first;
    }
}
