using System.Globalization;
using WeightPrint.Model;
using WeightPrint.Statistics;

namespace WeightPrint.Signals.Toolbox;

/// <summary>One MLP of A matched to one MLP of B (dense MLP, routed or shared expert).</summary>
/// <param name="PartA">"mlp", "expert3", "shared_expert0".</param>
/// <param name="PartB">Same in B.</param>
/// <param name="Similarity">Correlation of the two MLPs' neuron-order-free signatures.</param>
/// <param name="PValue">Residual-permutation p-value (see <see cref="ExpertMatching"/>).</param>
public sealed record ExpertPair(string PartA, string PartB, double Similarity, double PValue);

/// <summary>The MLPs of one block pair, matched.</summary>
/// <param name="LayerA">Block index in A.</param>
/// <param name="LayerB">Block index in B.</param>
/// <param name="Kind">"experts" (MoE with MoE, one-to-one by assignment) or "dense-to-experts" (a dense MLP against
/// every expert of the other model: upcycling).</param>
/// <param name="Pairs">Assigned pairs (experts) or every dense–expert pair.</param>
/// <param name="PValue">The block's test: the assignment total (or the best dense–expert similarity) against its
/// residual-permutation distribution.</param>
public sealed record ExpertLayer(int LayerA, int LayerB, string Kind, IReadOnlyList<ExpertPair> Pairs, double PValue);

/// <summary>
/// Expert-level matching for MoE models: experts of A to experts of B by assignment, a dense MLP to each expert
/// (sparse upcycling), each match with an exact p-value.
/// <para>
/// Signature of an MLP: over a seeded sample of <see cref="ResidualDims"/> residual dimensions, the Gram matrices of
/// its gate and up rows (Σ over neurons of w·wᵀ) and of its down columns — sums over neurons, so the signature does not
/// depend on the order (or sign) of the neurons, which upcycling and fine-tuning permute freely. The similarity of two
/// MLPs is the Pearson correlation of their off-diagonal Gram entries (each Gram z-scored).
/// </para>
/// <para>
/// Null: the two models were trained from independent initialisations. Training is equivariant to a consistent
/// permutation of the residual dimensions (i.i.d. initialisation, element-wise optimisers), so B with its residual
/// dimensions permuted is distributed as B, independently of A: recomputing every statistic with B's sampled
/// dimensions permuted gives an exact permutation test, whatever the training did. Experts within a block are
/// exchangeable too, which is why experts are matched by assignment rather than by index. Per pair, the p-value uses
/// the best partner of A's MLP under each permutation (the selection by assignment is inside the null); per block,
/// the assignment total. p = (b + 1)/(m + 1), so the smallest reportable p is 1/(m + 1).
/// </para>
/// <para>
/// Not invariant to a residual rotation (a rotated derivative shows no match here); the residual alignment of the
/// other methods is not applied, because an alignment estimated from both models would break the exact null.
/// </para>
/// </summary>
internal static class ExpertMatching
{
    /// <summary>Residual dimensions sampled for the Gram signatures.</summary>
    public const int ResidualDims = 64;

    /// <summary>Most residual permutations per run.</summary>
    public const int MaxPermutations = 999;

    /// <summary>Fewest residual permutations per run (smallest p then 0.05).</summary>
    public const int MinPermutations = 19;

    /// <summary>Multiply-adds allowed for the permutation null over all blocks; more experts means fewer permutations.</summary>
    public const double WorkBudget = 4e9;

    /// <summary>A pair whose p-value is below this is listed as a match in the summary.</summary>
    public const double MatchLevel = 1e-2;

    /// <summary>What was matched, for the method's raw output and summary.</summary>
    public sealed record Outcome(IReadOnlyList<ExpertLayer> Layers, int Dims, int Permutations)
    {
        /// <summary>The outcome as the neuron-match result reports it (JSON <c>raw.experts</c>).</summary>
        public ExpertMatchDetails ToDetails() => new(
            "off-diagonal Gram entries of gate/up rows and down columns over sampled residual dimensions (neuron-order free)",
            "independent initialisation; B's sampled residual dimensions permuted consistently (exact for trained models)",
            Dims, Permutations, Layers.Count == 0 ? null : FisherMethod.Combine(Layers.Select(l => l.PValue).ToList()), Layers);

