using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.Tests.Support;
using WeightPrint.IO;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>The real small checkpoints of shared/models, served by the fake Hub, read the same as from disk.</summary>
public sealed class HubSharedModelTests : IDisposable
{
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    [SkippableTheory]
    [InlineData("derived-stories260K-hf-sharded")]
    [InlineData("derived-stories260K-hf-bf16")]
    [InlineData("derived-stories260K-gguf-q8_0")]
    [InlineData("lora-gpt2-chessgpt")]
    [InlineData("tinypellm-herutriana")]
    [InlineData("tinygpt2-mlegkovskis-v3-trained")]
    [InlineData("l2c-stories260K")]
    public void Shared_model_reads_the_same_remotely(string folder)
    {
        string path = SharedModels.Require(folder);
        var files = HubTestModels.ReadFolder(path);
        _env.Hub.AddRepo("shared/" + folder, files);
        Checkpoint? local = null;
        InvalidModelFileException? localError = null;
        try
        {
            local = CheckpointLoader.Open(path);
        }
        catch (InvalidModelFileException e)
        {
            localError = e;
        }

        using (local)
        {
            if (localError != null)
            {
                // Whatever the local loader says about this folder, the remote one says too.
                var remoteError = Assert.Throws<InvalidModelFileException>(() => HubLoader.Open("hf:shared/" + folder, _env.Options()));
                Assert.Equal(localError.Problem, remoteError.Problem);
                return;
            }

            using var remote = HubLoader.Open("hf:shared/" + folder, _env.Options());
            Assert.Equal(local!.Format, remote.Format);
            Assert.Equal(local.TotalBytes, remote.TotalBytes);
            Assert.Equal(local.Vocabulary?.Count, remote.Vocabulary?.Count);
            Assert.Equal(local.Config?.GetRawText(), remote.Config?.GetRawText());
            HubAssert.SameTensors(local, remote);
        }
    }

    [SkippableFact]
    public void Shared_sharded_model_survives_a_hostile_network()
    {
        string path = SharedModels.Require("derived-stories260K-hf-sharded");
        _env.Hub.AddRepo("shared/sharded", HubTestModels.ReadFolder(path));
        _env.Hub.Inject(new Fault(FaultKind.Reset, Bytes: 5000), times: 3);
        _env.Hub.Inject(new Fault(FaultKind.Status, Status: 503, RetryAfter: "0"), times: 3);
        _env.Hub.Inject(new Fault(FaultKind.FullBody), times: 2);
        _env.Hub.Inject(new Fault(FaultKind.Truncate, Bytes: 7000), times: 2);
        _env.Hub.Inject(new Fault(FaultKind.WrongContentRange, Bytes: 512), times: 2);
        using var local = CheckpointLoader.Open(path);
        using var remote = HubLoader.Open("hf:shared/sharded", _env.Options(diskCache: false));
        HubAssert.SameTensors(local, remote);
        Assert.True(HubLoader.TransferOf(remote)!.Retries >= 10);
    }
}
