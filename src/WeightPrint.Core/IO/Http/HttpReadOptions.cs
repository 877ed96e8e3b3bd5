namespace WeightPrint.IO.Http;

/// <summary>
/// How remote files are read: block size and coalescing, readahead, concurrency, retries and timeouts.
/// Every retry loop is bounded by <see cref="MaxAttempts"/> and <see cref="RetryBudget"/>.
/// </summary>
internal sealed record HttpReadOptions
{
    /// <summary>Default size of an aligned cache block (also the granularity of the disk cache).</summary>
    public const int DefaultBlockBytes = 1 << 20;

    /// <summary>Smallest and largest block size accepted.</summary>
    public const int MinBlockBytes = 4 << 10, MaxBlockBytes = 64 << 20;

    /// <summary>Largest single request (adjacent missing blocks are coalesced up to this many bytes).</summary>
    public const int MaxRequestBytesLimit = 256 << 20;

    /// <summary>Aligned block size in bytes (a power of two between <see cref="MinBlockBytes"/> and <see cref="MaxBlockBytes"/>).</summary>
    public int BlockBytes { get; init; } = DefaultBlockBytes;

    /// <summary>Most blocks fetched by one range request.</summary>
    public int MaxRequestBlocks { get; init; } = 4;

    /// <summary>Largest readahead window in blocks for sequential reads (0 disables readahead).</summary>
    public int MaxReadaheadBlocks { get; init; } = 16;

    /// <summary>Blocks kept in memory per opened model (least recently used are dropped).</summary>
    public int MemoryCacheBlocks { get; init; } = 64;

    /// <summary>Requests in flight at once per opened model.</summary>
    public int MaxConcurrentRequests { get; init; } = 4;

    /// <summary>Attempts per request (the first one included) before giving up.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>Longest time spent retrying one request, waits included.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>First backoff delay; doubles per attempt up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BaseBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Longest Retry-After honoured; a server asking for more fails the request with a clear message.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Longest wait for response headers or for the next body bytes; a stalled response is dropped and resumed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public int MaxRedirects { get; init; } = 10;

    /// <summary>Slowest transfer tolerated: a range that takes longer than <see cref="IdleTimeout"/> plus its size at
    /// this rate is dropped (keeping what arrived) and counts as a failed attempt, so a trickling server cannot hold a read forever.</summary>
    public int MinBytesPerSecond { get; init; } = 32 << 10;

    /// <summary>Most bytes streamed past when a server ignores Range and answers 200 with the whole file: a range
    /// deeper than this in such an answer is refused (and retried) rather than downloading everything before it.</summary>
    public long MaxIgnoredRangeSkipBytes { get; init; } = 64L << 20;

    /// <summary>Told before each retry of a transient failure, e.g. "model.safetensors: retrying (2/8) in 1.3 s after
    /// server error (503)", so a user sees why a read is slow; null = silent.</summary>
    public Action<string>? Retrying { get; init; }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> for nonsense.</summary>
    public void Validate()
    {
        if (BlockBytes < MinBlockBytes || BlockBytes > MaxBlockBytes || (BlockBytes & (BlockBytes - 1)) != 0)
            throw new ArgumentException($"block size {BlockBytes} must be a power of two between {MinBlockBytes} and {MaxBlockBytes}");
        if (MaxRequestBlocks < 1 || (long)MaxRequestBlocks * BlockBytes > MaxRequestBytesLimit)
            throw new ArgumentException($"a request of {MaxRequestBlocks} blocks exceeds {MaxRequestBytesLimit} bytes or is empty");
        if (MaxReadaheadBlocks < 0 || MaxReadaheadBlocks > 4096) throw new ArgumentException("readahead must be 0..4096 blocks");
        if (MemoryCacheBlocks < 2 || (long)MemoryCacheBlocks * BlockBytes > 4L << 30) throw new ArgumentException("memory cache must be 2 blocks .. 4 GiB");
        if (MaxConcurrentRequests < 1 || MaxConcurrentRequests > 64) throw new ArgumentException("concurrent requests must be 1..64");
        if (MaxAttempts < 1 || MaxAttempts > 100) throw new ArgumentException("attempts must be 1..100");
        if (MaxRedirects < 0 || MaxRedirects > 50) throw new ArgumentException("redirects must be 0..50");
        if (MaxIgnoredRangeSkipBytes < 0) throw new ArgumentException("the skip bound for servers that ignore ranges cannot be negative");
        if (MinBytesPerSecond < 1) throw new ArgumentException("the minimum transfer rate must be positive");
        if (RetryBudget <= TimeSpan.Zero || IdleTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || BaseBackoff < TimeSpan.Zero || MaxBackoff < BaseBackoff)
            throw new ArgumentException("timeouts must be positive and MaxBackoff >= BaseBackoff");
    }
}
