using WeightPrint.Model;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// Which rows and columns the sampling methods (pcs, neuron-match) read, as seeded CONTIGUOUS index blocks that
/// depend only on a tensor's shape, its role and the seed — never on the weights, on the other model, or on the
/// file layout. Under the null (independent initialisation) the order of neurons and of residual dimensions is
/// exchangeable, so a block starting at a seeded offset is as good a sample as scattered indices, and a block of
/// rows is one contiguous byte range in every row-major format (few HTTP range requests). A fingerprint stores
/// exactly these blocks, so a fingerprint and the full model give the methods the same values.
/// <list type="bullet">
/// <item>residual block: <see cref="ResidualDims"/> residual dimensions (neuron-match's cosines); pcs uses its
/// first <see cref="PcsResidualDims"/>;</item>
/// <item>neuron block: <see cref="Neurons"/> MLP neurons, the same for every layer and expert (neuron-match's
/// matched rows; pcs's rows of gate/up and columns of down);</item>
/// <item>token block: <see cref="Tokens"/> token ids (embedding rows for residual alignment; pcs uses the first
/// <see cref="OtherRows"/> as its embedding and LM-head rows);</item>
/// <item>other block: <see cref="OtherRows"/> indices of the non-residual axis of an attention projection, per role.</item>
/// </list>
/// </summary>
internal static class SampleLayout
{
    /// <summary>Version of this layout; a fingerprint records it and is refused by a layout it does not match.</summary>
    public const int Version = 1;

    public const int ResidualDims = 512;

    public const int PcsResidualDims = 256;

    public const int Neurons = 256;

    public const int OtherRows = 256;

    public const int Tokens = 512;

    /// <summary>k consecutive indices of 0..n−1 starting at a seeded offset (all of them when k ≥ n).</summary>
    public static int[] Block(int n, int k, int seed, string purpose)
    {
        if (k >= n) return Enumerable.Range(0, Math.Max(0, n)).ToArray();
#pragma warning disable CA5394 // sampling, not security
        int start = new Random(ModelParts.DeriveSeed(seed, purpose)).Next(n - k + 1);
#pragma warning restore CA5394
        return Enumerable.Range(start, k).ToArray();
    }

    /// <summary>neuron-match's residual dimensions.</summary>
    public static int[] Residual(int d, int seed) => Block(d, ResidualDims, seed, "sample-residual");

    /// <summary>pcs's residual dimensions: the start of <see cref="Residual"/>.</summary>
    public static int[] PcsResidual(int d, int seed)
    {
        var r = Residual(d, seed);
        return r[..Math.Min(r.Length, PcsResidualDims)];
    }

    /// <summary>The sampled neurons of an MLP with <paramref name="n"/> neurons.</summary>
    public static int[] NeuronBlock(int n, int seed) => Block(n, Neurons, seed, "sample-neurons");

    /// <summary>The sampled token ids of a vocabulary of <paramref name="vocab"/> rows.</summary>
    public static int[] TokenBlock(int vocab, int seed) => Block(vocab, Tokens, seed, "sample-tokens");

    /// <summary>
    /// pcs's sample of a tensor's non-residual axis (rows of readers, columns of writers) of length n, by role:
    /// MLP tensors use the neuron block, embedding and LM head the start of the token block, attention projections
    /// a block per role.
    /// </summary>
    public static int[] Other(string role, int n, int seed) => role switch
    {
        "gate" or "up" or "down" or nameof(TensorRole.MlpGate) or nameof(TensorRole.MlpUp) or nameof(TensorRole.MlpDown) => NeuronBlock(n, seed),
        "embedding" or "lm_head" => TokenBlock(n, seed)[..Math.Min(n, OtherRows)],
        _ => Block(n, OtherRows, seed, "sample-other-" + role),
    };

    /// <summary>True when the view is a fingerprint's sample (<see cref="SampledTensorView"/>), not the model's weights.</summary>
    public static bool IsSampled(TensorView? t) => t is SampledTensorView;

    /// <summary>True when the row can be read: always for a model, for a fingerprint when it stored the row.</summary>
    public static bool HasRow(TensorView t, int row) => t is not SampledTensorView s || s.HasRow(row);

    /// <summary>The indices a method may use as "every neuron" of a tensor's rows: all rows of a model, the stored
    /// rows of a fingerprint's sample.</summary>
    public static int[] AvailableRows(TensorView t)
        => t is SampledTensorView s ? s.StoredRows() : Enumerable.Range(0, checked((int)t.Rows)).ToArray();
}
