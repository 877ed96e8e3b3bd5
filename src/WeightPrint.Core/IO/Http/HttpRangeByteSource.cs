
namespace WeightPrint.IO.Http;

/// <summary>
/// A remote file read on demand with HTTP range requests. Reads are served from aligned blocks
/// (<see cref="HttpReadOptions.BlockBytes"/>): first from memory (shared LRU), then from the disk cache, then
/// fetched, adjacent missing blocks coalesced into one request. Sequential reads start a readahead window that
/// grows with the run, so several requests are in flight while the caller works. Without a fetcher (offline)
/// only cached blocks are served and a missing block is a clear error. Never exposes spans
/// (<see cref="TryGetSpan"/> is false): callers copy with <see cref="Read"/>.
/// </summary>
internal sealed class HttpRangeByteSource : IByteSource
{
    private readonly RemoteFile _file;
    private readonly HttpFetcher? _fetcher;
    private readonly DiskBlockStore? _store;
    private readonly BlockMemoryCache _memory;
    private readonly HttpReadOptions _options;
    private readonly RemoteTransfer _transfer;
    private readonly string _offlineReason;
    private readonly string _key;
    private readonly int _blockBytes;
    private readonly long _blockCount;
    private readonly Lock _lock; // shared by every reader of this file (see SharedRuns)
    private readonly Dictionary<long, Run> _inflight; // shared likewise: block index → the request fetching it
    private long _lastBlock = -2;
    private long _sequentialBlocks;
    private long _readaheadEnd;
    private long _plannedFrom = -1; // blocks [from, to) of the last PlanRead: no readahead while reads stay inside
    private long _plannedTo = -1;
    private volatile HotBlock? _hot;
    private long[]? _extentStarts;
    private long[]? _extentEnds;
    private volatile bool _disposed;

    private sealed record HotBlock(long Index, byte[] Data);

    /// <summary>The requests in flight for one file and the lock guarding them, shared through the
    /// <see cref="BlockMemoryCache"/> by every reader of the file: a block one reader (or a header prefetch) is
    /// fetching is waited for, never requested again, by the others.</summary>
    private sealed class SharedRuns
    {
        public Lock Lock { get; } = new();

        public Dictionary<long, Run> Inflight { get; } = [];
    }

    private sealed class Run(long first, int count)
    {
        public long First { get; } = first;

        public int Count { get; } = count;

        public Task<byte[][]> Task { get; set; } = null!;
    }

    private HttpRangeByteSource(RemoteFile file, long length, HttpFetcher? fetcher, DiskBlockStore? store, BlockMemoryCache memory,
        HttpReadOptions options, RemoteTransfer transfer, string offlineReason)
    {
        _file = file;
        Length = length;
        _fetcher = fetcher;
        _store = store;
        _memory = memory;
        _options = options;
        _transfer = transfer;
        _offlineReason = offlineReason;
        _key = file.Url.AbsoluteUri;
        var shared = memory.PerFile(_key + "#" + options.BlockBytes, () => new SharedRuns());
        _lock = shared.Lock;
        _inflight = shared.Inflight;
        _blockBytes = options.BlockBytes;
        _blockCount = length == 0 ? 0 : (length - 1) / _blockBytes + 1;
    }

