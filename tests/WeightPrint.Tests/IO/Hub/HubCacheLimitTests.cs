using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.Loading;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Hub;

/// <summary>The block cache cannot fill the disk or serve corrupt bytes: hash-checked blocks, a size cap with
/// least-recently-used eviction, and concurrent writers sharing one cache folder.</summary>
public sealed class HubCacheLimitTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 2, Hidden: 96, Intermediate: 256, Vocab: 400);
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    private static byte[] Block(int index, int length)
    {
        var b = new byte[length];
        new Random(index).NextBytes(b);
        return b;
    }

    [Fact]
    public void A_cached_block_with_one_flipped_byte_is_detected_and_fetched_again()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 61);
        var repo = _env.Hub.AddRepo("acme/flipped", files);
        using var local = CheckpointLoader.Open(_env.Local("f", files));
        using (var first = HubLoader.Open("hf:acme/flipped", _env.Options())) HubCacheTests.HashAll(first);
        string blocks = Path.Combine(_env.WpCache, "models--acme--flipped", "blocks", repo.Refs["main"], "model.safetensors", "b65536");
        string victim = Directory.GetFiles(blocks).OrderBy(f => f, StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0x40; // same length, wrong content: only the hash can tell
        File.WriteAllBytes(victim, bytes);

        using var second = HubLoader.Open("hf:acme/flipped", _env.Options());
        HubAssert.SameTensors(local, second);
        Assert.True(HubLoader.TransferOf(second)!.BytesFetched > 0);
        var repaired = File.ReadAllBytes(victim);
        Assert.NotEqual(bytes, repaired);
        Assert.Equal(bytes.Length, repaired.Length);
    }

    [Fact]
    public void Two_independent_stores_writing_and_reading_the_same_blocks_at_once_never_see_wrong_bytes()
    {
        using var dir = new TempDir();
        const int blockBytes = 4096, blocks = 48;
        var a = new DiskBlockStore(dir.File("file"), blockBytes);
        var b = new DiskBlockStore(dir.File("file"), blockBytes);
        int wrong = 0, hits = 0;
        Parallel.For(0, 8, worker =>
        {
            var store = worker % 2 == 0 ? a : b;
            for (int round = 0; round < 6; round++)
            {
                for (int i = 0; i < blocks; i++)
                {
                    int block = (i + worker * 7) % blocks;
                    if (store.TryRead(block, blockBytes) is { } data)
                    {
                        Interlocked.Increment(ref hits);
                        if (!data.AsSpan().SequenceEqual(Block(block, blockBytes))) Interlocked.Increment(ref wrong);
                    }
                    else Assert.Null(store.Write(block, Block(block, blockBytes)));
                }
            }
        });
        Assert.Equal(0, wrong);
        Assert.True(hits > 0);
        for (int i = 0; i < blocks; i++) Assert.Equal(Block(i, blockBytes), a.TryRead(i, blockBytes));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Eviction_deletes_the_least_recently_used_blocks_down_to_the_cap()
    {
        using var dir = new TempDir();
        const int blockBytes = 1000;
        var store = new DiskBlockStore(dir.File("file"), blockBytes);
        var start = DateTime.UtcNow.AddHours(-1);
        string folder = Path.Combine(dir.File("file"), "b1000");
        for (int i = 0; i < 20; i++)
        {
            Assert.Null(store.Write(i, Block(i, blockBytes)));
            File.SetLastWriteTimeUtc(Path.Combine(folder, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), start.AddMinutes(i));
        }

        Assert.NotNull(store.TryRead(0, blockBytes)); // block 0 becomes the most recently used
        long cap = 10 * (blockBytes + DiskBlockStore.HashBytes);
        long deleted = BlockCacheBudget.Evict(dir.Path, cap);
        var (files, bytes) = BlockCacheBudget.Measure(dir.Path);
        Assert.True(bytes <= cap * BlockCacheBudget.EvictToFraction, $"{bytes} bytes left");
        Assert.Equal(20 - files, deleted / (blockBytes + DiskBlockStore.HashBytes));
        Assert.NotNull(store.TryRead(0, blockBytes));
        Assert.NotNull(store.TryRead(19, blockBytes));
        Assert.Null(store.TryRead(1, blockBytes));
        Assert.Equal(0, BlockCacheBudget.Evict(dir.Path, cap));
    }

    [Fact]
    public void Reading_a_model_through_a_small_cap_keeps_the_cache_under_it_and_stays_correct()
    {
        var files = HubTestModels.LlamaFolder(Shape with { Layers = 4 }, seed: 62);
        _env.Hub.AddRepo("acme/capped", files);
        using var local = CheckpointLoader.Open(_env.Local("c", files));
        long cap = 256 << 10;
        var options = _env.Options() with { CacheMaxBytes = cap };
        using (var first = HubLoader.Open("hf:acme/capped", options))
        {
            HubAssert.SameTensors(local, first);
            HubCacheTests.HashAll(first);
        }

        var (_, bytes) = BlockCacheBudget.Measure(_env.WpCache);
        long total = files.Values.Sum(f => (long)f.Length);
        Assert.True(total > 2 * cap, "the model must be larger than the cap for this test to mean anything");
        Assert.True(bytes <= cap + (64 << 10) + (cap / 32), $"cache holds {bytes} bytes with a cap of {cap}");
        using var second = HubLoader.Open("hf:acme/capped", options);
        HubAssert.SameTensors(local, second);
    }

    [Fact]
    public void Two_readers_sharing_one_cache_folder_at_once_both_get_the_right_tensors()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 63);
        _env.Hub.AddRepo("acme/shared", files);
        using var local = CheckpointLoader.Open(_env.Local("s", files));
        Parallel.For(0, 2, _ =>
        {
            using var remote = HubLoader.Open("hf:acme/shared", _env.Options());
            HubAssert.SameTensors(local, remote);
            HubCacheTests.HashAll(remote);
        });
    }

    [Theory]
    [InlineData("20G", 20L << 30)]
    [InlineData("500M", 500L << 20)]
    [InlineData("1.5k", 1536)]
    [InlineData("4096", 4096)]
    [InlineData("2GB", 2L << 30)]
    public void Cache_sizes_parse(string text, long bytes) => Assert.Equal(bytes, HubOptions.ParseSize("--cache-max", text));

    [Theory]
    [InlineData("")]
    [InlineData("-1G")]
    [InlineData("lots")]
    [InlineData("99999999999T")]
    public void Bad_cache_sizes_are_refused(string text) =>
        Assert.Throws<InvalidModelFileException>(() => HubOptions.ParseSize("--cache-max", text));
}
