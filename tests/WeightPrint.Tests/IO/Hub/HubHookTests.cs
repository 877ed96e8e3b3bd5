using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.Tests.Support;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>ModelSource.Open and the CLI accept hf: references (through <see cref="HubLoader.DefaultOptions"/>).
/// The tests of this class share that static, so they run one after another.</summary>
public sealed class HubHookTests : IDisposable
{
    private readonly HubTestEnv _env = new();

    public HubHookTests() => HubLoader.DefaultOptions = _env.Options();

    public void Dispose()
    {
        HubLoader.DefaultOptions = null;
        _env.Dispose();
    }

    [Fact]
    public void ModelSource_opens_hub_references()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 51);
        var repo = _env.Hub.AddRepo("acme/hooked", files);
        using var local = CheckpointLoader.Open(_env.Local("h", files));
        using var remote = ModelSource.Open("hf:acme/hooked@main");
        Assert.Equal(repo.Refs["main"], remote.Metadata["hub.commit"]);
        HubAssert.SameTensors(local, remote, floatChecks: 1);
    }

    [Fact]
    public void Inspect_prints_the_commit_and_fails_cleanly_for_a_missing_repo()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 52);
        var repo = _env.Hub.AddRepo("acme/inspected", files);
        var r = CliRunner.Run("inspect", "hf:acme/inspected", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(repo.Refs["main"], doc.RootElement.GetProperty("metadata").GetProperty("hub.commit").GetString());
        Assert.Equal("hf:acme/inspected", doc.RootElement.GetProperty("path").GetString());

        var bad = CliRunner.Run("inspect", "hf:acme/missing");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        Assert.Contains("no such repository", bad.Stderr);
    }

    [Fact]
    public void Fingerprint_shows_fetched_bytes_against_the_model_size_and_sums_them_up()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(Layers: 4, Hidden: 256, Intermediate: 1024, Vocab: 2048), seed: 53);
        var repo = _env.Hub.AddRepo("acme/printed", files);
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "fp.json");
        var r = CliRunner.Run("fingerprint", "hf:acme/printed", "--methods", "pdf", "--progress", "-o", output);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("opening hf:acme/printed", r.Stderr);
        Assert.Matches(@"reading hf:acme/printed \(pdf\).*· fetched [0-9.]+ [kMG]?B of [0-9.]+ [kMG]?B", r.Stderr);
        var summary = System.Text.RegularExpressions.Regex.Match(r.Stderr,
            @"hf:acme/printed @ ([0-9a-f]{40}): fetched .* of .* \(([0-9.]+)%\) in \d+ requests \(\d+ retried\)");
        Assert.True(summary.Success, r.Stderr);
        Assert.Equal(repo.Refs["main"], summary.Groups[1].Value);
        Assert.InRange(double.Parse(summary.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 0.1, 99.9);

        var quiet = CliRunner.Run("fingerprint", "hf:acme/printed", "--methods", "pdf", "--quiet", "-o", output);
        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal("", quiet.Stderr);
    }

    [Fact]
    public void Identify_of_a_Hub_model_fetches_no_more_than_its_fingerprint_and_finds_its_base()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(Layers: 4, Hidden: 256, Intermediate: 1024, Vocab: 2048), seed: 55);
        _env.Hub.AddRepo("acme/suspect", files);
        using var dir = new TempDir();
        string db = Path.Combine(dir.Path, "c.db");
        Assert.Equal(0, CliRunner.Run("db", "add", _env.Local("base", files), "--name", "base", "--db", db).ExitCode);
        static double Fetched(string stderr)
        {
            var m = System.Text.RegularExpressions.Regex.Match(stderr, @"hf:acme/suspect @ [0-9a-f]{40}: fetched .* \(([0-9.]+)%\)");
            Assert.True(m.Success, stderr);
            return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        var fp = CliRunner.Run("fingerprint", "hf:acme/suspect", "-o", Path.Combine(dir.Path, "fp.json"));
        Assert.Equal(0, fp.ExitCode);
        Assert.Equal(0, CliRunner.Run("cache", "clear").ExitCode);
        var r = CliRunner.Run("identify", "hf:acme/suspect", "--db", db, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("derived", (string)System.Text.Json.Nodes.JsonNode.Parse(r.Stdout)!["best"]!["label"]!);
        // The sampled rows only (plus the listing and headers): the whole-tensor methods do not read the remote model.
        Assert.InRange(Fetched(r.Stderr), 0, Fetched(fp.Stderr) + 0.5);
    }

    [Fact]
    public void A_Hub_fingerprint_records_each_LFS_file_s_SHA_256_from_the_listing()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 54);
        var repo = _env.Hub.AddRepo("acme/hashed", files);
        repo.ListLfs = true;
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "fp.json");
        var r = CliRunner.Run("fingerprint", "hf:acme/hashed", "-o", output);
        Assert.Equal(0, r.ExitCode);
        // Without --methods, a Hub fingerprint holds the samples only (the signatures would read whole tensors), and says so.
        Assert.Contains("hf:acme/hashed: samples only", r.Stderr);
        var fp = WeightPrint.Comparison.Fingerprint.ReadFile(output);
        Assert.Empty(fp.Signatures);
        Assert.NotEmpty(fp.Samples);
        Assert.Equal("hub", fp.Source!.Kind);
        Assert.Equal(repo.Refs["main"], fp.Source.Commit);
        var weights = fp.Source.Files.Where(f => f.Name.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(weights);
        foreach (var f in weights) Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(files[f.Name])), f.Sha256);
        // Files outside Git LFS have no hash in the listing: none is recorded (never a made-up one).
        Assert.All(fp.Source.Files.Where(f => !f.Name.EndsWith(".safetensors", StringComparison.Ordinal)), f => Assert.Null(f.Sha256));

        // Pinned to the commit, the listing comes from the WeightPrint cache: the hashes survive it.
        var again = CliRunner.Run("fingerprint", $"hf:acme/hashed@{repo.Refs["main"]}", "--methods", "pcs", "--quiet", "-o", output);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(weights, WeightPrint.Comparison.Fingerprint.ReadFile(output).Source!.Files.Where(f => f.Name.EndsWith(".safetensors", StringComparison.Ordinal)));
    }

    [Fact]
    public void Cache_info_and_clear_report_and_empty_the_block_cache()
    {
        var files = HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 52);
        _env.Hub.AddRepo("acme/info", files);
        Assert.Equal(0, CliRunner.Run("inspect", "hf:acme/info").ExitCode);
        var info = CliRunner.Run("cache", "info");
        Assert.Equal(0, info.ExitCode);
        Assert.Contains(_env.WpCache, info.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"blocks  [1-9][0-9,]* files", info.Stdout);
        Assert.Contains("cap     21,474,836,480 bytes", info.Stdout, StringComparison.Ordinal);
        var clear = CliRunner.Run("cache", "clear");
        Assert.Equal(0, clear.ExitCode);
        Assert.False(Directory.Exists(_env.WpCache));
        Assert.Contains("blocks  0 files", CliRunner.Run("cache", "info").Stdout, StringComparison.Ordinal);
    }
}