    /// <summary>
    /// Opens a remote file. When its length is unknown (not in the listing, not recorded in the cache) the first
    /// block is fetched now to learn it. <paramref name="fetcher"/> null means offline: cache only, and
    /// <paramref name="offlineReason"/> says why in errors.
    /// </summary>
    public static HttpRangeByteSource Open(RemoteFile file, HttpFetcher? fetcher, DiskBlockStore? store, BlockMemoryCache memory,
        HttpReadOptions options, RemoteTransfer transfer, string offlineReason = "offline")
    {
        options.Validate();
        long? length = file.Length ?? store?.ReadLength();
        if (length == null)
        {
            if (fetcher == null)
                throw new InvalidModelFileException(file.Name, $"{offlineReason}: the size of this file is not in the cache{(store != null ? " at " + store.FileFolder : "")}; run once online to fetch it");
            var first = new byte[options.BlockBytes];
            var result = fetcher.ReadRange(file, 0, first);
            length = result.TotalLength ?? (result.Filled < first.Length ? result.Filled : null);
            if (length == null) throw new InvalidModelFileException(file.Name, "the server did not say how long the file is (no Content-Range total or Content-Length)");
            file.SetLength(length.Value);
            var source = new HttpRangeByteSource(file, length.Value, fetcher, store, memory, options, transfer, offlineReason);
            if (length > 0) source.Keep(0, first.AsSpan(0, source.BlockLength(0)).ToArray());
            store?.WriteLength(length.Value);
            return source;
        }

        file.SetLength(length.Value);
        if (store != null && store.ReadLength() != length) store.WriteLength(length.Value);
        return new HttpRangeByteSource(file, length.Value, fetcher, store, memory, options, transfer, offlineReason);
    }

    /// <summary>The file's name in error messages (its URL).</summary>
    public string Name => _file.Name;

    public long Length { get; }

