using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

public sealed class HubLoaderTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Small = new(Layers: 2, Hidden: 64, Intermediate: 160, Vocab: 300);
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    [Fact]
    public void Generated_model_read_remotely_matches_the_local_copy_and_records_the_commit()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 1);
        var repo = _env.Hub.AddRepo("acme/tiny-llama", files);
        using var local = CheckpointLoader.Open(_env.Local("a", files));
        using var remote = HubLoader.Open("hf:acme/tiny-llama", _env.Options());

        HubAssert.SameTensors(local, remote);
        Assert.Equal("hf:acme/tiny-llama", remote.Location);
        Assert.Equal("safetensors", remote.Format);
        Assert.Equal(repo.Refs["main"], remote.Metadata["hub.commit"]);
        Assert.Equal("acme/tiny-llama", remote.Metadata["hub.repo"]);
        Assert.Equal("main", remote.Metadata["hub.revision"]);
        Assert.Equal("remote", remote.Metadata["hub.source"]);
        Assert.Equal("pt", remote.Metadata["format"]);
        Assert.Equal(Small.Hidden, remote.Config!.Value.GetProperty("hidden_size").GetInt32());
        Assert.Equal(local.Vocabulary, remote.Vocabulary);
        Assert.Equal(files["model.safetensors"].Length, remote.TotalBytes);
        var transfer = HubLoader.TransferOf(remote)!;
        Assert.Equal(remote.TotalBytes, transfer.TotalBytes);
        Assert.True(transfer.BytesFetched >= files["model.safetensors"].Length, "every tensor was hashed, so the whole file was fetched");
        Assert.Contains(remote.Files, f => f.Name.Contains("/acme/tiny-llama/resolve/" + repo.Refs["main"] + "/model.safetensors", StringComparison.Ordinal));
    }

    [Fact]
    public void Sharded_model_is_read_through_its_index()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 2, shards: 3);
        _env.Hub.AddRepo("acme/sharded", files);
        using var local = CheckpointLoader.Open(_env.Local("s", files));
        using var remote = HubLoader.Open("hf:acme/sharded", _env.Options());
        Assert.Equal("safetensors-sharded", remote.Format);
        Assert.Equal(3, remote.Files.Count);
        HubAssert.SameTensors(local, remote);
    }

    [Fact]
    public void Branch_tag_and_commit_revisions_pick_the_right_files()
    {
        var v1 = HubTestModels.LlamaFolder(Small, seed: 3);
        var v2 = HubTestModels.LlamaFolder(Small, seed: 4);
        var repo = _env.Hub.AddRepo("acme/evolving", v1);
        string sha1 = repo.Refs["main"];
        repo.Refs["v1.0"] = sha1;
        string sha2 = repo.AddCommit(v2, "main");
        Assert.NotEqual(sha1, sha2);

        using var l1 = CheckpointLoader.Open(_env.Local("v1", v1));
        using var l2 = CheckpointLoader.Open(_env.Local("v2", v2));
        using (var main = HubLoader.Open("hf:acme/evolving", _env.Options()))
        {
            Assert.Equal(sha2, main.Metadata["hub.commit"]);
            HubAssert.SameTensors(l2, main, floatChecks: 1);
        }

        using (var tag = HubLoader.Open("hf:acme/evolving@v1.0", _env.Options()))
        {
            Assert.Equal(sha1, tag.Metadata["hub.commit"]);
            Assert.Equal("hf:acme/evolving@v1.0", tag.Location);
            HubAssert.SameTensors(l1, tag, floatChecks: 1);
        }

        using var pinned = HubLoader.Open("hf:acme/evolving@" + sha1.ToUpperInvariant(), _env.Options());
        Assert.Equal(sha1, pinned.Metadata["hub.commit"]);
        HubAssert.SameTensors(l1, pinned, floatChecks: 1);
    }

    [Fact]
    public void Token_goes_to_the_hub_but_never_to_the_cdn_after_a_redirect()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 5);
        _env.Hub.AddRepo("acme/private", files).Token = "hf_secret123";
        using var local = CheckpointLoader.Open(_env.Local("p", files));
        using var remote = HubLoader.Open("hf:acme/private", _env.Options(token: "hf_secret123"));
        HubAssert.SameTensors(local, remote, floatChecks: 1);

        Assert.NotEmpty(_env.Hub.Cdn.Log);
        Assert.All(_env.Hub.Cdn.Log, r => Assert.Null(r.Header("Authorization")));
        Assert.All(_env.Hub.Origin.Log, r => Assert.Equal("Bearer hf_secret123", r.Header("Authorization")));
        Assert.Contains(_env.Hub.Origin.Log, r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public void Private_and_gated_repositories_fail_clearly_without_the_right_token()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 6);
        _env.Hub.AddRepo("acme/private", files).Token = "hf_right";
        var gated = _env.Hub.AddRepo("acme/gated", files);
        gated.Token = "hf_right";
        gated.Gated = true;

        var none = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/private", _env.Options()));
        Assert.Contains("401", none.Message);
        Assert.Contains("HF_TOKEN", none.Message);
        Assert.StartsWith("hf:acme/private:", none.Message);

        var wrong = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/private", _env.Options(token: "hf_wrong")));
        Assert.Contains("rejected", wrong.Message);
        Assert.Contains("Invalid credentials", wrong.Message);

        var refused = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/gated", _env.Options(token: "hf_wrong")));
        Assert.Contains("403", refused.Message);
        Assert.Contains("gated", refused.Message);
        Assert.DoesNotContain("hf_wrong", refused.Message + wrong.Message);
    }

    [Fact]
    public void Missing_repository_revision_and_file_each_say_which()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 7);
        var repo = _env.Hub.AddRepo("acme/model", files);

        var noRepo = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/nothing", _env.Options()));
        Assert.Contains("no such repository", noRepo.Message);

        var noRev = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/model@no-such-branch", _env.Options()));
        Assert.Contains("no such revision", noRev.Message);

        var noRepoWithoutToken = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/nothing@" + repo.Refs["main"], _env.Options()));
        Assert.Contains("if it is private, set HF_TOKEN", noRepoWithoutToken.Message);
    }

    [Fact]
    public void A_file_listed_but_not_served_is_a_clear_404()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 8);
        var repo = _env.Hub.AddRepo("acme/gone", files);
        // Open once so the listing (with model.safetensors) is cached for the pinned commit, then remove the file.
        string sha = repo.Refs["main"];
        using (HubLoader.Open("hf:acme/gone@" + sha, _env.Options(diskCache: true)))
        {
        }

        repo.Commits[sha].Remove("model.safetensors");
        Directory.Delete(Path.Combine(_env.WpCache, "models--acme--gone", "blocks"), recursive: true);
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/gone@" + sha, _env.Options()));
        Assert.Contains("no such file", ex.Message);
        Assert.Contains("model.safetensors", ex.Message);
    }

    [Fact]
    public void Network_failure_gives_up_after_bounded_retries_with_a_clear_message()
    {
        var options = _env.Options() with { Endpoint = HubTestEnv.DeadEndpoint() };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/anything", options));
        Assert.Contains("network error", ex.Message);
        Assert.Contains("gave up after 6 attempts", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void A_renamed_repository_is_followed_through_a_relative_redirect()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 9);
        _env.Hub.AddRepo("acme/new-name", files);
        _env.Hub.AddAlias("acme/old-name", "acme/new-name");
        using var local = CheckpointLoader.Open(_env.Local("r", files));
        using var remote = HubLoader.Open("hf:acme/old-name", _env.Options(token: "tok"));
        HubAssert.SameTensors(local, remote, floatChecks: 1);
        Assert.Contains(_env.Hub.Origin.Log, r => r.Path.StartsWith("/api/models/acme/new-name/", StringComparison.Ordinal) && r.Header("Authorization") == "Bearer tok");
    }

    [Fact]
    public void Unknown_sizes_in_the_listing_are_learned_from_the_first_range()
    {
        var files = HubTestModels.LlamaFolder(Small, seed: 10, shards: 2);
        _env.Hub.AddRepo("acme/nosizes", files).ListSizes = false;
        using var local = CheckpointLoader.Open(_env.Local("n", files));
        using var remote = HubLoader.Open("hf:acme/nosizes", _env.Options());
        HubAssert.SameTensors(local, remote, floatChecks: 1);
        Assert.Equal(local.TotalBytes, remote.TotalBytes);
    }

    [Fact]
    public void Progress_reports_reach_the_total()
    {
        var files = HubTestModels.LlamaFolder(Small with { Layers = 4, Hidden = 256, Intermediate = 512 }, seed: 11);
        _env.Hub.AddRepo("acme/progress", files);
        var reports = new List<IO.Http.RemoteTransferStatus>();
        var progress = new SyncProgress(reports);
        using var remote = HubLoader.Open("hf:acme/progress", _env.Options() with { Progress = progress });
        foreach (var t in remote.Tensors) TensorReader.ContentHash(t);
        lock (reports)
        {
            Assert.NotEmpty(reports);
            Assert.Equal(remote.TotalBytes, reports[^1].TotalBytes);
            Assert.True(reports.Max(r => r.BytesFetched) >= remote.TotalBytes);
            Assert.Equal("acme/progress@main", reports[^1].Name);
        }
    }

    private sealed class SyncProgress(List<IO.Http.RemoteTransferStatus> into) : IProgress<IO.Http.RemoteTransferStatus>
    {
        public void Report(IO.Http.RemoteTransferStatus value)
        {
            lock (into) into.Add(value);
        }
    }
}
