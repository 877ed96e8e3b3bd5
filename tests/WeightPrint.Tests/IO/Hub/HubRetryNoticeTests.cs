using System.Net.Http;
using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>Issue 14, item 9: transient Hub failures are told ("retrying (2/8)…"); name-resolution failures fail at once.</summary>
public sealed class HubRetryNoticeTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 2, Hidden: 64, Intermediate: 160, Vocab: 256);
    private readonly HubTestEnv _env = new();
    private readonly Dictionary<string, byte[]> _files = HubTestModels.LlamaFolder(Shape, seed: 5);

    public HubRetryNoticeTests() => _env.Hub.AddRepo("acme/noisy", _files);

    public void Dispose() => _env.Dispose();

    [Fact]
    public void Each_retry_of_a_transient_failure_is_told_with_its_attempt_number()
    {
        var notices = new List<string>();
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 503), times: 2);
        var options = _env.Options(diskCache: false);
        options = options with { Http = options.Http with { Retrying = n => { lock (notices) notices.Add(n); } } };
        using (var remote = HubLoader.Open("hf:acme/noisy", options))
        {
            foreach (var t in remote.Tensors) TensorReader.ContentHash(t);
        }

        Assert.True(notices.Count >= 2, string.Join("\n", notices));
        Assert.Contains(notices, n => n.Contains($"retrying (2/{options.Http.MaxAttempts})", StringComparison.Ordinal) && n.Contains("503", StringComparison.Ordinal));
    }

    [Fact]
    public void Name_resolution_failures_are_not_retried()
    {
        Assert.True(HttpFetcher.IsNameResolutionFailure(new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known (huggingface.co:443)")));
        Assert.True(HttpFetcher.IsNameResolutionFailure(new HttpRequestException("x", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound))));
        Assert.False(HttpFetcher.IsNameResolutionFailure(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")));
    }
}
