
namespace WeightPrint.IO.Http;

/// <summary>
/// A remote file read on demand with HTTP range requests. Reads are served from aligned blocks
/// (<see cref="HttpReadOptions.BlockBytes"/>): first from memory (shared LRU), then from the disk cache, then
/// fetched, adjacent missing blocks coalesced into one request. Sequential reads start a readahead window that
/// grows with the run, so several requests are in flight while the caller works. Without a fetcher (offline)
/// only cached blocks are served and a missing block is a clear error. Never exposes spans
/// (<see cref="TryGetSpan"/> is false): callers copy with <see cref="Read"/>.
/// <para>A planned read (<see cref="PlanRead"/>) fetches exactly its bytes: the blocks it covers whole as above, and
/// its partial first and last blocks, when not cached, as exact byte ranges ("pieces", in the same request). Pieces
/// are kept in a small per-file set in memory (<see cref="MaxPlannedPieces"/>, <see cref="MaxPlannedPieceBytes"/>;
/// spent ones are dropped first, then the oldest) and on disk beside the blocks (<see cref="DiskBlockStore.WritePiece"/>),
/// so planning the same rows again, in a later run or offline, reads them from the cache; a read of bytes whose piece
/// has been dropped (or whose request failed) fetches the whole block as usual.</para>
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
    private readonly SharedRuns _shared;
    private long _lastBlock = -2;
    private long _sequentialBlocks;
    private long _readaheadEnd;
    private readonly Queue<(long From, long To)> _planned = new(); // blocks [from, to) of recent PlanReads: no readahead while reads stay inside one
    private volatile HotBlock? _hot;
    private long[]? _extentStarts;
    private long[]? _extentEnds;
    private volatile bool _disposed;

    /// <summary>Most pieces (exact partial-block ranges of planned reads) kept per file; beyond it those already read
    /// to their end are dropped first, then the oldest.</summary>
    public const int MaxPlannedPieces = 16;

    /// <summary>Most bytes of pieces kept per file; the newest two pieces (one planned read's) are kept even when
    /// larger blocks make them exceed it.</summary>
    public const int MaxPlannedPieceBytes = 8 << 20;

    /// <summary>Recent planned reads remembered per reader (inside any of them a sequential read starts no readahead).</summary>
    private const int MaxPlannedRanges = MaxPlannedPieces;

    private sealed record HotBlock(long Index, byte[] Data);

    /// <summary>The requests in flight for one file and the lock guarding them, shared through the
    /// <see cref="BlockMemoryCache"/> by every reader of the file: a block one reader (or a header prefetch) is
    /// fetching is waited for, never requested again, by the others.</summary>
    private sealed class SharedRuns
    {
        public Lock Lock { get; } = new();

        public Dictionary<long, Run> Inflight { get; } = [];

        /// <summary>Pieces of planned reads, oldest first (guarded by <see cref="Lock"/>).</summary>
        public List<Piece> Pieces { get; } = [];

        public long PieceBytes { get; set; }

        /// <summary><see cref="Pieces"/>' count, readable without the lock (reads skip the piece lookup when 0).</summary>
        public volatile int PieceCount;
    }

    /// <summary>One request: the bytes [<paramref name="start"/>, <paramref name="end"/>), which hold the whole blocks
    /// [<paramref name="first"/>, +<paramref name="count"/>) and, at either end, the pieces of partial blocks.</summary>
    private sealed class Run(long start, long end, long first, int count, Piece[] pieces)
    {
        public long Start { get; } = start;

        public long End { get; } = end;

        public long First { get; } = first;

        public int Count { get; } = count;

        public Piece[] Pieces { get; } = pieces;

        public Task<byte[][]> Task { get; set; } = null!;
    }

    /// <summary>The bytes [Start, End) of one block, fetched for a planned read; <see cref="Data"/> is set once
    /// <see cref="Run"/>'s task has completed.</summary>
    private sealed class Piece(long start, long end)
    {
        public long Start { get; } = start;

        public long End { get; } = end;

        public Run Run { get; set; } = null!;

        public byte[]? Data { get; set; }

        private long _readTo;

        /// <summary>Whether a read has reached the piece's end (reads of a planned range go forward, so its pieces are
        /// then spent; eviction drops spent pieces before any a reader still waits for).</summary>
        public bool Spent => Volatile.Read(ref _readTo) >= End;

        public void MarkReadTo(long position)
        {
            long seen = Volatile.Read(ref _readTo);
            while (position > seen)
            {
                long was = Interlocked.CompareExchange(ref _readTo, position, seen);
                if (was == seen) return;
                seen = was;
            }
        }
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
        _shared = shared;
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
        long end = offset + destination.Length;
        for (long pos = offset; pos < end;)
        {
            // Parts of the read inside a piece are copied from it; the rest goes through the blocks.
            var (piece, next) = FindPiece(pos, end);
            var part = destination.Slice((int)(pos - offset), (int)(next - pos));
            if (piece == null || PieceData(piece) is not { } data) ReadBlocks(pos, part);
            else
            {
                data.AsSpan((int)(pos - piece.Start), part.Length).CopyTo(part);
                piece.MarkReadTo(next);
            }

            pos = next;
        }
    }

    /// <summary>The piece holding byte <paramref name="pos"/> and where to stop using it (its end or
    /// <paramref name="end"/>), or null and where the next piece starts (or <paramref name="end"/>).</summary>
    private (Piece? Piece, long Next) FindPiece(long pos, long end)
    {
        if (_shared.PieceCount == 0) return (null, end);
        Piece? found = null;
        long next = end;
        lock (_lock)
        {
            foreach (var p in _shared.Pieces)
            {
                if (p.Start <= pos && pos < p.End)
                {
                    if (found == null || p.End > found.End) found = p;
                }
                else if (p.Start > pos && p.Start < next) next = p.Start;
            }
        }

        return found != null ? (found, Math.Min(end, found.End)) : (null, next);
    }

    /// <summary>A piece's bytes once its request is done; null when the request failed (the piece is dropped, and
    /// the caller reads the block instead: one more attempt on its own account, as for a failed readahead).</summary>
    private byte[]? PieceData(Piece piece)
    {
        try
        {
            piece.Run.Task.GetAwaiter().GetResult();
            return piece.Data;
        }
        catch (InvalidModelFileException) when (!_disposed)
        {
            lock (_lock) DropPiece(piece);
            return null;
        }
    }

    private void ReadBlocks(long offset, Span<byte> destination)
    {
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

    /// <summary>A planned read (sampled rows): exactly its bytes are fetched now, coalesced (whole blocks, and pieces
    /// for the partial first and last blocks unless those are cached), and reads inside it start no readahead, so a
    /// few MiB of rows cost those bytes and not the rest of their edge blocks or the readahead window beyond.</summary>
    public void PlanRead(long offset, long length)
    {
        if (_disposed || length <= 0 || offset < 0 || offset >= Length) return;
        long end = Math.Min(Length, offset + length);
        long b0 = offset / _blockBytes, b1 = (end - 1) / _blockBytes;
        lock (_lock)
        {
            // Several readers may plan at once (one tensor each): the recent plans are remembered, not only the last.
            if (_planned.Count == MaxPlannedRanges) _planned.Dequeue();
            _planned.Enqueue((b0, b1 + 1));
        }

        if (_fetcher != null || _store != null) StartMissing(b0, b1 + 1, offset, end); // offline: stored pieces only
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
        foreach (var planned in _planned)
        {
            if (b0 >= planned.From && b1 < planned.To) return (0, 0); // inside a planned read: exactly its bytes are wanted
        }

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

    /// <summary>Fetches the bytes [<paramref name="byteStart"/>, <paramref name="byteEnd"/>) of the blocks [from, to)
    /// that are not in memory, on disk or in flight: whole blocks, and for a block only partly inside the byte range
    /// a piece of exactly that part unless a piece already holds it (or the disk holds it: then it is taken from there). The
    /// byte range defaults to the whole blocks. Offline (no fetcher) only the stored pieces are taken up.</summary>
    private void StartMissing(long from, long to, long byteStart = 0, long byteEnd = long.MaxValue)
    {
        var candidates = new List<long>();
        lock (_lock)
        {
            if (_disposed) return;
            for (long b = from; b < to; b++)
            {
                if (!_inflight.ContainsKey(b) && !_memory.Contains(_key, b) && !HasPiece(b, byteStart, byteEnd)) candidates.Add(b);
            }
        }

        if (_store != null)
        {
            candidates.RemoveAll(b => _store.Contains(b, BlockLength(b)));
            candidates.RemoveAll(b => StoredPiece(b, byteStart, byteEnd));
        }

        if (candidates.Count == 0 || _fetcher == null) return; // offline: nothing to fetch
        lock (_lock)
        {
            if (_disposed) return;
            candidates.RemoveAll(b => _inflight.ContainsKey(b) || HasPiece(b, byteStart, byteEnd));
            StartRuns(candidates, byteStart, byteEnd);
        }
    }

    /// <summary>When block <paramref name="b"/> is only partly inside the byte range and an earlier run stored exactly
    /// that part on disk, makes it a piece (no request) and returns true.</summary>
    private bool StoredPiece(long b, long byteStart, long byteEnd)
    {
        var part = Part(b, byteStart, byteEnd);
        if (IsWhole(b, part) || _store?.TryReadPiece(part.Start, part.End) is not { } data) return false;
        var piece = new Piece(part.Start, part.End) { Data = data };
        var run = new Run(part.Start, part.End, b, 0, [piece]) { Task = Task.FromResult(Array.Empty<byte[]>()) };
        piece.Run = run;
        lock (_lock) AddPiece(piece);
        _transfer.AddFromCache(data.Length);
        return true;
    }

    /// <summary>The part of block <paramref name="b"/> inside [byteStart, byteEnd).</summary>
    private (long Start, long End) Part(long b, long byteStart, long byteEnd)
    {
        long blockStart = b * _blockBytes;
        return (Math.Max(byteStart, blockStart), Math.Min(byteEnd, blockStart + BlockLength(b)));
    }

    private bool IsWhole(long b, (long Start, long End) part) => part.Start == b * _blockBytes && part.End - part.Start == BlockLength(b);

    /// <summary>Whether block <paramref name="b"/> is only partly inside the byte range and a piece holds that part
    /// (caller holds the lock).</summary>
    private bool HasPiece(long b, long byteStart, long byteEnd)
    {
        var part = Part(b, byteStart, byteEnd);
        return !IsWhole(b, part) && _shared.Pieces.Exists(p => p.Start <= part.Start && part.End <= p.End);
    }

    /// <summary>Starts requests for sorted block indices (caller holds the lock), coalescing adjacent ones; a block
    /// only partly inside [<paramref name="byteStart"/>, <paramref name="byteEnd"/>) is fetched as a piece of that
    /// part (only the first and last blocks of the range can be).</summary>
    private List<Run> StartRuns(List<long> sorted, long byteStart = 0, long byteEnd = long.MaxValue)
    {
        var runs = new List<Run>();
        int i = 0;
        while (i < sorted.Count)
        {
            int j = i + 1;
            while (j < sorted.Count && sorted[j] == sorted[j - 1] + 1 && j - i < _options.MaxRequestBlocks) j++;
            var pieces = new List<Piece>();
            long first = -1;
            int count = 0;
            for (int k = i; k < j; k++)
            {
                var part = Part(sorted[k], byteStart, byteEnd);
                if (!IsWhole(sorted[k], part)) pieces.Add(new Piece(part.Start, part.End));
                else if (count++ == 0) first = sorted[k];
            }

            var run = new Run(Part(sorted[i], byteStart, byteEnd).Start, Part(sorted[j - 1], byteStart, byteEnd).End,
                count > 0 ? first : sorted[i], count, [.. pieces]);
            run.Task = Task.Run(() => FetchAsync(run));
            for (int k = 0; k < run.Count; k++) _inflight[run.First + k] = run;
            foreach (var piece in run.Pieces)
            {
                piece.Run = run;
                AddPiece(piece);
            }

            _ = run.Task.ContinueWith(t =>
            {
                lock (_lock)
                {
                    for (int k = 0; k < run.Count; k++)
                    {
                        if (_inflight.TryGetValue(run.First + k, out var r) && r == run) _inflight.Remove(run.First + k);
                    }

                    if (t.IsFaulted || t.IsCanceled)
                    {
                        foreach (var piece in run.Pieces) DropPiece(piece);
                    }
                }

                _ = t.Exception; // observed: a failed readahead is reported only if its block is needed
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            runs.Add(run);
            i = j;
        }

        return runs;
    }

    /// <summary>Adds a piece, dropping others beyond the bounds (the oldest spent one first, else the oldest) but never
    /// the newest two (caller holds the lock). Spent first: with several readers planning at once, the oldest piece may
    /// belong to a reader that has not read it yet, and dropping it would cost that reader its whole block.</summary>
    private void AddPiece(Piece piece)
    {
        var pieces = _shared.Pieces;
        pieces.Add(piece);
        _shared.PieceBytes += piece.End - piece.Start;
        while (pieces.Count > 2 && (pieces.Count > MaxPlannedPieces || _shared.PieceBytes > MaxPlannedPieceBytes))
        {
            int spent = pieces.FindIndex(0, pieces.Count - 2, p => p.Spent);
            DropPiece(pieces[spent >= 0 ? spent : 0]);
        }

        _shared.PieceCount = pieces.Count;
    }

    /// <summary>Forgets a piece (caller holds the lock); readers already holding it still use it.</summary>
    private void DropPiece(Piece piece)
    {
        if (!_shared.Pieces.Remove(piece)) return;
        _shared.PieceBytes -= piece.End - piece.Start;
        _shared.PieceCount = _shared.Pieces.Count;
    }

    private async Task<byte[][]> FetchAsync(Run run)
    {
        var buffer = new byte[run.End - run.Start];
        var result = await _fetcher!.ReadRangeAsync(_file, run.Start, buffer).ConfigureAwait(false);
        if (result.Filled != buffer.Length)
            throw new InvalidModelFileException(Name, $"the server's copy ends at byte {run.Start + result.Filled} but the file should hold {Length} bytes");
        foreach (var piece in run.Pieces)
        {
            piece.Data = buffer.AsSpan((int)(piece.Start - run.Start), (int)(piece.End - piece.Start)).ToArray();
            if (_store?.WritePiece(piece.Start, piece.End, piece.Data) is { } error) _transfer.AddCacheWriteFailure(error);
        }

        var blocks = new byte[run.Count][];
        for (int k = 0; k < run.Count; k++)
        {
            long b = run.First + k;
            blocks[k] = run.Count == 1 && run.Pieces.Length == 0 ? buffer : buffer.AsSpan((int)(b * _blockBytes - run.Start), BlockLength(b)).ToArray();
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
