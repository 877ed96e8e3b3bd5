using System.Diagnostics;
using System.Text.Json.Nodes;
using WeightPrint.IO;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Hub;

/// <summary>
/// Issue 16, item 4: two weightprint processes (the built CLI, each its own process) fetching the same model through
/// the fake Hub into the same cache directory at the same time both print the right fingerprint, and the cache they
/// leave behind is consistent: complete enough to serve the model offline, with no temporary files left, and the
/// same answer again. Also: a lying Hub is exit code 2 with one line through the CLI.
/// </summary>
public sealed class HubCacheProcessTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 4, Hidden: 256, Intermediate: 512, Vocab: 512, KvHeads: 8, Heads: 8);
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(4);
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    /// <summary>The environment a CLI process sees: the fake Hub, caches in the test's folder, no token, online.</summary>
    private Dictionary<string, string?> Environment(bool offline = false) => new()
    {
        ["HF_ENDPOINT"] = _env.Hub.Endpoint.AbsoluteUri.TrimEnd('/'),
        ["HF_HOME"] = _env.Temp.File("hf-home"),
        ["HF_HUB_CACHE"] = _env.HfCache,
        ["WEIGHTPRINT_CACHE"] = _env.WpCache,
        ["XDG_CACHE_HOME"] = _env.Temp.File("xdg"),
        ["HF_HUB_OFFLINE"] = offline ? "1" : null,
        ["HF_TOKEN"] = null,
        ["HUGGING_FACE_HUB_TOKEN"] = null,
        ["HF_TOKEN_PATH"] = null,
        ["HUGGINGFACE_HUB_CACHE"] = null,
        ["WEIGHTPRINT_CACHE_MAX"] = null,
    };

    private static (int Code, string Stdout, string Stderr) Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the CLI did not finish in time");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static JsonNode Methods(string path) => JsonNode.Parse(File.ReadAllText(path))!["methods"]!;

    [Fact]
    public void Two_processes_filling_one_cache_at_once_both_print_the_right_fingerprint()
    {
        var files = HubTestModels.LlamaFolder(Shape, seed: 91, shards: 2);
        _env.Hub.AddRepo("acme/together", files);
        string local = _env.Local("together", files);
        // Slow ranges (16 KiB every 5 ms) keep both processes fetching at the same time.
        _env.Hub.Inject(new Fault(FaultKind.Slow, Delay: TimeSpan.FromMilliseconds(5)), times: 100_000);

        string reference = _env.Temp.File("local.json");
        var r0 = Finish(FingerprintFiles.StartCli("fingerprint", local, "--methods", "pdf", "--quiet", "-o", reference));
        Assert.True(r0.Code == 0, r0.Stderr);

        string a = _env.Temp.File("a.json"), b = _env.Temp.File("b.json");
        var clock = Stopwatch.StartNew();
        using var pa = FingerprintFiles.StartCli(Environment(), "fingerprint", "hf:acme/together", "--methods", "pdf", "--quiet", "-o", a);
        using var pb = FingerprintFiles.StartCli(Environment(), "fingerprint", "hf:acme/together", "--methods", "pdf", "--quiet", "-o", b);
        var ra = Finish(pa);
        var rb = Finish(pb);
        Assert.True(ra.Code == 0, ra.Stderr);
        Assert.True(rb.Code == 0, rb.Stderr);
        Assert.True(JsonNode.DeepEquals(Methods(reference), Methods(a)), "process A's fingerprint differs from the local one");
        Assert.True(JsonNode.DeepEquals(Methods(reference), Methods(b)), "process B's fingerprint differs from the local one");

        // The cache is consistent: no temporary files, and it alone serves the same fingerprint offline.
        Assert.Empty(Directory.GetFiles(_env.WpCache, "*.tmp", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.GetFiles(_env.WpCache, "*", SearchOption.AllDirectories));
        long served = _env.Hub.BytesServed;
        _env.Hub.Stop();
        string c = _env.Temp.File("c.json");
        var rc = Finish(FingerprintFiles.StartCli(Environment(offline: true), "fingerprint", "hf:acme/together", "--methods", "pdf", "--quiet", "-o", c));
        Assert.True(rc.Code == 0, rc.Stderr);
        Assert.True(JsonNode.DeepEquals(Methods(reference), Methods(c)), "the offline fingerprint from the shared cache differs");
        Assert.Equal(served, _env.Hub.BytesServed);
    }

    [Theory]
    [InlineData("Gzip", "Content-Encoding gzip")]
    [InlineData("WrongTotal", "changed on the server")]
    public void A_lying_hub_is_exit_code_2_with_one_line_through_the_cli(string kind, string expected)
    {
        _env.Hub.AddRepo("acme/liar", HubTestModels.LlamaFolder(new HubTestModels.LlamaShape(), seed: 92));
        _env.Hub.Inject(new Fault(Enum.Parse<FaultKind>(kind)), times: 100_000);
        string output = _env.Temp.File("out.json");
        var r = Finish(FingerprintFiles.StartCli(Environment(), "fingerprint", "hf:acme/liar", "--methods", "pdf", "--quiet", "-o", output));
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.True(lines[0].Length <= ErrorText.MaxLineChars + 20, lines[0]);
        Assert.False(File.Exists(output));
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }
}