        /// <summary>"layer 3: dense MLP ↔ experts 0,1,2,3 (p ≤ 0.001 each)"; blocks without a match are counted.</summary>
        public string Summary()
        {
            var parts = new List<string>();
            int without = 0;
            foreach (var l in Layers)
            {
                var hits = l.Pairs.Where(p => p.PValue < MatchLevel).ToList();
                if (hits.Count == 0)
                {
                    without++;
                    continue;
                }

                string where = ModelParts.PairLabel(l.LayerA, l.LayerB);
                double worst = hits.Max(h => h.PValue);
                string p = worst <= 1.0 / (Permutations + 1) + 1e-12 ? $"p ≤ {worst.ToString("G3", CultureInfo.InvariantCulture)}, the permutation floor" : PValueText.Equation(worst);
                if (l.Kind == DenseToExperts)
                {
                    bool denseInA = hits[0].PartA == Dense;
                    var experts = hits.Select(h => Number(denseInA ? h.PartB : h.PartA));
                    parts.Add($"{where}: dense MLP of {(denseInA ? "A" : "B")} ↔ experts {string.Join(",", experts)} ({(hits.Count > 1 ? "each " : "")}{p})");
                }
                else
                {
                    parts.Add($"{where}: {string.Join(", ", hits.Select(h => $"{h.PartA}↔{h.PartB}"))} ({(hits.Count > 1 ? "each " : "")}{p})");
                }
            }

            string matched = parts.Count == 0 ? "no MLP of A matches an expert of B" : string.Join("; ", parts);
            return $"experts: {matched}" + (without > 0 && parts.Count > 0 ? $"; no match in {without} block pair{(without == 1 ? "" : "s")}" : "");
        }

        private static string Number(string part) => new(part.Where(char.IsAsciiDigit).ToArray());
    }

    private const string Dense = "mlp";
    private const string DenseToExperts = "dense-to-experts";

    /// <summary>Matches the MLPs of each block pair when either block has experts; null when no block pair has experts
    /// or the residual widths differ.</summary>
    public static Outcome? Run(IReadOnlyList<LayerView> blocksA, IReadOnlyList<LayerView> blocksB, IReadOnlyList<(int A, int B)> pairs, int seed, int threads)
    {
        var jobs = new List<(LayerView A, LayerView B, IReadOnlyList<MlpPart> PartsA, IReadOnlyList<MlpPart> PartsB)>();
        foreach (var (ia, ib) in pairs)
        {
            var la = blocksA[ia];
            var lb = blocksB[ib];
            if (la.Experts.Count == 0 && lb.Experts.Count == 0) continue;
            var pa = ModelParts.Mlps(la);
            var pb = ModelParts.Mlps(lb);
            if (pa.Count == 0 || pb.Count == 0 || pa.Concat(pb).Any(p => p.Up.Columns != pa[0].Up.Columns)) continue;
            jobs.Add((la, lb, pa, pb));
        }

        if (jobs.Count == 0) return null;
        int d = (int)jobs[0].PartsA[0].Up.Columns;
        var dims = ModelParts.Sample(d, Math.Min(d, ResidualDims), ModelParts.DeriveSeed(seed, "experts-residual"));
        int k = dims.Length;
        if (k < 4) return null;
        bool gated = jobs.All(j => j.PartsA.Concat(j.PartsB).All(p => p.Gate != null));
        int blocks = gated ? 3 : 2;
        int offDiagonal = k * (k - 1) / 2;
        double work = jobs.Sum(j => (double)j.PartsA.Count * j.PartsB.Count * blocks * offDiagonal);
        int permutations = (int)Math.Clamp(WorkBudget / Math.Max(1, work), MinPermutations, MaxPermutations);

        // Signatures: every MLP read once (gate and up rows restricted to the sampled dims, down's sampled rows).
        var all = jobs.SelectMany(j => j.PartsA.Concat(j.PartsB)).Distinct().ToList();
        var signatures = new Dictionary<MlpPart, float[]>();
        var computed = new float[all.Count][];
        Parallel.For(0, all.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i => computed[i] = Signature(all[i], dims, gated));
        for (int i = 0; i < all.Count; i++) signatures[all[i]] = computed[i];

        // One shared sequence of residual permutations (the same for every block: B's dimensions are permuted consistently).
        var rnd = new Random(ModelParts.DeriveSeed(seed, "experts-permutations"));
        var maps = new int[permutations][];
        for (int m = 0; m < permutations; m++) maps[m] = OffDiagonalMap(PermutationTest.RandomPermutation(k, rnd), k, blocks);

        var layers = new ExpertLayer[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, j =>
        {
            var (la, lb, pa, pb) = jobs[j];
            layers[j] = MatchBlock(la.Index, lb.Index, pa.Select(p => (p.Label, signatures[p])).ToList(), pb.Select(p => (p.Label, signatures[p])).ToList(), maps);
        });
        return new Outcome(layers, k, permutations);
    }

