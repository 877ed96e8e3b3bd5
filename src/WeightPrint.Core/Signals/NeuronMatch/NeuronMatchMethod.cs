using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Statistics;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.NeuronMatch;

/// <summary>
/// <c>neuron-match</c>: the weight-only independence test of Zhu, Ahmed, Kuditipudi and Liang ("Independence
/// Tests for Language Models", ICML 2025). In each MLP, neurons of model A are matched one-to-one to neurons of
/// model B twice — once by the cosine similarity of their gate_proj rows, once by their up_proj rows (for MLPs
/// without a gate: up_proj rows and down_proj columns) — with an optimal linear assignment. If the models share
/// an ancestor both matchings recover the same correspondence, whatever order the neurons were permuted into; if
/// they were initialised independently, the up matching is a uniformly random injection independent of the gate
/// matching, so Spearman's ρ between the two matchings has its textbook null distribution. Per-layer one-sided
/// p-values are combined with Fisher's method.
/// <para>
/// Scale: for d_ff = 11 008 a full cost matrix is 11 008² floats (485 MB) and two LAPs per layer. Instead, a
/// seeded sample of <see cref="MaxNeurons"/> neurons of the narrower MLP is matched against every neuron of the
/// other (a rectangular LAP), using a seeded sample of <see cref="MaxResidualDims"/> residual dimensions for the
/// cosines. Both samples are chosen before looking at the weights, so the null distribution is unchanged: the
/// test stays exact, only its power (already overwhelming for derived models) is reduced.
/// </para>
/// <para>
/// Residual rotations and permutations: when the token embeddings show that B's residual stream is an orthogonal
/// transform of A's (<see cref="ResidualAlignment"/>, from embeddings only), B's rows are mapped into A's basis first.
/// </para>
/// </summary>
public sealed class NeuronMatchMethod : SignalMethod
{
    /// <summary>Neurons of the narrower MLP matched per layer.</summary>
    public const int MaxNeurons = SampleLayout.Neurons;

    /// <summary>Residual dimensions used for the neuron cosines.</summary>
    public const int MaxResidualDims = SampleLayout.ResidualDims;

    public override string Id => "neuron-match";

    public override string Description =>
        "Spearman correlation between the optimal one-to-one neuron matchings found from gate_proj rows and from up_proj rows (Zhu et al. 2025), per MLP, combined over layers with Fisher's method.";

    public override string NullDescription =>
        "Independent initialisation: the up-projection matching is then a uniformly random injection independent of the gate matching, so each MLP's ρ has "
        + "Spearman's null distribution (one-sided p from Student's t with n − 2 dof; exact enumeration for n ≤ 9); per-MLP p-values are combined by Fisher's method "
        + "(χ² with 2L dof). Neuron and residual-dimension samples are seeded and data-independent, so the test stays exact under this null.";

    public override string FailureModes =>
        "A residual rotation hides the correspondence unless the embeddings reveal it (shared tokens); MLPs retrained from scratch show no signal; "
        + "for trained independent models exactness rests on gate and up matchings being independent (Zhu et al.'s assumption).";

    private sealed record MlpOutcome(int LayerA, int LayerB, string Part, int Matched, double Rho, double PValue, double MeanCosineGate, double MeanCosineUp);

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        if (a.View == null || b.View == null) return NotApplicable("neuron-match compares weights and needs both models' weights");
        var va = a.View;
        var vb = b.View;
        var blocksA = ModelParts.Blocks(va);
        var blocksB = ModelParts.Blocks(vb);
        if (blocksA.Count == 0 || blocksB.Count == 0) return NotApplicable("no transformer layers were recognised in " + (blocksA.Count == 0 ? a.Label : b.Label));
        var pairs = LayerPairing.Pair(a, b, context, out string pairing);
        var jobs = new List<(int LayerA, int LayerB, MlpPart A, MlpPart B)>();
        foreach (var (ia, ib) in pairs)
        {
            foreach (var (ma, mb) in ModelParts.MlpPairs(blocksA[ia], blocksB[ib]))
            {
                if (ma.Up.Columns != mb.Up.Columns) continue;
                jobs.Add((blocksA[ia].Index, blocksB[ib].Index, ma, mb));
            }
        }

        if (jobs.Count == 0) return NotApplicable("no MLP pair with the same residual width (up_proj columns) in both models");
        var experts = ExpertMatching.Run(blocksA, blocksB, pairs, context.Seed, context.Threads);
        int d = (int)jobs[0].A.Up.Columns;
        var alignment = ResidualAlignment.Estimate(va, vb, context.Seed, threads: context.Threads);
        if (alignment.Dimension != d) alignment = ResidualAlignment.Identity(d, alignment.Note);
        if (!alignment.IsIdentity && SampleLayout.IsSampled(jobs[0].B.Up))
            alignment = ResidualAlignment.Identity(d, "B is a fingerprint's sample, whose residual stream cannot be mapped; weights are compared as stored");
        var dims = SampleLayout.Residual(d, context.Seed);

