using WeightPrint.Model;
using WeightPrint.Statistics;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.NeuronMatch;

/// <summary>
/// <c>neuron-match</c>: the weight-only independence test of Zhu, Ahmed, Kuditipudi and Liang ("Independence
/// Tests for Language Models", ICML 2025). In each MLP, neurons of model A are matched one-to-one to neurons of
/// model B twice — once by the cosine similarity of their gate_proj rows, once by their up_proj rows (for MLPs
/// without a gate: up_proj rows and down_proj columns) — with an optimal linear assignment. Two statistics, each
/// with a null that is exact for trained models, are read from these matchings:
/// <list type="bullet">
/// <item><b>position</b> (Zhu et al.'s <c>csu</c>): Spearman's ρ between the up matching and the identity. B's neuron
/// order is exchangeable under independent initialisation (permuting an MLP's neurons is a symmetry of the
/// initialisation and of training), so the matching is a uniformly random injection: Spearman's textbook null,
/// Fisher over layers. Misses derivatives whose neurons were permuted.</item>
/// <item><b>agreement</b>: mean Spearman's ρ between the gate and the up matchings — unchanged by neuron permutation.
/// In trained models a neuron's gate and up rows point alike, so its textbook null is liberal; instead B's
/// (aligned) residual dimensions are permuted and sign-flipped at random — also a symmetry of independent
/// initialisation and of sign- and permutation-equivariant training (SGD, Adam) — and the statistic recomputed,
/// which keeps each model's internal gate/up alignment and destroys only what the two models share.</item>
/// </list>
/// The method's p-value is the Bonferroni minimum of the two.
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
internal sealed class NeuronMatchMethod : SignalMethod
{
    /// <summary>Neurons of the narrower MLP matched per layer.</summary>
    public const int MaxNeurons = SampleLayout.Neurons;

    /// <summary>Residual dimensions used for the neuron cosines.</summary>
    public const int MaxResidualDims = SampleLayout.ResidualDims;

    /// <summary>Random residual signed permutations drawn for the agreement statistic's null.</summary>
    public const int NullDraws = 19;

    /// <summary>Neurons of the wider MLP the agreement statistic matches against (a seeded sample beyond this), which
    /// bounds the cost of its <see cref="NullDraws"/> re-matchings for 7B-sized MLPs.</summary>
    public const int MaxAgreementColumns = 1024;

    public override string Id => "neuron-match";

    public override string Description =>
        "Optimal one-to-one neuron matchings per MLP from gate_proj rows and from up_proj rows (Zhu et al. 2025): Spearman ρ of the up matching against the neurons' positions, "
        + "and of the gate matching against the up matching; each combined over layers.";

    public override string NullDescription =>
        "Independent initialisation, exact for trained models by two symmetries of the independent model's distribution. Position: B's neuron order is exchangeable, so "
        + "each MLP's up matching is a uniformly random injection and ρ against the positions has Spearman's null (one-sided, Student's t; exact enumeration for n ≤ 9), "
        + "MLPs combined by Fisher's method. Agreement: B's residual dimensions (after the embedding alignment, within the seeded sample) are permuted and sign-flipped at random, "
        + $"{NullDraws} times, and the mean gate/up ρ recomputed; p from the Student-t predictive tail of those draws (Monte Carlo with a parametric tail), "
        + "over the MLPs whose position test is not already at the 1e-300 floor (there the method's p-value is at the floor anyway). "
        + "Between two fingerprints whose stored neuron block is narrower than the MLP the agreement statistic is not run (a permutation scatters the block) and the position test decides alone. "
        + "Otherwise the method's p-value is 2 × the smaller of the two (Bonferroni).";

    public override string FailureModes =>
        "A residual rotation hides the correspondence unless the embeddings reveal it (shared tokens); MLPs retrained from scratch show no signal; "
        + "the position statistic misses permuted neurons, and the agreement statistic's tail is parametric beyond its Monte Carlo draws.";

    public override NullKind NullKind => NullKind.ExactPermutation;

