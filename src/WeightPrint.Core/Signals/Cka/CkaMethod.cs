using WeightPrint.Model;
using WeightPrint.Statistics;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.Cka;

/// <summary>
/// <c>cka</c>: unbiased linear CKA between corresponding weight matrices, treating residual-stream dimensions as the
/// examples and each matrix's other axis (Q/K/V output dimensions, O input dimensions, MLP neurons) as the features.
/// CKA is invariant to any orthogonal transform and isotropic rescaling of the features — head and neuron
/// permutations, per-layer Q/K and V/O rescaling, rotations inside heads — so only the residual dimensions need
/// aligning: they are mapped through the embeddings of tokens both vocabularies share (<see cref="ResidualAlignment"/>:
/// identity, Procrustes rotation, or a signed permutation found by LAP on the embedding column cosines). Layers are
/// paired by index, or one-to-one by LAP on the CKA matrix when depths differ.
/// </summary>
internal sealed class CkaMethod : SignalMethod
{
    /// <summary>Residual dimensions (examples) sampled.</summary>
    public const int MaxExamples = 256;

    /// <summary>Features sampled per matrix.</summary>
    public const int MaxFeatures = 512;

    /// <summary>Residual permutations drawn for the background.</summary>
    public const int BackgroundDraws = 200;

