using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>A Hub that lies (issue 16, item 3): each lie ends in the right answer or one clear error, and nothing
/// is written outside the cache directory. (Ranges, truncation, 429, stalls and full bodies: HubFaultTests.)</summary>
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
}
