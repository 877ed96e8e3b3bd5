using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.IO;

namespace WeightPrint.Tests.Hub;

public sealed class HttpRangeByteSourceTests : IDisposable
{
    private readonly HubTestEnv _env = new();
    private readonly byte[] _data;
    private readonly string _sha;

    public HttpRangeByteSourceTests()
    {
        _data = new byte[1_000_003]; // not a multiple of the block size
        new Random(5).NextBytes(_data);
        _sha = _env.Hub.AddRepo("acme/blob", new Dictionary<string, byte[]> { ["data.bin"] = _data, ["empty.bin"] = [] }).Refs["main"];
    }

    public void Dispose() => _env.Dispose();

    private (HttpRangeByteSource Source, HttpFetcher Fetcher, RemoteTransfer Transfer) Open(string file = "data.bin", bool knownLength = true,
        HttpReadOptions? http = null, DiskBlockStore? store = null)
    {
        http ??= HubTestEnv.FastHttp(16 << 10);
        var transfer = new RemoteTransfer("test");
        var fetcher = new HttpFetcher(http, transfer, _env.Hub.Endpoint);
        var url = HubListing.ResolveUrl(_env.Hub.Endpoint, "acme/blob", _sha, file);
        long? length = knownLength ? (file == "data.bin" ? _data.Length : 0) : null;
        var source = HttpRangeByteSource.Open(new RemoteFile(url, url.AbsoluteUri, length), fetcher, store, new BlockMemoryCache(http.MemoryCacheBlocks), http, transfer);
        return (source, fetcher, transfer);
    }

    [Fact]
    public void Random_reads_return_exactly_the_file_bytes()
    {
        var (source, fetcher, _) = Open();
        using (fetcher)
        using (source)
        {
            Assert.Equal(_data.Length, source.Length);
            Assert.False(source.TryGetSpan(0, 10, out _));
            var random = new Random(11);
            for (int i = 0; i < 300; i++)
            {
                long offset = random.Next(_data.Length + 1);
                int length = (int)Math.Min(_data.Length - offset, random.Next(4) switch { 0 => 1, 1 => random.Next(100), 2 => random.Next(70_000), _ => random.Next(300_000) });
                var buffer = new byte[length];
                source.Read(offset, buffer);
                Assert.True(_data.AsSpan((int)offset, length).SequenceEqual(buffer), $"read {length} at {offset}");
            }

            var last = new byte[1];
            source.Read(_data.Length - 1, last);
            Assert.Equal(_data[^1], last[0]);
            Assert.Throws<InvalidModelFileException>(() => source.Read(_data.Length - 1, new byte[2]));
            Assert.Throws<InvalidModelFileException>(() => source.Read(-1, new byte[1]));
        }
    }