    private static ExpertLayer MatchBlock(int layerA, int layerB, List<(string Label, float[] Z)> a, List<(string Label, float[] Z)> b, int[][] maps)
    {
        int na = a.Count, nb = b.Count;
        var observed = Similarities(a, b, null);
        bool denseToExperts = (na == 1 && a[0].Label == Dense) || (nb == 1 && b[0].Label == Dense);
        int m = maps.Length;
        if (denseToExperts)
        {
            // Every pair (one side has a single MLP): each pair's own similarity against its permutation distribution.
            var exceed = new int[na * nb];
            int blockExceed = 0;
            double best = observed.Max();
            foreach (var map in maps)
            {
                var s = Similarities(a, b, map);
                for (int c = 0; c < s.Length; c++) if (s[c] >= observed[c]) exceed[c]++;
                if (s.Max() >= best) blockExceed++;
            }

            var pairs = new List<ExpertPair>();
            for (int i = 0; i < na; i++)
            {
                for (int j = 0; j < nb; j++)
                    pairs.Add(new ExpertPair(a[i].Label, b[j].Label, observed[i * nb + j], PermutationTest.MonteCarloP(exceed[i * nb + j], m)));
            }

            return new ExpertLayer(layerA, layerB, DenseToExperts, pairs, PermutationTest.MonteCarloP(blockExceed, m));
        }

        // MoE with MoE: one-to-one by assignment (rows = the side with fewer MLPs).
        bool rowsA = na <= nb;
        int rows = rowsA ? na : nb, cols = rowsA ? nb : na;
        float[] Oriented(float[] s)
        {
            if (rowsA) return s;
            var t = new float[s.Length];
            for (int i = 0; i < na; i++)
            {
                for (int j = 0; j < nb; j++) t[j * na + i] = s[i * nb + j];
            }

            return t;
        }

        var obs = Oriented(observed);
        var assignment = LinearAssignment.Maximize(obs, rows, cols);
        double total = LinearAssignment.Total(obs, cols, assignment);
        var rowExceed = new int[rows];
        int totalExceed = 0;
        foreach (var map in maps)
        {
            var s = Oriented(Similarities(a, b, map));
            var perm = LinearAssignment.Maximize(s, rows, cols);
            if (LinearAssignment.Total(s, cols, perm) >= total) totalExceed++;
            for (int r = 0; r < rows; r++)
            {
                float rowBest = float.NegativeInfinity;
                for (int c = 0; c < cols; c++) rowBest = Math.Max(rowBest, s[r * cols + c]);
                if (rowBest >= obs[r * cols + assignment[r]]) rowExceed[r]++;
            }
        }

        var matched = new List<ExpertPair>();
        for (int r = 0; r < rows; r++)
        {
            int c = assignment[r];
            var (ia, ib) = rowsA ? (r, c) : (c, r);
            matched.Add(new ExpertPair(a[ia].Label, b[ib].Label, obs[r * cols + c], PermutationTest.MonteCarloP(rowExceed[r], m)));
        }

        return new ExpertLayer(layerA, layerB, "experts", matched.OrderBy(p => p.PartA, StringComparer.Ordinal).ToList(), PermutationTest.MonteCarloP(totalExceed, m));
    }