        var outcomes = new MlpOutcome?[jobs.Count];
        int innerThreads = Math.Max(1, context.Threads / Math.Max(1, Math.Min(jobs.Count, context.Threads)));
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Threads) }, j =>
        {
            var (la, lb, ma, mb) = jobs[j];
            outcomes[j] = MatchMlp(la, lb, ma, mb, alignment, dims, context.Seed, innerThreads);
        });
        var done = outcomes.OfType<MlpOutcome>().Where(o => !double.IsNaN(o.PValue)).ToList();
        if (done.Count == 0) return NotApplicable("no MLP had enough neurons to match (at least 3 are needed)");

        double p = Math.Max(FisherMethod.MinPValue, FisherMethod.Combine(done.Select(o => o.PValue).ToList()));
        double score = done.Average(o => o.Rho);
        var perLayer = done.GroupBy(o => (o.LayerA, o.LayerB)).Select(g => new LayerScore(g.Key.LayerA, g.Key.LayerB,
            g.Average(o => o.Rho), g.Count() == 1 ? g.First().PValue : FisherMethod.Combine(g.Select(o => o.PValue).ToList()))).ToList();
        var mlps = new JsonArray();
        foreach (var o in done)
        {
            mlps.Add((JsonNode)new JsonObject
            {
                ["layer_a"] = o.LayerA, ["layer_b"] = o.LayerB, ["part"] = o.Part, ["matched"] = o.Matched, ["rho"] = o.Rho, ["p_value"] = o.PValue,
                ["mean_matched_cosine_first"] = o.MeanCosineGate, ["mean_matched_cosine_second"] = o.MeanCosineUp,
            });
        }

        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = p,
            NullDescription = NullDescription,
            PerLayer = perLayer,
            Evidence = p < 1e-3 ? Evidence.Derived : Evidence.Unclear,
            Raw = new JsonObject
            {
                ["fisher_statistic"] = FisherMethod.Statistic(done.Select(o => o.PValue)),
                ["mlps"] = done.Count,
                ["max_neurons"] = MaxNeurons,
                ["residual_dims"] = dims.Length,
                ["layer_pairing"] = pairing,
                ["alignment"] = alignment.ToJson(),
                ["seed"] = context.Seed,
                ["per_mlp"] = mlps,
                ["experts"] = experts?.ToJson(),
            },
            Summary = $"gate and up neuron matchings agree with mean Spearman ρ = {score:F3} over {done.Count} MLPs (Fisher {PValueText.Equation(p)})"
                + (alignment.IsIdentity ? "" : $"; B's residual stream mapped by a {alignment.Kind} first")
                + (experts == null ? "" : "; " + experts.Summary()),
        };
    }

    private static MlpOutcome MatchMlp(int layerA, int layerB, MlpPart ma, MlpPart mb, ResidualAlignment alignment, int[] dims, int seed, int threads)
    {
        string part = ma.Label == mb.Label ? ma.Label : $"{ma.Label}~{mb.Label}";
        bool gated = ma.Gate != null && mb.Gate != null;
        int na = (int)ma.Neurons, nb = (int)mb.Neurons;
        // Rows: the seeded neuron block of the narrower MLP (of the fingerprint when one side is a fingerprint's
        // sample); columns: every neuron of the other (every stored neuron of a fingerprint).
        bool sampledA = SampleLayout.IsSampled(ma.Up), sampledB = SampleLayout.IsSampled(mb.Up);
        bool rowsFromA = sampledA != sampledB ? sampledA : na <= nb;
        if (SampleLayout.NeuronBlock(rowsFromA ? na : nb, seed).Length > SampleLayout.AvailableRows(rowsFromA ? mb.Up : ma.Up).Length) rowsFromA = !rowsFromA;
        int nRows = rowsFromA ? na : nb;
        if (nRows < 3) return new MlpOutcome(layerA, layerB, part, nRows, double.NaN, double.NaN, double.NaN, double.NaN);
        var rows = SampleLayout.NeuronBlock(nRows, seed);
        var all = SampleLayout.AvailableRows(rowsFromA ? mb.Up : ma.Up);
        int nCols = all.Length;
        if (rows.Length > nCols) return new MlpOutcome(layerA, layerB, part, rows.Length, double.NaN, double.NaN, double.NaN, double.NaN);

        float[] FeaturesA(bool first, IReadOnlyList<int> neurons) => first
            ? ResidualAlignment.ReadReaderAsIs(gated ? ma.Gate! : ma.Up, neurons, dims)
            : gated ? ResidualAlignment.ReadReaderAsIs(ma.Up, neurons, dims) : ResidualAlignment.ReadWriterAsIs(ma.Down, neurons, dims);
        float[] FeaturesB(bool first, IReadOnlyList<int> neurons) => first
            ? alignment.ReadReader(gated ? mb.Gate! : mb.Up, neurons, dims)
            : gated ? alignment.ReadReader(mb.Up, neurons, dims) : alignment.ReadWriter(mb.Down, neurons, dims);

        var (m1, c1) = Match(first: true);
        var (m2, c2) = Match(first: false);
        var x = new double[rows.Length];
        var y = new double[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            x[i] = m1[i];
            y[i] = m2[i];
        }

        var test = SpearmanTest.Test(x, y, Alternative.Greater);
        return new MlpOutcome(layerA, layerB, part, rows.Length, test.Rho, double.IsNaN(test.PValue) ? double.NaN : Math.Max(FisherMethod.MinPValue, test.PValue), c1, c2);

        (int[] Match, double MeanCosine) Match(bool first)
        {
            var r = rowsFromA ? FeaturesA(first, rows) : FeaturesB(first, rows);
            var c = rowsFromA ? FeaturesB(first, all) : FeaturesA(first, all);
            int k = dims.Length;
            LinearAlgebra.NormalizeRows(r, rows.Length, k);
            LinearAlgebra.NormalizeRows(c, nCols, k);
            var sim = new float[rows.Length * nCols];
            LinearAlgebra.MultiplyTransposed(r, rows.Length, c, nCols, k, sim, threads);
            var match = LinearAssignment.Maximize(sim, rows.Length, nCols);
            double mean = 0;
            for (int i = 0; i < rows.Length; i++) mean += sim[i * nCols + match[i]];
            return (match, mean / rows.Length);
        }
    }
}