    public RemoteFile File => _file;

    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        CheckRange(offset, length);
        span = default;
        return false;
    }

    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (destination.Length == 0) return;
        long b0 = offset / _blockBytes, b1 = (offset + destination.Length - 1) / _blockBytes;
        var blocks = Acquire(b0, b1, offset + destination.Length - 1);
        int written = 0;
        for (long b = b0; b <= b1; b++)
        {
            var data = blocks[b - b0];
            int from = b == b0 ? (int)(offset - b0 * _blockBytes) : 0;
            int n = Math.Min(data.Length - from, destination.Length - written);
            data.AsSpan(from, n).CopyTo(destination[written..]);
            written += n;
        }

        _hot = new HotBlock(b1, blocks[^1]);
    }

    /// <summary>
    /// Tells the source where tensors lie ([start, end) byte ranges), once the header is parsed: readahead then
    /// stays inside the tensor being read instead of running into the next one.
    /// </summary>
    public void SetTensorExtents(IEnumerable<(long Start, long End)> extents)
    {
        var sorted = extents.Where(e => e.End > e.Start).OrderBy(e => e.Start).ToArray();
        lock (_lock)
        {
            _extentStarts = sorted.Select(e => e.Start).ToArray();
            _extentEnds = sorted.Select(e => e.End).ToArray();
        }
    }

    /// <summary>A planned read (sampled rows): its blocks are fetched now, coalesced, and reads inside them start no
    /// readahead, so a few MiB of rows cost those blocks and not the readahead window beyond them.</summary>
    public void PlanRead(long offset, long length)
    {
        if (_disposed || length <= 0 || offset < 0 || offset >= Length) return;
        long b0 = offset / _blockBytes, b1 = (Math.Min(Length, offset + length) - 1) / _blockBytes;
        lock (_lock)
        {
            _plannedFrom = b0;
            _plannedTo = b1 + 1;
        }

        if (_fetcher != null) StartMissing(b0, b1 + 1);
    }

    /// <summary>Starts fetching a range in the background (no wait); cached or in-flight blocks are skipped.</summary>
    public void Prefetch(long offset, long length)
    {
        if (_fetcher == null || _disposed || length <= 0 || offset < 0 || offset >= Length) return;
        long b0 = offset / _blockBytes, b1 = (Math.Min(Length, offset + length) - 1) / _blockBytes;
        StartMissing(b0, b1 + 1);
    }

    private byte[][] Acquire(long b0, long b1, long lastByte)
    {
        int count = checked((int)(b1 - b0 + 1));
        var blocks = new byte[count][];
        var hot = _hot;
        if (count == 1 && hot != null && hot.Index == b0)
        {
            blocks[0] = hot.Data;
            return blocks;
        }

        var waits = new Run?[count];
        var missing = new List<long>();
        (long From, long To) readahead;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            readahead = TrackSequence(b0, b1, lastByte);
            for (long b = b0; b <= b1; b++)
            {
                int i = (int)(b - b0);
                if (_memory.TryGet(_key, b) is { } data) blocks[i] = data;
                else if (_inflight.TryGetValue(b, out var run)) waits[i] = run;
                else missing.Add(b);
            }
        }

        var toFetch = new List<long>();
        foreach (long b in missing)
        {
            int i = (int)(b - b0);
            if (_store?.TryRead(b, BlockLength(b)) is { } data)
            {
                blocks[i] = data;
                _memory.Put(_key, b, data);
                _transfer.AddFromCache(data.Length);
            }
            else toFetch.Add(b);
        }

        if (toFetch.Count > 0)
        {
            if (_fetcher == null)
            {
                long first = toFetch[0] * _blockBytes;
                long last = Math.Min(Length, (toFetch[^1] + 1) * (long)_blockBytes) - 1;
                throw new InvalidModelFileException(Name, $"{_offlineReason}: bytes {first}-{last} of this file are not in the cache{(_store != null ? " at " + _store.FileFolder : "")}; run once online to fetch them");
            }

            lock (_lock)
            {
                // A run may complete (and leave _inflight) at once, so map blocks to the runs just started.
                var started = StartRuns(toFetch.Where(b => !_inflight.ContainsKey(b)).ToList());
                foreach (long b in toFetch)
                {
                    waits[(int)(b - b0)] = started.FirstOrDefault(r => b >= r.First && b < r.First + r.Count)
                        ?? (_inflight.TryGetValue(b, out var other) ? other : null);
                }
            }
        }

        if (readahead.To > readahead.From) StartMissing(readahead.From, readahead.To);

        for (int i = 0; i < count; i++)
        {
            if (blocks[i] != null) continue;
            long b = b0 + i;
            var run = waits[i];
            if (run == null)
            {
                // Another reader's run finished between our checks: the block is in memory or on disk now.
                blocks[i] = _memory.TryGet(_key, b) ?? _store?.TryRead(b, BlockLength(b)) ?? Refetch(b);
                continue;
            }

            try
            {
                blocks[i] = run.Task.GetAwaiter().GetResult()[b - run.First];
            }
            catch (InvalidModelFileException) when (!toFetch.Contains(b) && !_disposed)
            {
                // A readahead (or another reader's) request failed: try this block once more on our own account.
                Run again;
                lock (_lock)
                {
                    again = _inflight.TryGetValue(b, out var other) && other != run ? other : StartRuns([b]).Single();
                }

                blocks[i] = again.Task.GetAwaiter().GetResult()[b - again.First];
            }
        }

        return blocks;
    }

    private byte[] Refetch(long block)
    {
        Run run;
        lock (_lock) run = StartRuns([block]).Single();
        return run.Task.GetAwaiter().GetResult()[0];
    }

    /// <summary>Updates the sequential-run detector; returns the block range to read ahead (empty when none).</summary>
    private (long From, long To) TrackSequence(long b0, long b1, long lastByte)
    {
        if (b0 == _lastBlock || b0 == _lastBlock + 1)
        {
            if (b1 > _lastBlock) _sequentialBlocks += b1 - _lastBlock;
        }
        else if (b1 != _lastBlock)
        {
            _sequentialBlocks = 0;
            _readaheadEnd = 0;
        }

        _lastBlock = b1;
        if (_fetcher == null || _options.MaxReadaheadBlocks == 0 || _sequentialBlocks < 1) return (0, 0);
        if (b0 >= _plannedFrom && b1 < _plannedTo) return (0, 0); // inside a planned read: exactly its blocks are wanted
        long window = Math.Min(_options.MaxReadaheadBlocks, 2L << (int)Math.Min(_sequentialBlocks - 1, 30));
        long ahead = _readaheadEnd - (b1 + 1);
        if (ahead >= Math.Max(1, window / 2)) return (0, 0);
        long from = Math.Max(b1 + 1, _readaheadEnd);
        long to = Math.Min(_blockCount, b1 + 1 + window);
        if (_extentStarts != null)
        {
            // Stay inside the tensor holding the last byte read (no readahead from a gap or header).
            int i = Array.BinarySearch(_extentStarts, lastByte);
            if (i < 0) i = ~i - 1;
            long end = i >= 0 && _extentEnds![i] > lastByte ? _extentEnds[i] : lastByte + 1;
            to = Math.Min(to, (end - 1) / _blockBytes + 1);
        }

        if (to <= from) return (0, 0);
        _readaheadEnd = to;
        return (from, to);
    }

    /// <summary>Fetches the blocks of [from, to) that are not in memory, on disk or in flight.</summary>
    private void StartMissing(long from, long to)
    {
        var candidates = new List<long>();
        lock (_lock)
        {
            if (_disposed) return;
            for (long b = from; b < to; b++)
            {
                if (!_inflight.ContainsKey(b) && !_memory.Contains(_key, b)) candidates.Add(b);
            }
        }

        if (_store != null) candidates.RemoveAll(b => _store.Contains(b, BlockLength(b)));
        if (candidates.Count == 0) return;
        lock (_lock)
        {
            if (_disposed) return;
            candidates.RemoveAll(_inflight.ContainsKey);
            StartRuns(candidates);
        }
    }

    /// <summary>Starts requests for sorted block indices (caller holds the lock), coalescing adjacent ones.</summary>
    private List<Run> StartRuns(List<long> sorted)
    {
        var runs = new List<Run>();
        int i = 0;
        while (i < sorted.Count)
        {
            int j = i + 1;
            while (j < sorted.Count && sorted[j] == sorted[j - 1] + 1 && j - i < _options.MaxRequestBlocks) j++;
            var run = new Run(sorted[i], j - i);
            run.Task = Task.Run(() => FetchAsync(run));
            for (int k = 0; k < run.Count; k++) _inflight[run.First + k] = run;
            _ = run.Task.ContinueWith(t =>
            {
                lock (_lock)
                {
                    for (int k = 0; k < run.Count; k++)
                    {
                        if (_inflight.TryGetValue(run.First + k, out var r) && r == run) _inflight.Remove(run.First + k);
                    }
                }

                _ = t.Exception; // observed: a failed readahead is reported only if its block is needed
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            runs.Add(run);
            i = j;
        }

        return runs;
    }

    private async Task<byte[][]> FetchAsync(Run run)
    {
        long start = run.First * _blockBytes;
        long end = Math.Min(Length, (run.First + run.Count) * (long)_blockBytes);
        var buffer = new byte[end - start];
        var result = await _fetcher!.ReadRangeAsync(_file, start, buffer).ConfigureAwait(false);
        if (result.Filled != buffer.Length)
            throw new InvalidModelFileException(Name, $"the server's copy ends at byte {start + result.Filled} but the file should hold {Length} bytes");
        var blocks = new byte[run.Count][];
        for (int k = 0; k < run.Count; k++)
        {
            long b = run.First + k;
            blocks[k] = run.Count == 1 ? buffer : buffer.AsSpan((int)(b * _blockBytes - start), BlockLength(b)).ToArray();
            Keep(b, blocks[k]);
        }

        return blocks;
    }

    /// <summary>Puts a fetched block in memory and on disk.</summary>
    private void Keep(long block, byte[] data)
    {
        _memory.Put(_key, block, data);
        if (_store?.Write(block, data) is { } error) _transfer.AddCacheWriteFailure(error);
    }

    private int BlockLength(long block) => (int)Math.Min(_blockBytes, Length - block * _blockBytes);

    private void CheckRange(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ByteRange.Check(Name, Length, offset, length);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }

        _hot = null; // requests in flight finish into the shared caches (they end when the fetcher is disposed)
    }
}