    /// <summary>Similarity matrix [a × b] (row-major); <paramref name="map"/> re-indexes B's signature entries (a residual permutation).</summary>
    private static float[] Similarities(List<(string Label, float[] Z)> a, List<(string Label, float[] Z)> b, int[]? map)
    {
        int n = a[0].Z.Length;
        var result = new float[a.Count * b.Count];
        var permuted = new float[n];
        for (int j = 0; j < b.Count; j++)
        {
            var zb = b[j].Z;
            if (map != null)
            {
                for (int t = 0; t < n; t++) permuted[t] = zb[map[t]];
            }

            ReadOnlySpan<float> y = map == null ? zb : permuted;
            for (int i = 0; i < a.Count; i++)
                result[i * b.Count + j] = (float)(LinearAlgebra.Dot(a[i].Z, y) / n);
        }

        return result;
    }

    /// <summary>Concatenated z-scored off-diagonal Gram entries (upper triangle, row-major) of gate rows, up rows and
    /// down columns over the sampled residual dimensions.</summary>
    private static float[] Signature(MlpPart part, int[] dims, bool gated)
    {
        int k = dims.Length;
        var grams = new List<double[]>();
        var all = Enumerable.Range(0, (int)part.Neurons).ToArray();
        if (gated) grams.Add(ReaderGram(ModelParts.ReadSubmatrix(part.Gate!, all, dims), all.Length, k));
        grams.Add(ReaderGram(ModelParts.ReadSubmatrix(part.Up, all, dims), all.Length, k));
        grams.Add(WriterGram(ModelParts.ReadRows(part.Down, dims), k, (int)part.Down.Columns));
        int off = k * (k - 1) / 2;
        var z = new float[grams.Count * off];
        for (int g = 0; g < grams.Count; g++)
        {
            var block = z.AsSpan(g * off, off);
            int t = 0;
            for (int u = 0; u < k; u++)
            {
                for (int v = u + 1; v < k; v++) block[t++] = (float)grams[g][u * k + v];
            }

            Standardise(block);
        }

        return z;
    }

    /// <summary>Xᵀ·X for X = rows × k (neurons × sampled dims).</summary>
    private static double[] ReaderGram(float[] x, int rows, int k)
    {
        var g = new double[k * k];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * k, k);
            for (int u = 0; u < k; u++)
            {
                double xu = row[u];
                for (int v = u + 1; v < k; v++) g[u * k + v] += xu * row[v];
            }
        }

        return g;
    }

    /// <summary>Y·Yᵀ for Y = k × n (sampled dims × neurons).</summary>
    private static double[] WriterGram(float[] y, int k, int n)
    {
        var g = new double[k * k];
        for (int u = 0; u < k; u++)
        {
            for (int v = u + 1; v < k; v++) g[u * k + v] = LinearAlgebra.Dot(y.AsSpan(u * n, n), y.AsSpan(v * n, n));
        }

        return g;
    }

    private static void Standardise(Span<float> x)
    {
        double mean = 0, sq = 0;
        foreach (float v in x) mean += v;
        mean /= x.Length;
        foreach (float v in x) sq += (v - mean) * (v - mean);
        double sd = Math.Sqrt(sq / x.Length);
        for (int i = 0; i < x.Length; i++) x[i] = sd > 0 ? (float)((x[i] - mean) / sd) : 0f;
    }

    /// <summary>For a permutation π of the sampled dims, where entry (u, v) of the permuted Gram sits in the
    /// unpermuted signature: (π(u), π(v)), ordered, in each of <paramref name="blocks"/> blocks.</summary>
    private static int[] OffDiagonalMap(int[] pi, int k, int blocks)
    {
        int off = k * (k - 1) / 2;
        var index = new int[k * k];
        int t = 0;
        for (int u = 0; u < k; u++)
        {
            for (int v = u + 1; v < k; v++) index[u * k + v] = index[v * k + u] = t++;
        }

        var map = new int[blocks * off];
        for (int g = 0; g < blocks; g++)
        {
            t = 0;
            for (int u = 0; u < k; u++)
            {
                for (int v = u + 1; v < k; v++) map[g * off + t++] = g * off + index[pi[u] * k + pi[v]];
            }
        }

        return map;
    }
}
