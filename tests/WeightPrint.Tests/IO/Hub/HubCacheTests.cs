using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>The WeightPrint range cache, offline mode, and the standard Hugging Face cache layout.</summary>
public sealed class HubCacheTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 2, Hidden: 96, Intermediate: 256, Vocab: 400);
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    /// <summary>Reads every tensor's bytes once (through the cache).</summary>
    internal static void HashAll(Checkpoint c)
    {
        foreach (var t in c.Tensors) TensorReader.ContentHash(t);
    }

    [Fact]
    public void A_second_run_reads_nothing_remotely()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 31, shards: 2);
        var repo = _env.Hub.AddRepo("acme/cached", files);
        string sha = repo.Refs["main"];
        using var local = CheckpointLoader.Open(_env.Local("c", files));
        using (var first = HubLoader.Open("hf:acme/cached", _env.Options()))
        {
            HubAssert.SameTensors(local, first);
            Assert.True(HubLoader.TransferOf(first)!.BytesFetched > 0);
        }

        long cdnBytesBefore = _env.Hub.Cdn.BodyBytesSent;
        int requestsBefore = _env.Hub.Requests.Count();

        // Pinned to the commit: no request at all.
        using (var pinned = HubLoader.Open("hf:acme/cached@" + sha, _env.Options()))
        {
            HubAssert.SameTensors(local, pinned);
            var t = HubLoader.TransferOf(pinned)!;
            Assert.Equal(0, t.BytesFetched);
            Assert.Equal(0, t.Requests);
            Assert.True(t.BytesFromCache > 0);
        }

        Assert.Equal(requestsBefore, _env.Hub.Requests.Count());

        // By branch: one API request to learn where main points, no file bytes.
        using (var branch = HubLoader.Open("hf:acme/cached", _env.Options()))
        {
            HubAssert.SameTensors(local, branch);
            Assert.Equal(sha, branch.Metadata["hub.commit"]);
        }

        var newRequests = _env.Hub.Requests.ToList().Count - requestsBefore;
        Assert.Equal(1, newRequests);
        Assert.Equal(2, _env.Hub.Origin.Log.Count(r => r.Target.Contains("/revision/main", StringComparison.Ordinal)));
        Assert.Equal(cdnBytesBefore, _env.Hub.Cdn.BodyBytesSent);
    }

    [Fact]
    public void Offline_mode_uses_only_the_cache_and_works_with_the_hub_gone()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 32);
        _env.Hub.AddRepo("acme/offline", files);
        using var local = CheckpointLoader.Open(_env.Local("o", files));
        using (var online = HubLoader.Open("hf:acme/offline", _env.Options())) HashAll(online);
        _env.Hub.Dispose();

        using var offline = HubLoader.Open("hf:acme/offline", _env.Options(offline: true));
        HubAssert.SameTensors(local, offline);
        Assert.Equal("cache", offline.Metadata["hub.source"]);
        Assert.Equal(0, HubLoader.TransferOf(offline)!.Requests);
    }

    [Fact]
    public void Offline_mode_says_which_bytes_are_missing()
    {
        var files = HubTestModels.LlamaFolder(Shape with { Layers = 4 }, seed: 33);
        _env.Hub.AddRepo("acme/partial", files);
        using (HubLoader.Open("hf:acme/partial", _env.Options()))
        {
            // header only
        }

        using var offline = HubLoader.Open("hf:acme/partial", _env.Options(offline: true));
        Assert.NotEmpty(offline.Tensors);
        var ex = Assert.Throws<InvalidModelFileException>(() => HashAll(offline));
        Assert.Contains("offline (HF_HUB_OFFLINE=1)", ex.Message);
        Assert.Contains("not in the cache", ex.Message);
        Assert.Contains("run once online", ex.Message);

        var none = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/never-seen", _env.Options(offline: true)));
        Assert.Contains("not cached", none.Message);
        Assert.Contains("models--acme--never-seen", none.Message);
    }

    [Fact]
    public void A_damaged_cache_block_is_ignored_and_fetched_again()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 34);
        var repo = _env.Hub.AddRepo("acme/damaged", files);
        using var local = CheckpointLoader.Open(_env.Local("d", files));
        using (var first = HubLoader.Open("hf:acme/damaged", _env.Options())) HashAll(first);
        string blocks = Path.Combine(_env.WpCache, "models--acme--damaged", "blocks", repo.Refs["main"], "model.safetensors", "b65536");
        var blockFiles = Directory.GetFiles(blocks);
        Assert.NotEmpty(blockFiles);
        File.WriteAllBytes(blockFiles[0], [1, 2, 3]); // wrong size: a torn or foreign file
        using var second = HubLoader.Open("hf:acme/damaged", _env.Options());
        HubAssert.SameTensors(local, second);
        Assert.True(HubLoader.TransferOf(second)!.BytesFetched > 0);
    }

    /// <summary>Builds models--ORG--NAME with blobs/, snapshots/SHA/ symlinks and refs/main, as huggingface_hub does.</summary>
    private string BuildHfCache(string repo, IReadOnlyDictionary<string, byte[]> files, string sha, bool symlinks = true)
    {
        string root = Path.Combine(_env.HfCache, "models--" + repo.Replace("/", "--", StringComparison.Ordinal));
        string snapshot = Path.Combine(root, "snapshots", sha);
        Directory.CreateDirectory(Path.Combine(root, "blobs"));
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(root, "refs"));
        File.WriteAllText(Path.Combine(root, "refs", "main"), sha);
        foreach (var (name, bytes) in files)
        {
            string blobName = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
            string blob = Path.Combine(root, "blobs", blobName);
            File.WriteAllBytes(blob, bytes);
            string link = Path.Combine(snapshot, name);
            if (symlinks) File.CreateSymbolicLink(link, Path.Combine("..", "..", "blobs", blobName));
            else File.Copy(blob, link);
        }

        return snapshot;
    }

    [Fact]
    public void A_model_in_the_hugging_face_cache_is_read_with_no_network_at_all()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 35, shards: 2);
        string sha = new('a', 40);
        BuildHfCache("acme/in-hf-cache", files, sha);
        using var local = CheckpointLoader.Open(_env.Local("h", files));
        var dead = _env.Options() with { Endpoint = HubTestEnv.DeadEndpoint() };

        using (var online = HubLoader.Open("hf:acme/in-hf-cache", dead))
        {
            HubAssert.SameTensors(local, online);
            Assert.Equal(sha, online.Metadata["hub.commit"]);
            Assert.Equal("hf-cache", online.Metadata["hub.source"]);
            Assert.Equal(0, HubLoader.TransferOf(online)!.Requests);
            Assert.Equal(local.TotalBytes, online.TotalBytes); // symlinks are measured by their targets
        }

        using (var offline = HubLoader.Open("hf:acme/in-hf-cache@" + sha, _env.Options(offline: true))) HubAssert.SameTensors(local, offline, floatChecks: 1);
        Assert.Empty(_env.Hub.Requests);
    }

    [Fact]
    public void A_plain_folder_pointing_at_a_snapshot_measures_symlinked_files_correctly()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 36);
        string snapshot = BuildHfCache("acme/snap", files, new string('b', 40));
        using var local = CheckpointLoader.Open(_env.Local("p", files));
        using var viaLinks = CheckpointLoader.Open(snapshot);
        Assert.Equal(local.TotalBytes, viaLinks.TotalBytes);
        HubAssert.SameTensors(local, viaLinks, floatChecks: 1);
    }

    [Fact]
    public void A_partial_hugging_face_snapshot_is_completed_from_the_hub()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 37);
        var repo = _env.Hub.AddRepo("acme/half", files);
        string sha = repo.Refs["main"];
        // Only config.json was downloaded (as transformers' AutoConfig does): not enough to fingerprint.
        BuildHfCache("acme/half", new Dictionary<string, byte[]> { ["config.json"] = files["config.json"] }, sha);
        using var local = CheckpointLoader.Open(_env.Local("half", files));
        using var remote = HubLoader.Open("hf:acme/half", _env.Options());
        HubAssert.SameTensors(local, remote, floatChecks: 1);
        Assert.Equal("remote", remote.Metadata["hub.source"]);
        Assert.DoesNotContain(_env.Hub.Origin.Log, r => r.Path.EndsWith("/config.json", StringComparison.Ordinal)); // taken from the HF cache
    }

    [Fact]
    public void Options_follow_the_hugging_face_environment_variables()
    {
        var env = new Dictionary<string, string>
        {
            ["HOME"] = "/home/u",
            ["HF_ENDPOINT"] = "https://mirror.example/hf/",
            ["HF_TOKEN"] = " hf_abc \n",
            ["HF_HUB_OFFLINE"] = "True",
            ["HF_HOME"] = "/data/hf",
        };
        var o = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("https://mirror.example/hf", o.Endpoint.AbsoluteUri.TrimEnd('/'));
        Assert.Equal("hf_abc", o.Token);
        Assert.True(o.Offline);
        Assert.Equal(Path.Combine("/data/hf", "hub"), o.HuggingFaceCache);
        Assert.Equal(Path.Combine("/home/u", ".cache", "weightprint", "hub"), o.CacheDirectory);

        env["HF_HUB_CACHE"] = "/fast/hub";
        env["WEIGHTPRINT_CACHE"] = "/fast/wp";
        env["HF_HUB_OFFLINE"] = "0";
        env.Remove("HF_TOKEN");
        env["HF_HOME"] = _env.Temp.Path;
        File.WriteAllText(Path.Combine(_env.Temp.Path, "token"), "hf_from_file\n");
        o = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/fast/hub", o.HuggingFaceCache);
        Assert.Equal(Path.Combine("/fast/wp", "hub"), o.CacheDirectory);
        Assert.False(o.Offline);
        Assert.Equal("hf_from_file", o.Token);

        env["HF_ENDPOINT"] = "ftp://nope";
        Assert.Throws<InvalidModelFileException>(() => HubOptions.FromEnvironment(k => env.GetValueOrDefault(k)));
    }

    [Fact]
    public void Cache_names_are_safe_file_names()
    {
        Assert.Equal("model.safetensors", HubRangeCache.Escape("model.safetensors"));
        Assert.Equal("onnx%2Fmodel.onnx", HubRangeCache.Escape("onnx/model.onnx"));
        Assert.Equal("%2Egitattributes", HubRangeCache.Escape(".gitattributes"));
        Assert.Equal("refs%2Fpr%2F1", HubRangeCache.Escape("refs/pr/1"));
        string longName = HubRangeCache.Escape(new string('x', 500));
        Assert.True(longName.Length <= HubRangeCache.MaxEscapedNameLength);
        Assert.NotEqual(longName, HubRangeCache.Escape(new string('x', 499)));
        Assert.DoesNotContain('/', HubRangeCache.Escape("a/../../b"));
        Assert.NotEqual(HubRangeCache.Escape("ü"), HubRangeCache.Escape("u"));
    }
}
