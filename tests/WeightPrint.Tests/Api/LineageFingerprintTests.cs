using WeightPrint.Tests.Support;
using WeightPrint.Comparison;

namespace WeightPrint.Tests.Api;

/// <summary>The front door makes a <see cref="Fingerprint"/> value from an opened model, which serialises both ways and
/// compares in place of the model.</summary>
public sealed class LineageFingerprintTests
{
    private static string Sample(params string[] parts) => Path.Combine([SharedModels.RepoRoot, "samples", .. parts]);

    [Fact]
    public async Task A_fingerprint_made_through_the_front_door_round_trips_and_convicts_a_converted_copy()
    {
        var options = new CompareOptions { Methods = ["pdf", "pcs"], Seed = 7 };
        using var original = await Lineage.OpenAsync(Sample("stories260K-hf-bf16"));
        Fingerprint fingerprint = await Lineage.FingerprintAsync(original, options);
        Assert.Equal(7, fingerprint.Seed);
        Assert.Contains("pdf", fingerprint.Signatures.Keys);
        Assert.NotEmpty(fingerprint.Samples);

        // Serialised both ways: the bytes written, read back and written again are the same.
        using var first = new MemoryStream();
        fingerprint.Write(first);
        first.Position = 0;
        var read = Fingerprint.Read(first, "memory");
        using var second = new MemoryStream();
        read.Write(second);
        Assert.Equal(first.ToArray(), second.ToArray());

        // In place of the model: the llama2.c original against the fingerprint of its BF16 copy.
        using var copy = await Lineage.OpenAsync(Sample("stories260K-llama2c", "stories260K.bin"));
        using var asInput = OpenedInput.Of(read, "stories260K-hf-bf16.fp");
        ComparisonResult result = await Lineage.CompareAsync(copy, asInput, options);
        Assert.Equal("derived", result.Verdict.Label);

        // A fingerprint opened as an input is returned as it is.
        Assert.Same(read, await Lineage.FingerprintAsync(asInput));
    }

    [Fact]
    public async Task Fingerprinting_observes_cancellation()
    {
        using var model = await Lineage.OpenAsync(Sample("stories260K-hf-bf16"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lineage.FingerprintAsync(model, null, cancelled.Token));
    }
}