    public override IReadOnlyList<string> Invariances => ["neuron permutation (agreement statistic)", "residual orthogonal maps recovered from shared-token embeddings", "per-neuron rescaling"];

    private sealed record MlpOutcome(int LayerA, int LayerB, string Part, int Matched, double Rho, double MeanCosineGate, double MeanCosineUp,
        double PositionRho, double PositionP, double[] NullRhos);

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        if (a.View == null || b.View == null) return NotApplicable("neuron-match compares weights and needs both models' weights");
        var va = a.View;
        var vb = b.View;
        var blocksA = ModelParts.Blocks(va);
        var blocksB = ModelParts.Blocks(vb);
        if (blocksA.Count == 0 || blocksB.Count == 0) return NotApplicable("no transformer layers were recognised in " + (blocksA.Count == 0 ? a.Label : b.Label));
        var pairs = LayerPairing.Pair(a, b, context, out string pairing);
        // Widths differ: MLP rows are read on the narrower model's channels through a channel selection (CrossWidthFrame).
        var frame = CrossWidthFrame.For(va, vb, context.Seed, context.Threads);
        if (frame?.Problem != null) return NotApplicable(frame.Problem);
        var jobs = new List<(int LayerA, int LayerB, MlpPart A, MlpPart B)>();
        foreach (var (ia, ib) in pairs)
        {
            foreach (var (ma, mb) in ModelParts.MlpPairs(blocksA[ia], blocksB[ib]))
            {
                if (frame == null ? ma.Up.Columns != mb.Up.Columns : ma.Up.Columns != frame.WidthA || mb.Up.Columns != frame.WidthB) continue;
                jobs.Add((blocksA[ia].Index, blocksB[ib].Index, ma, mb));
            }
        }

        if (jobs.Count == 0) return NotApplicable("no MLP pair with the same residual width (up_proj columns) in both models");
        var experts = frame == null ? ExpertMatching.Run(blocksA, blocksB, pairs, context.Seed, context.Threads) : null;
        int d = frame?.Dimension ?? (int)jobs[0].A.Up.Columns;
        var (alignA, alignment) = frame != null ? (frame.ForA, frame.ForB) : (ResidualAlignment.Identity(d, "A as stored"), ResidualAlignment.Cached(va, vb, context.Seed, context.Threads));
        if (alignment.Dimension != d) alignment = ResidualAlignment.Identity(d, alignment.Note);
        if (frame == null && !alignment.IsIdentity && SampleLayout.IsSampled(jobs[0].B.Up))
            alignment = ResidualAlignment.Identity(d, "B is a fingerprint's sample, whose residual stream cannot be mapped; weights are compared as stored");
        var dims = SampleLayout.Residual(d, context.Seed);
        var draws = SignedPermutations(dims.Length, NullDraws, ModelParts.DeriveSeed(context.Seed, "neuron-match-null"));
        // Both sides fingerprints holding the same seeded block of neurons, narrower than the MLP: a neuron permutation
        // scatters that block (|N|²/d_ff of it stays inside), so the permutation-invariant agreement statistic has next to
        // nothing to find (docs/fingerprint.md). It is not run; the method is the position test alone (no Bonferroni).
        bool agreement = !(SampleLayout.IsSampled(jobs[0].A.Up) && SampleLayout.IsSampled(jobs[0].B.Up)
            && SampleLayout.AvailableRows(jobs[0].A.Up).Length < jobs[0].A.Neurons && SampleLayout.AvailableRows(jobs[0].B.Up).Length < jobs[0].B.Neurons);
        int tests = agreement ? 2 : 1;

