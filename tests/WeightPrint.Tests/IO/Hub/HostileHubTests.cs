using System.Diagnostics;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.IO.Http;
using WeightPrint.Loading;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Hub;

/// <summary>A Hub that lies (issue 16, item 3): each lie ends in the right answer or one clear error, and nothing
/// is written outside the cache directory. (Resets, truncation, a shifted Content-Range, 429 with Retry-After, stalls and
/// full bodies: HubFaultTests; trickling ranges: HttpRangeByteSourceTests.)</summary>
public sealed class HostileHubTests : IDisposable
{
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    [Theory]
    [InlineData("../../escape.json")]
    [InlineData("/tmp/absolute.json")]
    [InlineData("sub/../../escape.json")]
    [InlineData("nul\0name.json")]
    [InlineData("back\\slash.json")]
    public void A_listing_with_a_hostile_file_name_is_refused_and_writes_nothing_outside_the_cache(string name)
    {
        var files = new Dictionary<string, byte[]>(HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 71), StringComparer.Ordinal)
        {
            [name] = "{}"u8.ToArray(),
        };
        _env.Hub.AddRepo("acme/hostile", files);
        var before = Directory.GetFileSystemEntries(_env.Temp.Path, "*", SearchOption.AllDirectories).ToHashSet(StringComparer.Ordinal);
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/hostile", _env.Options()));
        Assert.Contains("unsafe file name", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', ex.Message);
        var written = Directory.GetFileSystemEntries(_env.Temp.Path, "*", SearchOption.AllDirectories).Where(p => !before.Contains(p)).ToList();
        Assert.All(written, p => Assert.StartsWith(_env.WpCache, p, StringComparison.Ordinal));
        Assert.False(File.Exists("/tmp/absolute.json") && File.ReadAllText("/tmp/absolute.json") == "{}");
    }

