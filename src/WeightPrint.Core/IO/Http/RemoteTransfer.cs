namespace WeightPrint.IO.Http;

/// <summary>A snapshot of a transfer for progress display: "fetched 1.2 GB of 28.9 GB".</summary>
/// <param name="Name">The model (for the Hub: <c>ORG/NAME@SHA</c>).</param>
/// <param name="BytesFetched">Bytes received from the network so far (readahead and skipped bytes included).</param>
/// <param name="BytesFromCache">Bytes served from the disk cache instead of the network.</param>
/// <param name="TotalBytes">Size of the model's files (0 until known).</param>
internal readonly record struct RemoteTransferStatus(string Name, long BytesFetched, long BytesFromCache, long TotalBytes);

/// <summary>
/// Counts what reading one remote model cost: bytes fetched, bytes served from the disk cache, requests and retries.
/// Thread-safe; reports to <see cref="Progress"/> at most once per <see cref="ReportEveryBytes"/> fetched and after each request.
/// </summary>
internal sealed class RemoteTransfer(string name, IProgress<RemoteTransferStatus>? progress = null)
{
    /// <summary>Fetched bytes between two progress reports while a body is streaming.</summary>
    public const long ReportEveryBytes = 1 << 20;

    private long _fetched;
    private long _fromCache;
    private long _total;
    private long _requests;
    private long _retries;
    private long _cacheWriteFailures;
    private long _lastReported;

    public string Name { get; } = name;

    public IProgress<RemoteTransferStatus>? Progress { get; } = progress;

    public long BytesFetched => Interlocked.Read(ref _fetched);

    public long BytesFromCache => Interlocked.Read(ref _fromCache);

    /// <summary>Size of the model's files (0 until the model is open).</summary>
    public long TotalBytes
    {
        get => Interlocked.Read(ref _total);
        set => Interlocked.Exchange(ref _total, value);
    }

    /// <summary>HTTP requests sent (redirect hops and retries included).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Failed attempts that were retried.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Blocks that could not be written to the disk cache (the read itself succeeded).</summary>
    public long CacheWriteFailures => Interlocked.Read(ref _cacheWriteFailures);

    /// <summary>The last disk-cache write error, if any.</summary>
    public string? LastCacheError { get; private set; }

    public RemoteTransferStatus Snapshot() => new(Name, BytesFetched, BytesFromCache, TotalBytes);

    internal void AddFetched(long bytes)
    {
        long now = Interlocked.Add(ref _fetched, bytes);
        if (Progress != null && now - Interlocked.Read(ref _lastReported) >= ReportEveryBytes)
        {
            Interlocked.Exchange(ref _lastReported, now);
            Progress.Report(Snapshot());
        }
    }

    internal void AddFromCache(long bytes) => Interlocked.Add(ref _fromCache, bytes);

    internal void AddRequest() => Interlocked.Increment(ref _requests);

    internal void AddRetry() => Interlocked.Increment(ref _retries);

    internal void AddCacheWriteFailure(string message)
    {
        Interlocked.Increment(ref _cacheWriteFailures);
        LastCacheError = message;
    }

    /// <summary>Reports the current state (after a request completes).</summary>
    internal void Report()
    {
        if (Progress == null) return;
        Interlocked.Exchange(ref _lastReported, BytesFetched);
        Progress.Report(Snapshot());
    }
}
