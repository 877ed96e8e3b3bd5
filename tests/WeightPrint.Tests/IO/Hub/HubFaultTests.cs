using System.Diagnostics;
using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>Each injected fault either gives exactly the local tensors or a clear one-line error, quickly.</summary>
public sealed class HubFaultTests : IDisposable
{
    private static readonly HubTestModels.LlamaShape Shape = new(Layers: 2, Hidden: 128, Intermediate: 320, Vocab: 512);
    private readonly HubTestEnv _env = new();
    private readonly Dictionary<string, byte[]> _files = HubTestModels.LlamaFolder(Shape, seed: 21);
    private readonly Checkpoint _local;

    public HubFaultTests()
    {
        _env.Hub.AddRepo("acme/flaky", _files);
        _local = CheckpointLoader.Open(_env.Local("flaky", _files));
    }

    public void Dispose()
    {
        _local.Dispose();
        _env.Dispose();
    }

    /// <summary>Opens the model (no disk cache, so every block comes from the server) and checks every tensor.</summary>
    private IO.Http.RemoteTransfer ReadAllAndCompare()
    {
        using var remote = HubLoader.Open("hf:acme/flaky", _env.Options(diskCache: false));
        HubAssert.SameTensors(_local, remote);
        return HubLoader.TransferOf(remote)!;
    }

    private InvalidModelFileException ReadAllExpectingError()
    {
        return Assert.Throws<InvalidModelFileException>(() =>
        {
            using var remote = HubLoader.Open("hf:acme/flaky", _env.Options(diskCache: false));
            foreach (var t in remote.Tensors) TensorReader.ContentHash(t);
        });
    }

    [Fact]
    public void Connections_reset_mid_range_are_resumed()
    {
        _env.Hub.Inject(new Fault(FaultKind.Reset, Bytes: 20_000), times: 4);
        var transfer = ReadAllAndCompare();
        Assert.True(transfer.Retries >= 4, $"retries {transfer.Retries}");
        // A resumed range asks for the missing tail only.
        Assert.Contains(_env.Hub.Cdn.Log, r => r.Range is var (s, _) && s % (64 << 10) != 0);
    }

    [Fact]
    public void Truncated_bodies_are_detected_and_resumed()
    {
        _env.Hub.Inject(new Fault(FaultKind.Truncate, Bytes: 30_000), times: 3);
        var transfer = ReadAllAndCompare();
        Assert.True(transfer.Retries >= 3);
    }

    [Fact]
    public void Server_errors_are_retried()
    {
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 500), times: 3);
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 503), times: 1, server: "origin", pathContains: "/api/", rangedOnly: false);
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 502), times: 1, server: "origin", pathContains: "/resolve/");
        var transfer = ReadAllAndCompare();
        Assert.True(transfer.Retries >= 5);
    }

    [Fact]
    public void Rate_limits_wait_as_long_as_retry_after_asks()
    {
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 429, RetryAfter: "1"), times: 1);
        var clock = Stopwatch.StartNew();
        var transfer = ReadAllAndCompare();
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"took {clock.Elapsed}");
        Assert.True(transfer.Retries >= 1);
    }

    [Fact]
    public void A_retry_after_beyond_the_limit_fails_at_once_with_the_reason()
    {
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 429, RetryAfter: "3600"), times: 100, server: "origin", pathContains: "/api/", rangedOnly: false);
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:acme/flaky", _env.Options(diskCache: false)));
        Assert.Contains("429", ex.Message);
        Assert.Contains("asks to wait 3600 s", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_wrong_content_range_is_never_used_as_data()
    {
        _env.Hub.Inject(new Fault(FaultKind.WrongContentRange, Bytes: 4096), times: 2);
        var transfer = ReadAllAndCompare();
        Assert.True(transfer.Retries >= 2);
    }

    [Fact]
    public void A_persistently_wrong_content_range_is_a_clear_error()
    {
        _env.Hub.Inject(new Fault(FaultKind.WrongContentRange, Bytes: 4096), times: 1000);
        var ex = ReadAllExpectingError();
        Assert.Contains("Content-Range", ex.Message);
        Assert.Contains("gave up after 6 attempts", ex.Message);
    }

    [Fact]
    public void A_size_change_on_the_server_is_a_clear_error()
    {
        _env.Hub.Inject(new Fault(FaultKind.WrongTotal), times: 1000);
        var ex = ReadAllExpectingError();
        Assert.Contains("the file changed on the server", ex.Message);
    }

    [Fact]
    public void A_full_body_answer_to_a_range_request_yields_only_the_wanted_bytes()
    {
        _env.Hub.Inject(new Fault(FaultKind.FullBody), times: 1000);
        var transfer = ReadAllAndCompare();
        Assert.True(transfer.BytesFetched > _files["model.safetensors"].Length, "200 answers stream past the prefix, so more bytes arrive than the file holds");
    }

    [Fact]
    public void Slow_responses_still_give_the_same_values()
    {
        _env.Hub.Inject(new Fault(FaultKind.Slow, Delay: TimeSpan.FromMilliseconds(2)), times: 5);
        ReadAllAndCompare();
    }

    [Fact]
    public void A_stalled_response_is_abandoned_after_the_idle_timeout_and_resumed()
    {
        var http = HubTestEnv.FastHttp() with { IdleTimeout = TimeSpan.FromMilliseconds(400) };
        // A 12 s stall against a 0.4 s idle timeout: abandoning it finishes far below 8 s even on a loaded machine (a
        // 5 s stall with a 4.5 s bound failed under load), waiting it out cannot.
        _env.Hub.Inject(new Fault(FaultKind.Stall, Bytes: 10_000, Delay: TimeSpan.FromSeconds(12)), times: 1);
        var clock = Stopwatch.StartNew();
        using var remote = HubLoader.Open("hf:acme/flaky", _env.Options(diskCache: false, http: http));
        HubAssert.SameTensors(_local, remote);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}: the stall was waited out instead of abandoned");
        Assert.True(HubLoader.TransferOf(remote)!.Retries >= 1);
    }

    [Fact]
    public void Persistent_server_errors_fail_after_bounded_attempts()
    {
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 500), times: 1000);
        var clock = Stopwatch.StartNew();
        var ex = ReadAllExpectingError();
        Assert.Contains("server error (500", ex.Message);
        Assert.Contains("gave up after 6 attempts", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void An_expired_cdn_address_is_resolved_again_through_the_hub()
    {
        // The first range follows the redirect; later ranges reuse the CDN address until it answers 403.
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 403), times: 1, skip: 3);
        var transfer = ReadAllAndCompare();
        Assert.True(_env.Hub.Origin.Log.Count(r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.Path.EndsWith(".safetensors", StringComparison.Ordinal)) >= 2);
        Assert.True(transfer.Retries >= 1);
    }
}