    [Fact]
    public void Parallel_readers_get_the_right_bytes()
    {
        var (source, fetcher, _) = Open(http: HubTestEnv.FastHttp(16 << 10) with { MemoryCacheBlocks = 8 });
        using (fetcher)
        using (source)
        {
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            {
                var random = new Random(100 + t);
                var buffer = new byte[50_000];
                for (int i = 0; i < 20; i++)
                {
                    int offset = random.Next(_data.Length - buffer.Length);
                    source.Read(offset, buffer);
                    Assert.True(_data.AsSpan(offset, buffer.Length).SequenceEqual(buffer));
                }
            });
        }
    }

    [Fact]
    public void Sequential_reads_keep_several_requests_in_flight()
    {
        _env.Hub.Inject(new Fault(FaultKind.Slow, Delay: TimeSpan.FromMilliseconds(25)), times: 1000);
        var http = HubTestEnv.FastHttp(16 << 10) with { MaxRequestBlocks = 2, MaxReadaheadBlocks = 16, MaxConcurrentRequests = 4 };
        var (source, fetcher, transfer) = Open(http: http);
        using (fetcher)
        using (source)
        {
            var buffer = new byte[8 << 10];
            for (int offset = 0; offset + buffer.Length <= _data.Length; offset += buffer.Length)
            {
                source.Read(offset, buffer);
                Assert.True(_data.AsSpan(offset, buffer.Length).SequenceEqual(buffer));
            }

            Assert.True(_env.Hub.Cdn.MaxConcurrentRequests >= 2, $"at most {_env.Hub.Cdn.MaxConcurrentRequests} request(s) in flight");
            // The server counts a request until it has closed the connection, a moment after the client is done with it.
            Assert.True(_env.Hub.Cdn.MaxConcurrentRequests <= 4 + 1, $"{_env.Hub.Cdn.MaxConcurrentRequests} requests in flight");
            // Readahead fetches ahead but never past the end, and never the same block twice.
            Assert.True(transfer.BytesFetched <= _data.Length, $"fetched {transfer.BytesFetched}");
        }
    }

    [Fact]
    public void Readers_of_one_file_wait_for_each_others_requests_instead_of_sending_them_again()
    {
        // A header prefetch through one reader, then a read of the same block through another (what the Hub loader
        // does with shard headers): one request, not two, however the two race.
        _env.Hub.Inject(new Fault(FaultKind.Slow, Delay: TimeSpan.FromMilliseconds(50)), times: 1000);
        var http = HubTestEnv.FastHttp(16 << 10) with { MaxReadaheadBlocks = 0 };
        var transfer = new RemoteTransfer("test");
        using var fetcher = new HttpFetcher(http, transfer, _env.Hub.Endpoint);
        var url = HubListing.ResolveUrl(_env.Hub.Endpoint, "acme/blob", _sha, "data.bin");
        var memory = new BlockMemoryCache(http.MemoryCacheBlocks);
        using (var prefetching = HttpRangeByteSource.Open(new RemoteFile(url, url.AbsoluteUri, _data.Length), fetcher, null, memory, http, transfer))
        {
            prefetching.Prefetch(0, 1);
        }

        using var reader = HttpRangeByteSource.Open(new RemoteFile(url, url.AbsoluteUri, _data.Length), fetcher, null, memory, http, transfer);
        var head = new byte[100];
        reader.Read(0, head);
        Assert.True(_data.AsSpan(0, head.Length).SequenceEqual(head));
        Assert.Single(_env.Hub.Cdn.Log, r => r.Range != null);
        Assert.Equal(16 << 10, transfer.BytesFetched);
    }

    [Fact]
    public void Random_access_does_not_read_ahead()
    {
        var (source, fetcher, transfer) = Open();
        using (fetcher)
        using (source)
        {
            var one = new byte[1];
            foreach (int offset in new[] { 900_000, 100_000, 500_000, 20_000 }) source.Read(offset, one);
            Assert.Equal(4 * (16 << 10), transfer.BytesFetched);
        }
    }

    [Fact]
    public void Adjacent_missing_blocks_are_fetched_with_one_request()
    {
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(16 << 10) with { MaxRequestBlocks = 4, MaxReadaheadBlocks = 0 });
        using (fetcher)
        using (source)
        {
            var buffer = new byte[4 * (16 << 10)];
            source.Read(3 * (16 << 10), buffer); // blocks 3..6, nothing cached yet
            Assert.True(_data.AsSpan(3 * (16 << 10), buffer.Length).SequenceEqual(buffer));
            var ranged = _env.Hub.Cdn.Log.Where(r => r.Range != null).ToList();
            Assert.Single(ranged);
            Assert.Equal((3L * (16 << 10), (long?)(7L * (16 << 10) - 1)), ranged[0].Range!.Value);
            Assert.Equal(buffer.Length, transfer.BytesFetched);

            // Blocks 2..7 with 3..6 cached: two single-block requests, and the cached middle is not fetched again.
            var wider = new byte[6 * (16 << 10)];
            source.Read(2 * (16 << 10), wider);
            Assert.True(_data.AsSpan(2 * (16 << 10), wider.Length).SequenceEqual(wider));
            Assert.Equal(3, _env.Hub.Cdn.Log.Count(r => r.Range != null));
            Assert.Equal(wider.Length, transfer.BytesFetched);
        }
    }

    [Fact]
    public void A_trickling_server_cannot_hold_a_read_forever()
    {
        // 8 KiB every 400 ms never trips the 500 ms idle timeout, but is far below the 1 MiB/s floor.
        _env.Hub.Inject(new Fault(FaultKind.Slow, Delay: TimeSpan.FromMilliseconds(400)), times: 1000);
        var http = HubTestEnv.FastHttp(64 << 10) with { MaxAttempts = 3, IdleTimeout = TimeSpan.FromMilliseconds(500), MinBytesPerSecond = 1 << 20, MaxReadaheadBlocks = 0 };
        var (source, fetcher, transfer) = Open(http: http);
        using (fetcher)
        using (source)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = Assert.Throws<InvalidModelFileException>(() => source.Read(0, new byte[64 << 10]));
            Assert.Contains("too slow", ex.Message);
            Assert.Contains("gave up after 3 attempts", ex.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
            Assert.True(transfer.BytesFetched > 0);
        }
    }

    [Fact]
    public void An_unknown_length_is_learned_from_the_first_answer()
    {
        var (source, fetcher, _) = Open(knownLength: false);
        using (fetcher)
        using (source)
        {
            Assert.Equal(_data.Length, source.Length);
            var tail = new byte[1000];
            source.Read(_data.Length - 1000, tail);
            Assert.True(_data.AsSpan(_data.Length - 1000).SequenceEqual(tail));
        }

        var (empty, fetcher2, _) = Open("empty.bin", knownLength: false);
        using (fetcher2)
        using (empty) Assert.Equal(0, empty.Length);
    }

    [Fact]
    public void A_server_that_ignores_ranges_still_gives_the_right_bytes()
    {
        _env.Hub.Inject(new Fault(FaultKind.FullBody), times: 1000);
        var (source, fetcher, _) = Open(knownLength: false);
        using (fetcher)
        using (source)
        {
            Assert.Equal(_data.Length, source.Length);
            var buffer = new byte[40_000];
            source.Read(600_000, buffer);
            Assert.True(_data.AsSpan(600_000, buffer.Length).SequenceEqual(buffer));
        }
    }

    [Fact]
    public void Offline_without_a_cache_is_a_clear_error()
    {
        var http = HubTestEnv.FastHttp(16 << 10);
        var url = HubListing.ResolveUrl(_env.Hub.Endpoint, "acme/blob", _sha, "data.bin");
        using var source = HttpRangeByteSource.Open(new RemoteFile(url, "x", _data.Length), null, null, new BlockMemoryCache(4), http, new RemoteTransfer("t"), "offline (test)");
        var ex = Assert.Throws<InvalidModelFileException>(() => source.Read(20_000, new byte[10]));
        Assert.Contains("offline (test): bytes 16384-32767", ex.Message);
        Assert.Empty(_env.Hub.Requests);
    }

    private const int PlanBlock = 16 << 10;

    /// <summary>Reads [offset, offset + length) in rows of <paramref name="row"/> bytes (the last may be shorter) and
    /// checks every byte.</summary>
    private void ReadRows(HttpRangeByteSource source, long offset, int length, int row)
    {
        var buffer = new byte[row];
        for (int done = 0; done < length; done += row)
        {
            var part = buffer.AsSpan(0, Math.Min(row, length - done));
            source.Read(offset + done, part);
            Assert.True(_data.AsSpan((int)(offset + done), part.Length).SequenceEqual(part), $"row at {offset + done}");
        }
    }

    /// <summary>The body bytes the CDN has sent, once they reach <paramref name="expected"/> (the server counts a
    /// write a moment after the client may have read it) or after 5 s.</summary>
    private long ServerSent(long expected)
    {
        SpinWait.SpinUntil(() => _env.Hub.Cdn.BodyBytesSent >= expected, TimeSpan.FromSeconds(5));
        return _env.Hub.Cdn.BodyBytesSent;
    }

    private List<(long Start, long? End)> RangedRequests() => _env.Hub.Cdn.Log.Where(r => r.Range != null).Select(r => r.Range!.Value).ToList();

    [Fact]
    public void A_planned_unaligned_range_read_row_by_row_fetches_exactly_its_bytes()
    {
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock)); // readahead on, 4 blocks per request
        using (fetcher)
        using (source)
        {
            // 50 rows of 1,000 bytes from byte 5,000: blocks 0 and 3 in part (pieces), 1 and 2 whole; rows straddle
            // the piece/block boundaries.
            const long offset = 5_000;
            const int length = 50_000;
            source.PlanRead(offset, length);
            ReadRows(source, offset, length, 1_000);
            Assert.Equal(length, transfer.BytesFetched);
            Assert.Equal(length, ServerSent(length));
            Assert.Equal([(offset, (long?)(offset + length - 1))], RangedRequests()); // pieces and blocks in one request

            // The whole range at once (piece, blocks, piece) and a read across the head piece's start: served from
            // memory except the bytes before the piece, whose block is fetched whole.
            var all = new byte[length];
            source.Read(offset, all);
            Assert.True(_data.AsSpan((int)offset, length).SequenceEqual(all));
            Assert.Equal(length, transfer.BytesFetched);
            var across = new byte[6_000];
            source.Read(offset - 1_000, across);
            Assert.True(_data.AsSpan((int)offset - 1_000, across.Length).SequenceEqual(across));
            Assert.Equal(length + PlanBlock, transfer.BytesFetched);
        }
    }

    [Fact]
    public void Planned_ranges_longer_than_one_request_or_inside_one_block_fetch_exactly_their_bytes()
    {
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock) with { MaxRequestBlocks = 4 });
        using (fetcher)
        using (source)
        {
            // Blocks 6..11: the piece of 6 and blocks 7..9 in one request, block 10 and the piece of 11 in another.
            const long offset = 6 * PlanBlock + 7;
            const int length = 5 * PlanBlock + 3;
            source.PlanRead(offset, length);
            ReadRows(source, offset, length, 8_192);
            Assert.Equal(length, transfer.BytesFetched);
            Assert.Equal([(offset, (long?)(10L * PlanBlock - 1)), (10L * PlanBlock, (long?)(offset + length - 1))],
                RangedRequests().OrderBy(r => r.Start));

            // 50 bytes inside block 20: one piece of 50 bytes.
            source.PlanRead(20 * PlanBlock + 10, 50);
            ReadRows(source, 20 * PlanBlock + 10, 50, 7);
            Assert.Equal(length + 50, transfer.BytesFetched);

            // The end of the file (its last block is short): a piece up to the last byte.
            source.PlanRead(_data.Length - 3_000, 3_000);
            ReadRows(source, _data.Length - 3_000, 3_000, 1_000);
            Assert.Equal(length + 50 + 3_000, transfer.BytesFetched);
        }
    }

    [Fact]
    public void Planned_pieces_are_kept_on_disk_so_the_same_rows_cost_nothing_later_or_offline_and_a_corrupt_one_is_fetched_again()
    {
        string folder = _env.Temp.File("pieces");
        var http = HubTestEnv.FastHttp(PlanBlock) with { MaxReadaheadBlocks = 0 };
        (long Offset, int Length)[] ranges = [(5_000, 3_000), (40_000, 30_000), (_data.Length - 2_500, 2_500)];
        long total = ranges.Sum(r => (long)r.Length);
        void ReadAll(HttpRangeByteSource source)
        {
            foreach (var (offset, length) in ranges)
            {
                source.PlanRead(offset, length);
                ReadRows(source, offset, length, 1_000);
            }
        }

        var (first, fetcher1, transfer1) = Open(http: http, store: new DiskBlockStore(folder, PlanBlock));
        using (fetcher1)
        using (first) ReadAll(first);
        Assert.Equal(total, transfer1.BytesFetched);

        // A later run (a new process: empty memory) plans the same rows: all from the cache.
        var (again, fetcher2, transfer2) = Open(http: http, store: new DiskBlockStore(folder, PlanBlock));
        using (fetcher2)
        using (again) ReadAll(again);
        Assert.Equal(0, transfer2.BytesFetched);

        // Offline, the same.
        var url = HubListing.ResolveUrl(_env.Hub.Endpoint, "acme/blob", _sha, "data.bin");
        using (var offline = HttpRangeByteSource.Open(new RemoteFile(url, "x", _data.Length), null, new DiskBlockStore(folder, PlanBlock), new BlockMemoryCache(4), http, new RemoteTransfer("t"), "offline (test)"))
            ReadAll(offline);

        // Cache info and the size cap see the piece files; a corrupted one is deleted and fetched again.
        var pieces = Directory.GetFiles(folder, "*-*", SearchOption.AllDirectories);
        Assert.NotEmpty(pieces);
        Assert.All(pieces, f => Assert.True(DiskBlockStore.IsBlockFileName(Path.GetFileName(f))));
        string victim = pieces.Single(f => Path.GetFileName(f) == "5000-8000");
        var bytes = File.ReadAllBytes(victim);
        bytes[10] ^= 0xFF;
        File.WriteAllBytes(victim, bytes);
        var (repaired, fetcher3, transfer3) = Open(http: http, store: new DiskBlockStore(folder, PlanBlock));
        using (fetcher3)
        using (repaired) ReadAll(repaired);
        Assert.Equal(3_000, transfer3.BytesFetched);
        Assert.False(DiskBlockStore.IsBlockFileName("12-"));
        Assert.False(DiskBlockStore.IsBlockFileName("-12"));
        Assert.False(DiskBlockStore.IsBlockFileName("1-2-3"));
        Assert.False(DiskBlockStore.IsBlockFileName("1-2.tmp"));
    }

    [Fact]
    public void A_planned_range_whose_edge_blocks_are_cached_fetches_no_piece_of_them()
    {
        var store = new DiskBlockStore(_env.Temp.File("blocks"), PlanBlock);
        var (warm, fetcher, _) = Open(http: HubTestEnv.FastHttp(PlanBlock) with { MaxReadaheadBlocks = 0 }, store: store);
        using (fetcher)
        using (warm)
        {
            warm.Read(0, new byte[1]); // blocks 0 and 3 on disk
            warm.Read(3 * PlanBlock, new byte[1]);
        }

        var (source, fetcher2, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock), store: store); // empty memory
        using (fetcher2)
        using (source)
        {
            // Edge blocks on disk: only the interior blocks 1 and 2 are fetched.
            source.PlanRead(5_000, 50_000);
            ReadRows(source, 5_000, 50_000, 1_000);
            Assert.Equal(2 * PlanBlock, transfer.BytesFetched);

            // Blocks 1..3 now in memory: the range [20,000, 70,000) costs only its piece of block 4.
            source.PlanRead(20_000, 50_000);
            ReadRows(source, 20_000, 50_000, 1_000);
            Assert.Equal(2 * PlanBlock + (70_000 - 4 * PlanBlock), transfer.BytesFetched);
            Assert.Equal(70_000, ServerSent(70_000)); // 4 blocks and the piece of block 4
        }

        // Pieces are never written to the disk cache as blocks: block 4 is absent, blocks 0..3 present.
        Assert.False(store.Contains(4, PlanBlock));
        Assert.All(new[] { 0L, 1, 2, 3 }, b => Assert.True(store.Contains(b, PlanBlock)));
    }

    [Fact]
    public void A_dropped_piece_falls_back_to_its_whole_block()
    {
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock) with { MaxReadaheadBlocks = 0 });
        using (fetcher)
        using (source)
        {
            // Each plan: a piece of block 3k (all but 100 bytes), block 3k+1 whole, a piece of 100 bytes of 3k+2.
            // One plan more than the pieces kept: the first plan's two pieces are dropped.
            int plans = HttpRangeByteSource.MaxPlannedPieces / 2 + 1;
            long Start(int k) => 3L * k * PlanBlock + 100;
            for (int k = 0; k < plans; k++) source.PlanRead(Start(k), 2 * PlanBlock);
            for (int k = 0; k < plans; k++) source.Read((3L * k + 1) * PlanBlock, new byte[1]); // waits for every plan's request
            Assert.Equal(plans * 2L * PlanBlock, transfer.BytesFetched);
            ReadRows(source, Start(plans - 1), 2 * PlanBlock, 4_000);
            Assert.Equal(plans * 2L * PlanBlock, transfer.BytesFetched);
            ReadRows(source, Start(0), 2 * PlanBlock, 4_000); // blocks 0 and 2 fetched whole
            Assert.Equal((plans * 2L + 2) * PlanBlock, transfer.BytesFetched);
            ReadRows(source, Start(1), 2 * PlanBlock, 4_000); // still kept
            Assert.Equal((plans * 2L + 2) * PlanBlock, transfer.BytesFetched);
        }
    }

    [Fact]
    public void A_planned_request_goes_through_the_fetcher_retries_and_a_failed_one_falls_back_to_blocks()
    {
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 503));
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock) with { MaxReadaheadBlocks = 0 });
        using (fetcher)
        using (source)
        {
            source.PlanRead(5_000, 50_000);
            ReadRows(source, 5_000, 50_000, 1_000);
            Assert.Equal(50_000, transfer.BytesFetched);
            Assert.Equal([(5_000L, (long?)54_999), (5_000L, (long?)54_999)], RangedRequests()); // retried once
        }

        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 500));
        var (failing, fetcher2, transfer2) = Open(http: HubTestEnv.FastHttp(PlanBlock) with { MaxReadaheadBlocks = 0, MaxAttempts = 1 });
        using (fetcher2)
        using (failing)
        {
            // The planned request fails for good; the reads fetch the four blocks instead (one more attempt each).
            failing.PlanRead(5_000, 50_000);
            ReadRows(failing, 5_000, 50_000, 1_000);
            Assert.Equal(4 * PlanBlock, transfer2.BytesFetched);
        }
    }

    [Fact]
    public void Readers_planning_different_ranges_of_one_file_at_once_get_the_right_bytes_and_only_those()
    {
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock)); // readahead on
        using (fetcher)
        using (source)
        {
            // 4 readers × 4 ranges, each range in its own three blocks, of different lengths and alignments.
            long total = 0;
            var ranges = new (long Offset, int Length)[16];
            for (int s = 0; s < ranges.Length; s++)
            {
                ranges[s] = (3L * s * PlanBlock + 37 * s + 1, PlanBlock + 997 * s + 5);
                total += ranges[s].Length;
            }

            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                for (int i = 0; i < 4; i++)
                {
                    var (offset, length) = ranges[t * 4 + i];
                    source.PlanRead(offset, length);
                    ReadRows(source, offset, length, 2_000);
                }
            });
            Assert.Equal(total, transfer.BytesFetched);
        }
    }

    [Fact]
    public void A_planned_range_not_read_yet_keeps_its_pieces_while_later_plans_are_read()
    {
        // One reader plans a range and is slow; others plan and read far more ranges than the piece bound holds.
        // Their spent pieces are dropped first, so the slow reader still gets exactly its bytes.
        var (source, fetcher, transfer) = Open(http: HubTestEnv.FastHttp(PlanBlock));
        using (fetcher)
        using (source)
        {
            (long Offset, int Length) Range(int s) => (3L * s * PlanBlock + 37 * s + 1, PlanBlock + 997 * s + 5);
            long total = 0;
            var slow = Range(0);
            source.PlanRead(slow.Offset, slow.Length);
            total += slow.Length;
            for (int s = 1; s <= HttpRangeByteSource.MaxPlannedPieces; s++)
            {
                var (offset, length) = Range(s);
                source.PlanRead(offset, length);
                ReadRows(source, offset, length, 2_000);
                total += length;
            }

            ReadRows(source, slow.Offset, slow.Length, 2_000);
            Assert.Equal(total, transfer.BytesFetched);
        }
    }

    [Theory]
    [InlineData("bytes 0-99/1000", 0, 99, 1000L, false)]
    [InlineData("bytes 5-5/*", 5, 5, null, false)]
    [InlineData("bytes */1000", 0, -1, 1000L, true)]
    [InlineData("BYTES 10-19/20", 10, 19, 20L, false)]
    public void Content_range_headers_parse(string header, long first, long last, long? total, bool unsatisfied)
    {
        Assert.True(ContentRange.TryParse(header, out var r));
        Assert.Equal(new ContentRange(first, last, total, unsatisfied), r);
        if (!unsatisfied) Assert.Equal(last - first + 1, r.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bytes 10-5/100")]
    [InlineData("bytes 0-100/100")]
    [InlineData("bytes 0-99")]
    [InlineData("items 0-9/10")]
    [InlineData("bytes -1-5/10")]
    [InlineData("bytes */*")]
    [InlineData("bytes 0-99999999999999999999/1")]
    public void Malformed_content_ranges_are_refused(string? header) => Assert.False(ContentRange.TryParse(header, out _));
}