    [Fact]
    public void A_redirect_loop_is_one_clear_error()
    {
        _env.Hub.AddAlias("acme/ping", "acme/pong");
        _env.Hub.AddAlias("acme/pong", "acme/ping");
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/ping", _env.Options()));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(ex.Message.Length <= ErrorText.MaxLineChars);
        Assert.True(_env.Hub.Requests.Count() <= 64, $"{_env.Hub.Requests.Count()} requests for a redirect loop");
    }

    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 2, Hidden: 128, Intermediate: 320, Vocab: 512);

    /// <summary>Serves a small Llama folder as acme/liar; returns its files.</summary>
    private Dictionary<string, byte[]> AddLiar(int seed = 81)
    {
        var files = HubTestModels.LlamaFolder(Shape, seed);
        _env.Hub.AddRepo("acme/liar", files);
        return files;
    }

    /// <summary>Every tensor read over the Hub (through the disk cache) equals the local copy, and only the cache
    /// directories were written to.</summary>
    private void ReadsTheRightTensors(Dictionary<string, byte[]> files, HttpReadOptions? http = null)
    {
        using var local = CheckpointLoader.Open(_env.Local("liar", files));
        var before = Entries();
        using (var remote = HubLoader.Open("hf:acme/liar", _env.Options(http: http))) HubAssert.SameTensors(local, remote);
        WroteOnlyIntoTheCaches(before);
    }

    /// <summary>Reading the model ends in one clear error (returned), written only into the caches.</summary>
    private InvalidModelFileException FailsClearly(HttpReadOptions? http = null)
    {
        var before = Entries();
        var ex = Assert.Throws<InvalidModelFileException>(() =>
        {
            using var remote = HubLoader.Open("hf:acme/liar", _env.Options(http: http));
            foreach (var t in remote.Tensors) TensorReader.ContentHash(t);
        });
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(ex.Message.Length <= ErrorText.MaxLineChars, ex.Message);
        WroteOnlyIntoTheCaches(before);
        return ex;
    }

    private HashSet<string> Entries() => Directory.GetFileSystemEntries(_env.Temp.Path, "*", SearchOption.AllDirectories).ToHashSet(StringComparer.Ordinal);

    private void WroteOnlyIntoTheCaches(HashSet<string> before)
    {
        var written = Entries().Where(p => !before.Contains(p));
        Assert.All(written, p => Assert.True(p.StartsWith(_env.WpCache, StringComparison.Ordinal) || p.StartsWith(_env.HfCache, StringComparison.Ordinal), p));
    }

    [Fact]
    public void Bodies_longer_than_announced_give_the_right_bytes()
    {
        var files = AddLiar();
        _env.Hub.Inject(new Fault(FaultKind.LongBody, Bytes: 5000), times: 1000);
        ReadsTheRightTensors(files);
        Assert.Contains(_env.Hub.Cdn.Log, r => r.Range != null);
    }

    [Fact]
    public void Bodies_shorter_than_asked_with_a_matching_content_range_are_completed()
    {
        var files = AddLiar();
        _env.Hub.Inject(new Fault(FaultKind.ShortBody, Bytes: 3000), times: 1000);
        ReadsTheRightTensors(files);
    }

    [Fact]
    public void A_gzip_encoded_range_is_never_used_as_data()
    {
        AddLiar();
        _env.Hub.Inject(new Fault(FaultKind.Gzip), times: 1000);
        var ex = FailsClearly();
        Assert.Contains("Content-Encoding gzip", ex.Message, StringComparison.Ordinal);
        Assert.All(_env.Hub.Requests, r => Assert.Equal("identity", r.Header("Accept-Encoding")));
    }

    [Fact]
    public void A_gzip_encoded_listing_is_one_clear_error()
    {
        AddLiar();
        _env.Hub.Inject(new Fault(FaultKind.Gzip), times: 1000, server: "origin", pathContains: "/api/", rangedOnly: false);
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/liar", _env.Options()));
        Assert.Contains("Content-Encoding gzip", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_drip_fed_listing_is_dropped_and_asked_again()
    {
        var files = AddLiar();
        // 2 bytes every 250 ms never trips the 2 s idle timeout, and would take over 35 s for the ~300-byte listing.
        _env.Hub.Inject(new Fault(FaultKind.Drip, Bytes: 2, Delay: TimeSpan.FromMilliseconds(250)), times: 1, server: "origin", pathContains: "/api/", rangedOnly: false);
        var clock = Stopwatch.StartNew();
        ReadsTheRightTensors(files, HubTestEnv.FastHttp() with { MinBytesPerSecond = 1 << 20 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}: the drip was waited out");
        Assert.True(_env.Hub.Origin.Log.Count(r => r.Path.StartsWith("/api/", StringComparison.Ordinal)) >= 2, "the dripping listing was not asked again");
    }

    [Fact]
    public void Huge_response_headers_are_retried_then_one_clear_error()
    {
        var files = AddLiar();
        _env.Hub.Inject(new Fault(FaultKind.HugeHeader, Bytes: 1 << 20), times: 2);
        ReadsTheRightTensors(files);

        _env.Hub.Inject(new Fault(FaultKind.HugeHeader, Bytes: 1 << 20), times: 1000, server: "origin", pathContains: "/api/", rangedOnly: false);
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/liar", _env.Options() with { CacheDirectory = _env.Temp.File("other-cache") }));
        Assert.Contains("gave up after", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length <= ErrorText.MaxLineChars);
    }

    [Fact]
    public void A_file_that_changes_between_requests_is_never_mixed()
    {
        var files = AddLiar();
        var repo = _env.Hub.Repos.Single();
        string sha = repo.Refs["main"];
        var ex = Assert.Throws<InvalidModelFileException>(() =>
        {
            using var remote = HubLoader.Open("hf:acme/liar", _env.Options(diskCache: false));
            // Same commit, same size, other bytes: the server now serves another revision of the file.
            var changed = (byte[])files["model.safetensors"].Clone();
            changed[^1] ^= 0x55;
            _env.Hub.Replace(repo, sha, "model.safetensors", changed);
            foreach (var t in remote.Tensors) TensorReader.ContentHash(t);
        });
        Assert.Contains("changed on the server", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_branch_that_moves_while_a_model_is_read_does_not_mix_revisions()
    {
        var v1 = AddLiar(seed: 82);
        var repo = _env.Hub.Repos.Single();
        using var local = CheckpointLoader.Open(_env.Local("v1", v1));
        using var remote = HubLoader.Open("hf:acme/liar", _env.Options(diskCache: false));
        string sha1 = (string)remote.Metadata["hub.commit"]!;
        // main moves to a commit with the same file names and sizes but other weights while the model is open.
        lock (repo) repo.AddCommit(HubTestModels.LlamaFolder(Shape, seed: 83), "main");
        HubAssert.SameTensors(local, remote);
        Assert.Equal(sha1, remote.Metadata["hub.commit"]);
        Assert.All(_env.Hub.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)), r => Assert.Contains(sha1, r.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void A_whole_file_answer_to_a_range_deep_in_a_huge_file_is_refused_without_downloading_it()
    {
        // A 3 GiB sparse safetensors file served from disk: header, then one large tensor.
        string folder = _env.Temp.File("huge");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), HubTestModels.Config(Shape));
        new SafetensorsWriter().Add("model.embed_tokens.weight", TensorDType.BF16, null, 3L << 18, 2048).Write(Path.Combine(folder, "model.safetensors"), headerOnly: true);
        _env.Hub.AddFolder("acme/huge", folder);
        _env.Hub.Inject(new Fault(FaultKind.FullBody), times: 1000);
        using var remote = HubLoader.Open("hf:acme/huge", _env.Options(diskCache: false));
        var tensor = remote.Tensors.Single();
        var ex = Assert.Throws<InvalidModelFileException>(() => TensorReader.ReadFloats(tensor, tensor.ElementCount - 16, new float[16]));
        Assert.Contains("ignores byte ranges", ex.Message, StringComparison.Ordinal);
        Assert.True(_env.Hub.BytesServed < 256L << 20, $"{_env.Hub.BytesServed} bytes sent");
    }
}