        var outcomes = new MlpOutcome?[jobs.Count];
        int innerThreads = Math.Max(1, context.Threads / Math.Max(1, Math.Min(jobs.Count, context.Threads)));
        context.Progress?.Begin(Id, jobs.Count, "MLPs");
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Threads) }, j =>
        {
            var (la, lb, ma, mb) = jobs[j];
            outcomes[j] = MatchMlp(la, lb, ma, mb, alignA, alignment, dims, agreement ? draws : [], context.Seed, innerThreads);
            context.Progress?.Advance(1);
        });
        var done = outcomes.OfType<MlpOutcome>().Where(o => !double.IsNaN(o.Rho) && !double.IsNaN(o.PositionP)).ToList();
        if (done.Count == 0) return NotApplicable("no MLP had enough neurons to match (at least 3 are needed)");

        double pPosition = Math.Max(FisherMethod.MinPValue, FisherMethod.Combine(done.Select(o => o.PositionP).ToList()));
        double score = done.Average(o => o.Rho);
        // MLPs whose position test alone reached the floor drew no agreement nulls (see MatchMlp); the agreement statistic
        // is read on the others, and is not computed when there are none (the method's p-value is at the floor then).
        var drawn = done.Where(o => o.NullRhos.Length == NullDraws).ToList();
        var (pAgreement, nullMean, nullSd, exceeding) = AgreementTail(drawn);
        double p = Math.Max(FisherMethod.MinPValue, Math.Min(1, tests * (double.IsNaN(pAgreement) ? pPosition : Math.Min(pPosition, pAgreement))));

        var perLayer = new List<LayerScore>();
        var parts = new List<PartTest>();
        foreach (var g in done.GroupBy(o => (o.LayerA, o.LayerB)))
        {
            double lp = Math.Max(FisherMethod.MinPValue, FisherMethod.Combine(g.Select(o => o.PositionP).ToList()));
            double la = AgreementTail(g.Where(o => o.NullRhos.Length == NullDraws).ToList()).P;
            double combined = Math.Max(FisherMethod.MinPValue, Math.Min(1, tests * (double.IsNaN(la) ? lp : Math.Min(lp, la))));
            perLayer.Add(new LayerScore(g.Key.LayerA, g.Key.LayerB, g.Average(o => o.Rho), combined));
            bool moe = g.Any(o => o.Part != "mlp");
            parts.Add(new PartTest(moe ? "experts" : "mlp", g.Key.LayerA, g.Key.LayerB, g.Average(o => o.Rho), combined, Id));
        }

        var mlps = done.Select(o => new NeuronMatchMlp(o.LayerA, o.LayerB, o.Part, o.Matched, o.Rho, o.PositionRho, o.PositionP, o.NullRhos.Length == 0 ? double.NaN : o.NullRhos.Average(),
            o.MeanCosineGate, o.MeanCosineUp)).ToList();

        return new MethodResult
        {
            Id = Id,
            Score = score,
            PValue = p,
            NullDescription = NullDescription,
            NullKind = NullKind,
            PerLayer = perLayer,
            Parts = parts,
            Transform = frame != null ? frame.Transform : alignment.Accepted ? alignment.Transform : null,
            Reason = frame?.Caveat,
            Evidence = EvidenceLevels.Of(p) == Evidence.Derived ? Evidence.Derived : Evidence.Unclear,
            Details = new NeuronMatchDetails(pPosition, pAgreement, nullMean, nullSd, exceeding, agreement ? NullDraws : 0, FisherMethod.Statistic(done.Select(o => o.PositionP)),
                done.Count, MaxNeurons, dims.Length, pairing, frame?.ToDetails() ?? alignment.ToDetails(), context.Seed, mlps, experts?.ToDetails()),
            Summary = $"gate and up neuron matchings agree with mean Spearman ρ = {score:F3} over {done.Count} MLPs "
                + (!agreement ? "(not tested: both sides are fingerprints holding the same block of neurons, which a neuron permutation would scatter, so the position test decides alone); "
                    : drawn.Count == 0 ? "(its null was not drawn: the position test alone is at the floor in every MLP); "
                    : $"({nullMean:F3} ± {nullSd:F3} with B's residual dims shuffled{(drawn.Count < done.Count ? $" in the {drawn.Count} MLPs whose position test was not at the floor" : "")}, {PValueText.Equation(pAgreement)}); ")
                + $"up matching against neuron positions: Fisher {PValueText.Equation(pPosition)}"
                + (frame != null ? $"; {frame.Note}" : alignment.IsIdentity ? "" : $"; B's residual stream mapped by a {alignment.Transform} first")
                + (experts == null ? "" : "; " + experts.Summary()),
        };
    }

    /// <summary>The agreement test over MLPs that drew their null: the mean ρ against the mean of each null draw; NaN
    /// (not computed) when none drew one.</summary>
    private static (double P, double Mean, double Sd, int Exceeding) AgreementTail(IReadOnlyList<MlpOutcome> drawn)
        => drawn.Count == 0 ? (double.NaN, double.NaN, double.NaN, 0)
            : DrawTail(drawn.Average(o => o.Rho), Enumerable.Range(0, NullDraws).Select(k => drawn.Average(o => o.NullRhos[k])).ToArray());

    /// <summary>Monte Carlo draws of the statistic under the null, read parametrically: the probability that a new draw
    /// from a normal law with the draws' mean and SD reaches the observed value (Student-t predictive tail, m − 1 dof);
    /// (b + 1)/(m + 1) when the draws do not vary.</summary>
    public static (double P, double Mean, double Sd, int Exceeding) DrawTail(double observed, IReadOnlyList<double> draws)
    {
        int m = draws.Count;
        double mean = draws.Average();
        double sd = Math.Sqrt(draws.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, m - 1));
        int exceeding = draws.Count(x => x >= observed - PermutationTest.TieTolerance * Math.Max(1, Math.Abs(observed)));
        double p = PermutationTest.MonteCarloP(exceeding, m);
        if (sd > 0 && m > 2) p = Math.Max(FisherMethod.MinPValue, Distributions.StudentTSurvival((observed - mean) / (sd * Math.Sqrt(1 + 1.0 / m)), m - 1));

        return (p, mean, sd, exceeding);
    }

    /// <summary>Seeded random signed permutations of n coordinates: (source index, sign) per target coordinate.</summary>
    public static (int[] Perm, float[] Signs)[] SignedPermutations(int n, int count, int seed)
    {
#pragma warning disable CA5394 // seeded permutation test, not security
        var rnd = new Random(seed);
        var result = new (int[], float[])[count];
        for (int k = 0; k < count; k++)
        {
            var perm = PermutationTest.RandomPermutation(n, rnd);
            var signs = Enumerable.Range(0, n).Select(_ => rnd.Next(2) == 0 ? -1f : 1f).ToArray();
            result[k] = (perm, signs);
        }
#pragma warning restore CA5394

        return result;
    }

    private static float[] ApplySigned(float[] m, int rows, int k, (int[] Perm, float[] Signs) s)
    {
        var r = new float[m.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < k; j++) r[i * k + j] = s.Signs[j] * m[i * k + s.Perm[j]];
        }

        return r;
    }

    private static MlpOutcome MatchMlp(int layerA, int layerB, MlpPart ma, MlpPart mb, ResidualAlignment alignA, ResidualAlignment alignment, int[] dims,
        (int[] Perm, float[] Signs)[] draws, int seed, int threads)
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
        if (nRows < 3) return new MlpOutcome(layerA, layerB, part, nRows, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, []);
        var rows = SampleLayout.NeuronBlock(nRows, seed);
        var all = SampleLayout.AvailableRows(rowsFromA ? mb.Up : ma.Up);
        int nCols = all.Length;
        if (rows.Length > nCols) return new MlpOutcome(layerA, layerB, part, rows.Length, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, []);
        int k = dims.Length;

        float[] FeaturesA(bool first, IReadOnlyList<int> neurons) => first
            ? alignA.ReadReader(gated ? ma.Gate! : ma.Up, neurons, dims)
            : gated ? alignA.ReadReader(ma.Up, neurons, dims) : alignA.ReadWriter(ma.Down, neurons, dims);
        float[] FeaturesB(bool first, IReadOnlyList<int> neurons) => first
            ? alignment.ReadReader(gated ? mb.Gate! : mb.Up, neurons, dims)
            : gated ? alignment.ReadReader(mb.Up, neurons, dims) : alignment.ReadWriter(mb.Down, neurons, dims);

        // Features as (rows side, columns side), normalised; B's side is the one the null draws transform.
        (float[] R, float[] C) Read(bool first)
        {
            var r = rowsFromA ? FeaturesA(first, rows) : FeaturesB(first, rows);
            var c = rowsFromA ? FeaturesB(first, all) : FeaturesA(first, all);
            LinearAlgebra.NormalizeRows(r, rows.Length, k);
            LinearAlgebra.NormalizeRows(c, nCols, k);
            return (r, c);
        }

        var (r1, c1) = Read(first: true);
        var (r2, c2) = Read(first: false);
        var (m1, cos1) = Match(r1, c1, nCols);
        var (m2, cos2) = Match(r2, c2, nCols);

        // Position (csu): the second (up) matching against the neurons' own indices.
        var position = SpearmanTest.Test(rows.Select(i => (double)i).ToArray(), m2.Select(i => (double)i).ToArray(), Alternative.Greater);

        // Agreement: gate matching against up matching, on at most MaxAgreementColumns columns so its null draws stay affordable.
        var cols = nCols <= MaxAgreementColumns ? null : ModelParts.Sample(nCols, MaxAgreementColumns, ModelParts.DeriveSeed(seed, $"neuron-match-cols-{layerA}-{layerB}-{part}"));
        var (g1, g2, gc) = cols == null ? (c1, c2, nCols) : (SelectRows(c1, cols, k), SelectRows(c2, cols, k), cols.Length);
        double rho = cols == null ? Agreement(m1, m2) : Agreement(Match(r1, g1, gc).Match, Match(r2, g2, gc).Match);
        double pos = double.IsNaN(position.PValue) ? double.NaN : Math.Max(FisherMethod.MinPValue, position.PValue);
        // The agreement null costs 2 × NullDraws re-matchings. An MLP whose position test alone is at the floor
        // (p ≤ 1e-300, i.e. never under the null) needs none: the method's p-value there is 2 × that floor whatever the
        // agreement gives, so its draws are skipped (derived pairs then cost two matchings per MLP, not forty).
        var nulls = pos <= FisherMethod.MinPValue || draws.Length == 0 ? [] : new double[draws.Length];
        for (int t = 0; t < nulls.Length; t++)
        {
            // B's side is the rows side when rowsFromA is false.
            var (x1, y1) = rowsFromA ? (r1, ApplySigned(g1, gc, k, draws[t])) : (ApplySigned(r1, rows.Length, k, draws[t]), g1);
            var (x2, y2) = rowsFromA ? (r2, ApplySigned(g2, gc, k, draws[t])) : (ApplySigned(r2, rows.Length, k, draws[t]), g2);
            nulls[t] = Agreement(Match(x1, y1, gc).Match, Match(x2, y2, gc).Match);
        }

        return new MlpOutcome(layerA, layerB, part, rows.Length, rho, cos1, cos2, position.Rho, pos, nulls);

        (int[] Match, double MeanCosine) Match(float[] r, float[] c, int n)
        {
            var sim = new float[rows.Length * n];
            LinearAlgebra.MultiplyTransposed(r, rows.Length, c, n, k, sim, threads);
            var match = LinearAssignment.Maximize(sim, rows.Length, n);
            double mean = 0;
            for (int i = 0; i < rows.Length; i++) mean += sim[i * n + match[i]];
            return (match, mean / rows.Length);
        }
    }

    private static double Agreement(int[] m1, int[] m2)
    {
        var rho = SpearmanTest.Test(m1.Select(i => (double)i).ToArray(), m2.Select(i => (double)i).ToArray(), Alternative.Greater).Rho;
        return double.IsNaN(rho) ? 0 : rho;
    }

    private static float[] SelectRows(float[] m, int[] rows, int k)
    {
        var r = new float[rows.Length * k];
        for (int i = 0; i < rows.Length; i++) m.AsSpan(rows[i] * k, k).CopyTo(r.AsSpan(i * k, k));
        return r;
    }
}