    private static readonly TensorRole[] Readers = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.MlpGate, TensorRole.MlpUp];
    private static readonly TensorRole[] Writers = [TensorRole.AttnO, TensorRole.MlpDown];

    public override string Id => "cka";

    public override string Description =>
        "Unbiased linear CKA (Song et al. 2012 HSIC estimator) between corresponding Q, K, V, O and dense MLP matrices, residual dimensions aligned through shared-token embeddings, averaged over paired layers.";

    public override string NullDescription =>
        $"Descriptive (no p-value). Background: the same score with model B's residual dimensions randomly re-paired ({BackgroundDraws} seeded draws), i.e. the CKA of unaligned residual streams as between unrelated models; the percentile is read off its normal approximation.";

    public override string FailureModes =>
        "Needs both vocabularies; if the embeddings were retrained or the tokenizer replaced, the residual streams cannot be aligned and CKA falls to the background; "
        + "independently trained models with the same tokenizer can partly align, raising the score without shared ancestry.";

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        if (a.View == null || b.View == null || a.IsFingerprint || b.IsFingerprint) return NotApplicable("cka compares weights and needs both models' weights (a fingerprint holds samples only)");
        var va = a.View;
        var vb = b.View;
        if (va.Vocabulary == null || vb.Vocabulary == null)
            return NotApplicable($"cka aligns residual streams through shared tokens and needs both vocabularies (tokenizer.json or GGUF tokens); missing for {(va.Vocabulary == null ? a.Label : b.Label)}");
        var blocksA = ModelParts.Blocks(va);
        var blocksB = ModelParts.Blocks(vb);
        if (blocksA.Count == 0 || blocksB.Count == 0) return NotApplicable("no transformer layers were recognised in " + (blocksA.Count == 0 ? a.Label : b.Label));
        int d = (int)(blocksA[0].Get(TensorRole.AttnQ)?.Columns ?? 0);
        int db = (int)(blocksB[0].Get(TensorRole.AttnQ)?.Columns ?? 0);
        if (d < 4 || d != db) return NotApplicable($"residual widths differ or are too small ({d} vs {db})");
        var alignment = ResidualAlignment.Estimate(va, vb, context.Seed, requireVocabulary: true, threads: context.Threads);
        if (alignment.Tokens < 2) return NotApplicable("the two vocabularies share too few tokens to align residual streams");

        int s = Math.Min(d, MaxExamples);
        var dims = ModelParts.Sample(d, s, ModelParts.DeriveSeed(context.Seed, "cka-examples"));
        context.Progress?.Begin(Id, blocksA.Count + blocksB.Count, "layers");
        var gramsA = blocksA.Select(l => Counted(Grams(l, null, dims, context.Seed), context)).ToArray();
        var gramsB = blocksB.Select(l => Counted(Grams(l, alignment, dims, context.Seed), context)).ToArray();
        var selfA = gramsA.Select(g => g.ToDictionary(kv => kv.Key, kv => Statistics.Cka.UnbiasedHsic(kv.Value, kv.Value, s))).ToArray();
        var selfB = gramsB.Select(g => g.ToDictionary(kv => kv.Key, kv => Statistics.Cka.UnbiasedHsic(kv.Value, kv.Value, s))).ToArray();

        double LayerCka(int i, int j, int[]? perm)
        {
            double sum = 0;
            int n = 0;
            foreach (var (role, ka) in gramsA[i])
            {
                if (!gramsB[j].TryGetValue(role, out var kb)) continue;
                double xx = selfA[i][role], yy = selfB[j][role];
                if (!(xx > 0) || !(yy > 0)) continue;
                double xy = Statistics.Cka.UnbiasedHsic(ka, perm == null ? kb : Permute(kb, perm, s), s);
                sum += xy / Math.Sqrt(xx * yy);
                n++;
            }

            return n == 0 ? double.NaN : sum / n;
        }

        var matrix = new double[blocksA.Count][];
        for (int i = 0; i < blocksA.Count; i++)
        {
            matrix[i] = new double[blocksB.Count];
            for (int j = 0; j < blocksB.Count; j++) matrix[i][j] = LayerCka(i, j, null);
        }

        var pairs = LayerPairing.FromMatrix(matrix, out string pairing);
        pairs = pairs.Where(p => double.IsFinite(matrix[p.A][p.B])).ToList();
        if (pairs.Count == 0) return NotApplicable("no layer pair has matrices of matching roles to compare");
        double score = pairs.Average(p => matrix[p.A][p.B]);

        var rnd = new Random(ModelParts.DeriveSeed(context.Seed, "cka-background"));
        var background = new double[BackgroundDraws];
        for (int k = 0; k < BackgroundDraws; k++)
        {
            var perm = PermutationTest.RandomPermutation(s, rnd);
            background[k] = pairs.Average(p => LayerCka(p.A, p.B, perm));
        }

        double mean = background.Average();
        double sd = Math.Sqrt(background.Sum(x => (x - mean) * (x - mean)) / (BackgroundDraws - 1));
        double z = sd > 0 ? (score - mean) / sd : 0;
        double percentile = Distributions.NormalCdf(z);
        var evidence = z > 6 && score > 0.3 ? Evidence.Derived : percentile < 0.95 ? Evidence.Independent : Evidence.Unclear;
        var perLayer = pairs.Select(p => new LayerScore(blocksA[p.A].Index, blocksB[p.B].Index, matrix[p.A][p.B])).ToList();
        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = null,
            NullDescription = NullDescription,
            BackgroundPercentile = 100 * percentile, // JSON contract: percentiles on the 0–100 scale
            PerLayer = perLayer,
            LayerMatrix = matrix,
            Evidence = evidence,
            Details = new CkaDetails(z, mean, sd, s, MaxFeatures, pairing, alignment.ToDetails(), context.Seed),
            Summary = $"mean CKA {score:F3} over {pairs.Count} layer pairs (unaligned background {mean:F3} ± {sd:F3}, z = {z:F1}); residual streams aligned by {alignment.Kind}",
        };
    }

    /// <summary>Per role, the s × s Gram matrix over the sampled residual dimensions (A-space) of the layer's matrix.</summary>
    private static Dictionary<TensorRole, double[]> Grams(LayerView layer, ResidualAlignment? alignment, int[] dims, int seed)
    {
        var grams = new Dictionary<TensorRole, double[]>();
        int s = dims.Length;
        foreach (var role in Readers.Concat(Writers))
        {
            if (layer.Get(role) is not { } t) continue;
            bool writer = Writers.Contains(role);
            int features = (int)(writer ? t.Columns : t.Rows);
            var f = ModelParts.Sample(features, Math.Min(features, MaxFeatures), ModelParts.DeriveSeed(seed, "cka-features-" + role));
            float[] x = writer
                ? alignment == null ? ResidualAlignment.ReadWriterAsIs(t, f, dims) : alignment.ReadWriter(t, f, dims)
                : alignment == null ? ResidualAlignment.ReadReaderAsIs(t, f, dims) : alignment.ReadReader(t, f, dims);
            var examples = ModelParts.Transpose(x, f.Length, s); // s × features
            grams[role] = LinearAlgebra.Gram(examples, s, f.Length);
        }

        return grams;
    }

    private static double[] Permute(double[] k, int[] perm, int s)
    {
        var r = new double[k.Length];
        for (int i = 0; i < s; i++)
        {
            int pi = perm[i] * s;
            for (int j = 0; j < s; j++) r[i * s + j] = k[pi + perm[j]];
        }

        return r;
    }

    /// <summary>Reports one layer done and passes its Gram matrices on.</summary>
    private static T Counted<T>(T grams, MethodContext context)
    {
        context.Progress?.Advance(1);
        return grams;
    }
}
