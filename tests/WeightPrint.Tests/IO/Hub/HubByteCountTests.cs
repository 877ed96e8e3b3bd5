using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using Xunit.Abstractions;
using WeightPrint.Loading;

namespace WeightPrint.Tests.Hub;

/// <summary>How much is fetched for a header-only inspect and for the attention tensors, against the model size.</summary>
public sealed class HubByteCountTests(ITestOutputHelper output) : IDisposable
{
    private readonly HubTestEnv _env = new();

    public void Dispose() => _env.Dispose();

    private static HttpReadOptions DefaultsWithFastFailure(int blockBytes) => new HttpReadOptions() with
    {
        BlockBytes = blockBytes,
        RetryBudget = TimeSpan.FromSeconds(15),
        BaseBackoff = TimeSpan.FromMilliseconds(5),
        IdleTimeout = TimeSpan.FromSeconds(5),
    };

    [Theory]
    [InlineData(HttpReadOptions.DefaultBlockBytes)]
    [InlineData(256 << 10)]
    public void Header_only_and_attention_reads_fetch_a_small_part_of_the_model(int blockBytes)
    {
        // 8 layers, hidden 512, GQA 8/4, bf16: about 65 MB, attention about 12 MB of it.
        var shape = new HubTestModels.LlamaShape(Layers: 8, Hidden: 512, Intermediate: 1408, Vocab: 8000, KvHeads: 4, Heads: 8);
        var files = HubTestModels.LlamaFolder(shape, seed: 41);
        _env.Hub.AddRepo("acme/measured", files);
        long fileBytes = files["model.safetensors"].Length;
        using var local = CheckpointLoader.Open(_env.Local("m", files));
        var options = _env.Options(http: DefaultsWithFastFailure(blockBytes));

        long headerOnly;
        using (var inspect = HubLoader.Open("hf:acme/measured", options))
        {
            headerOnly = HubLoader.TransferOf(inspect)!.BytesFetched;
            Assert.Equal(fileBytes, inspect.TotalBytes);
        }

        using var remote = HubLoader.Open("hf:acme/measured", _env.Options(http: DefaultsWithFastFailure(blockBytes), diskCache: false));
        var transfer = HubLoader.TransferOf(remote)!;
        long afterOpen = transfer.BytesFetched;
        long attentionBytes = 0;
        for (int l = 0; l < shape.Layers; l++)
        {
            foreach (var p in new[] { "q", "k", "v", "o" })
            {
                string name = $"model.layers.{l}.self_attn.{p}_proj.weight";
                var t = remote.Find(name)!;
                attentionBytes += t.ByteLength;
                Assert.Equal(TensorReader.ContentHash(local.Find(name)!), TensorReader.ContentHash(t));
            }
        }

        long attentionFetched = transfer.BytesFetched - afterOpen;
        output.WriteLine($"block size {blockBytes:N0} bytes");
        output.WriteLine($"model.safetensors {fileBytes:N0} bytes; sidecars config.json {files["config.json"].Length:N0} + tokenizer.json {files["tokenizer.json"].Length:N0}");
        output.WriteLine($"header-only inspect fetched {headerOnly:N0} bytes ({100.0 * headerOnly / fileBytes:0.0}% of the weights file), API listing included");
        output.WriteLine($"attention q/k/v/o data {attentionBytes:N0} bytes; fetched {attentionFetched:N0} ({100.0 * attentionFetched / fileBytes:0.0}% of the file, {(double)attentionFetched / attentionBytes:0.00}x the attention data); requests {transfer.Requests}");

        // One block of the weights file plus the small JSON files and the listing.
        Assert.True(headerOnly <= blockBytes + files["config.json"].Length + files["tokenizer.json"].Length + 64 * 1024, $"header-only fetched {headerOnly}");
        Assert.True(attentionFetched >= attentionBytes);
        Assert.True(attentionFetched < fileBytes / 2, $"attention fetched {attentionFetched} of {fileBytes}");
        // Whole blocks are fetched: at most the blocks each layer's attention tensors touch (they are adjacent in the file).
        long perLayer = attentionBytes / shape.Layers;
        Assert.True(attentionFetched <= shape.Layers * ((perLayer / blockBytes + 2) * (long)blockBytes), $"attention fetched {attentionFetched}");
    }
}
