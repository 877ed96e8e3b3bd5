using WeightPrint.Model;
using WeightPrint.Statistics;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Signals.Pcs;

/// <summary>
/// <c>pcs</c>: parameter cosine similarity (HuRef, Zeng et al. 2024) between aligned tensors, with a permutation
/// test. Every tensor touches the residual stream (readers through their columns, writers through their rows),
/// and for independently initialised models the order of residual dimensions is exchangeable, so permuting model
/// B's residual dimensions — one permutation shared by every tensor — draws from the null distribution. To make
/// a 7B pair take seconds, each tensor is read on a seeded sample: <see cref="MaxResidualSample"/> residual
/// dimensions (shared by all tensors) × <see cref="MaxOtherSample"/> indices of its other axis. Permuting within the
/// sampled residual dimensions is a valid group action, so the test stays exact; the score is the mean per-tensor
/// cosine on the sample (an unbiased sample of HuRef's per-tensor PCS).
/// </summary>
internal sealed class PcsMethod : SignalMethod
{
    /// <summary>Residual dimensions sampled (shared by all tensors).</summary>
    public const int MaxResidualSample = SampleLayout.PcsResidualDims;

    /// <summary>Indices sampled along each tensor's other axis (output rows of readers, input columns of writers).</summary>
    public const int MaxOtherSample = SampleLayout.OtherRows;

    private static readonly TensorRole[] Readers = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.MlpGate, TensorRole.MlpUp];
    private static readonly TensorRole[] Writers = [TensorRole.AttnO, TensorRole.MlpDown];

    public override string Id => "pcs";

    public override string Description => "Cosine similarity of aligned weight tensors (HuRef's PCS), averaged over tensors, on a seeded sample of rows and columns.";

    public override string NullDescription =>
        "Permutation test: model B's residual-stream dimensions are permuted (one permutation for all tensors, within a seeded sample of "
        + $"{MaxResidualSample} dimensions); p = (b + 1)/(m + 1) over m permutations, and when no permutation reaches the observed value the tail is "
        + "taken from the normal limit of this linear permutation statistic (exact permutation mean and variance). Exact when residual dimensions are exchangeable, as for independently initialised models (a symmetry of the initialisation and of permutation-equivariant training). "
        + "B's weights are first mapped into A's residual basis when its shared-token embeddings reveal an orthogonal map (then the embeddings themselves are left out); "
        + "a fitted map can make models trained alike agree in one part only, so then p is the largest of the attention and MLP p-values (an intersection-union test: every part must agree).";

    public override NullKind NullKind => NullKind.ExactPermutation;

    public override IReadOnlyList<string> Invariances => ["residual orthogonal maps recovered from shared-token embeddings", "per-tensor rescaling"];

    public override string FailureModes =>
        "Any function-preserving permutation or rotation of hidden units, or layers removed or reordered without pairing, drives PCS to 0 for derived models (use neuron-match, cka, spectral); across residual widths it needs shared tokens that reveal the channel selection, and compares only tensors whose other axis still matches.";

    private sealed record TensorSample(string Name, float[] A, float[] B, double NormA, double NormB);

    /// <summary>Samples already read, by tensor and side (A's are read as stored, B's through the alignment), so the
    /// layer matrix reuses the tests' samples instead of reading every tensor again. A sample read as stored (no
    /// alignment) is also kept with its tensor for later comparisons (<see cref="Stored"/>): <c>identify</c> compares
    /// one suspect with several catalog entries and reads its samples once.</summary>
    private sealed class SampleCache
    {
        private readonly Dictionary<(TensorView View, bool SideB), float[]> _read = [];

        public float[] Read(TensorView t, bool sideB, string key, bool asStored, Func<float[]> read)
        {
            if (_read.TryGetValue((t, sideB), out var known)) return known;
            var fresh = asStored ? Stored.GetOrRead(t, key, read) : read();
            _read[(t, sideB)] = fresh;
            return fresh;
        }
    }

    /// <summary>Samples read as stored, kept with their tensor while it lives (never written to: callers only read them),
    /// read once even when comparisons run side by side.</summary>
    private static class Stored
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TensorView, OnceCache<string, float[]>> ByTensor = new();

        public static float[] GetOrRead(TensorView t, string key, Func<float[]> read) => ByTensor.GetOrCreateValue(t).GetOrAdd(key, read);
    }

    /// <summary>What determines a sample read as stored: the seed, the residual sample, the role and orientation.</summary>
    private static string SampleKey(string name, bool writer, int[] residual, int seed)
    {
        string role = name.Contains('.', StringComparison.Ordinal) ? name[(name.LastIndexOf('.') + 1)..] : name;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seed}|{(writer ? "w" : "r")}|{role}|{string.Join(',', residual)}");
    }

    public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
    {
        if (a.View == null || b.View == null) return NotApplicable("pcs compares weights and needs both models' weights (a fingerprint file has none)");
        var va = a.View;
        var vb = b.View;
        var blocksA = ModelParts.Blocks(va);
        var blocksB = ModelParts.Blocks(vb);
        if (blocksA.Count == 0 || blocksB.Count == 0) return NotApplicable("no transformer layers were recognised in " + (blocksA.Count == 0 ? a.Label : b.Label));
        int d = va.Geometry.HiddenSize > 0 ? va.Geometry.HiddenSize : (int)(blocksA[0].Get(TensorRole.AttnQ)?.Columns ?? 0);
        int db = vb.Geometry.HiddenSize > 0 ? vb.Geometry.HiddenSize : (int)(blocksB[0].Get(TensorRole.AttnQ)?.Columns ?? 0);
        // Widths differ: both sides are read into the narrower model's channels through a channel selection (CrossWidthFrame).
        var frame = d != db ? CrossWidthFrame.For(va, vb, context.Seed, context.Threads) : null;
        if (d <= 0 || (d != db && frame == null)) return NotApplicable($"hidden sizes differ ({d} vs {db}): tensors cannot be aligned element by element");
        if (frame?.Problem != null) return NotApplicable(frame.Problem);

        var pairs = LayerPairing.Pair(a, b, context, out string pairing);
        var (alignA, alignment) = frame != null ? (frame.ForA, frame.ForB) : (ResidualAlignment.Identity(d, "A as stored"), ResidualAlignment.Cached(va, vb, context.Seed, context.Threads));
        if (frame != null) d = frame.Dimension;
        else if (alignment.Dimension != d) alignment = ResidualAlignment.Identity(d, alignment.Note);
        if (frame == null && !alignment.IsIdentity && (SampleLayout.IsSampled(va.Get(ModelRole.Embedding)) || SampleLayout.IsSampled(vb.Get(ModelRole.Embedding))))
            alignment = ResidualAlignment.Identity(d, "one side is a fingerprint's sample, whose residual stream cannot be mapped; weights are compared as stored");
        var residual = SampleLayout.PcsResidual(d, context.Seed);
        var notCompared = new List<string>(); // across widths: tensors present in both models whose other axis differs
        int s = residual.Length;

        var samples = new SampleCache(); // each tensor's sample, read once for the tests and the layer matrix
        // Sampled tensors per layer pair (plus one group for model-level tensors).
        var groups = new List<(int LayerA, int LayerB, List<TensorSample> Tensors, int Attention)>();
        context.Progress?.Begin(Id, pairs.Count, "layer pairs");
        foreach (var (ia, ib) in pairs)
        {
            var la = blocksA[ia];
            var lb = blocksB[ib];
            var attention = new List<TensorSample>();
            foreach (var role in Readers.Concat(Writers))
            {
                if (role is TensorRole.MlpGate or TensorRole.MlpUp or TensorRole.MlpDown) continue;
                AddSample(attention, role.ToString(), la.Get(role), lb.Get(role), Writers.Contains(role), residual, context.Seed, alignA, alignment, frame, notCompared, samples);
            }

            var mlp = new List<TensorSample>();
            foreach (var (ma, mb) in ModelParts.MlpPairs(la, lb))
            {
                string tag = ma.Label == mb.Label ? ma.Label : $"{ma.Label}~{mb.Label}";
                AddSample(mlp, tag + ".gate", ma.Gate, mb.Gate, false, residual, context.Seed, alignA, alignment, frame, notCompared, samples);
                AddSample(mlp, tag + ".up", ma.Up, mb.Up, false, residual, context.Seed, alignA, alignment, frame, notCompared, samples);
                AddSample(mlp, tag + ".down", ma.Down, mb.Down, true, residual, context.Seed, alignA, alignment, frame, notCompared, samples);
            }

            groups.Add((la.Index, lb.Index, [.. attention, .. mlp], attention.Count));
            context.Progress?.Advance(1);
        }

        // The embeddings chose a non-identity alignment, so after it they agree by construction: leave them out then.
        var modelLevel = new List<TensorSample>();
        if (frame == null ? alignment.IsIdentity : !frame.Accepted)
        {
            AddSample(modelLevel, "embedding", va.Get(ModelRole.Embedding), vb.Get(ModelRole.Embedding), false, residual, context.Seed, alignA, alignment, frame, notCompared, samples);
            AddSample(modelLevel, "lm_head", va.Get(ModelRole.LmHead), vb.Get(ModelRole.LmHead), false, residual, context.Seed, alignA, alignment, frame, notCompared, samples);
        }

        int tensorCount = groups.Sum(g => g.Tensors.Count) + modelLevel.Count;
        if (tensorCount == 0) return NotApplicable("no tensor has the same shape in both models");

        // Cross-Gram per group: G[r, r'] = Σ_k a[k, r]·b[k, r'] / (‖a‖‖b‖); the statistic for a residual permutation π is Σ_r G[r, π(r)].
        // Per layer pair: attention tensors, MLP tensors, and their sum (the layer's statistic). The parts run in parallel,
        // each on one thread (transposes and small products do not spread well over threads).
        var partGrams = new double[2 * groups.Count][];
        Parallel.For(0, partGrams.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Threads) }, k =>
        {
            var g = groups[k / 2];
            partGrams[k] = CrossGram(k % 2 == 0 ? g.Tensors.Take(g.Attention).ToList() : g.Tensors.Skip(g.Attention).ToList(), s, 1);
        });
        var grams = Enumerable.Range(0, groups.Count).Select(g => partGrams[2 * g].Zip(partGrams[2 * g + 1], (x, y) => x + y).ToArray()).ToList();
        var modelGram = CrossGram(modelLevel, s, context.Threads);
        var total = new double[s * s];
        foreach (var g in grams.Append(modelGram))
        {
            for (int i = 0; i < total.Length; i++) total[i] += g[i];
        }

        // Per part kind over all layers (attention, MLP): used when B was mapped by a fitted transform (see below).
        var kindGrams = new[] { new double[s * s], new double[s * s] };
        var kindTensors = new int[2];
        for (int g = 0; g < groups.Count; g++)
        {
            kindTensors[0] += groups[g].Attention;
            kindTensors[1] += groups[g].Tensors.Count - groups[g].Attention;
            for (int kind = 0; kind < 2; kind++)
            {
                var pg = partGrams[2 * g + kind];
                for (int i = 0; i < pg.Length; i++) kindGrams[kind][i] += pg[i];
            }
        }

        int m = Math.Max(1, context.Permutations);
        var rnd = new Random(ModelParts.DeriveSeed(context.Seed, "pcs-permutations"));
        var observed = grams.Select(Trace).ToArray();
        var observedParts = partGrams.Select(Trace).ToArray();
        double observedTotal = Trace(total);
        var exceed = new int[grams.Count];
        var exceedParts = new int[partGrams.Length];
        var observedKinds = kindGrams.Select(Trace).ToArray();
        var exceedKinds = new int[2];
        // The m permutations are drawn first (same draws, same order as one shared permutation per round), then each
        // statistic runs through all of them while its s × s matrix stays in cache.
        var perms = new int[m][];
        for (int k = 0; k < m; k++)
        {
            perms[k] = new int[s];
            for (int i = 0; i < s; i++) perms[k][i] = i;
            PermutationTest.Shuffle<int>(perms[k], rnd);
        }

        int Exceeding(double[] g, double observedValue)
        {
            double threshold = Threshold(observedValue);
            int count = 0;
            foreach (var perm in perms)
            {
                if (Linear(g, perm) >= threshold) count++;
            }

            return count;
        }

        for (int g = 0; g < grams.Count; g++) exceed[g] = Exceeding(grams[g], observed[g]);
        for (int g = 0; g < partGrams.Length; g++) exceedParts[g] = Exceeding(partGrams[g], observedParts[g]);
        for (int kind = 0; kind < 2; kind++) exceedKinds[kind] = Exceeding(kindGrams[kind], observedKinds[kind]);
        int exceedTotal = Exceeding(total, observedTotal);

        double pTotal = PValue(total, s, observedTotal, exceedTotal, m, out double zTotal);
        // A map fitted on the embeddings can make models trained alike agree in one part only (shared embedding geometry
        // carried into the MLP, say); a shared origin makes every part agree. So under a fitted map the reported p-value
        // is the intersection-union test over the part kinds that have tensors: the largest of their p-values, each an
        // exact permutation test of that part's tensors over all layer pairs.
        var kindP = new double[2];
        for (int kind = 0; kind < 2; kind++) kindP[kind] = kindTensors[kind] == 0 ? double.NaN : PValue(kindGrams[kind], s, observedKinds[kind], exceedKinds[kind], m, out _);
        bool unionIntersection = (frame != null ? frame.Accepted : !alignment.IsIdentity) && kindP.Any(p => !double.IsNaN(p)); // across widths: a selection found from the embeddings
        if (unionIntersection) pTotal = kindP.Where(p => !double.IsNaN(p)).Max();
        var perLayer = new List<LayerScore>();
        var parts = new List<PartTest>();
        var layerDetails = new List<PcsLayer>();
        for (int g = 0; g < groups.Count; g++)
        {
            var (la, lb, tensors, nAttention) = groups[g];
            if (tensors.Count == 0) continue;
            double p = PValue(grams[g], s, observed[g], exceed[g], m, out double z);
            double score = observed[g] / tensors.Count;
            perLayer.Add(new LayerScore(la, lb, score, p));
            for (int part = 0; part < 2; part++)
            {
                int count = part == 0 ? nAttention : tensors.Count - nAttention;
                if (count == 0) continue;
                int k = 2 * g + part;
                parts.Add(new PartTest(part == 0 ? "attention" : "mlp", la, lb, observedParts[k] / count, PValue(partGrams[k], s, observedParts[k], exceedParts[k], m, out _), Id));
            }

            var tj = new Dictionary<string, double>();
            foreach (var t in tensors) tj[t.Name] = Cosine(t);
            layerDetails.Add(new PcsLayer(la, lb, score, z, p, tj));
        }

        double overall = observedTotal / tensorCount;
        if (modelLevel.FirstOrDefault(t => t.Name == "embedding") is { } embedding)
        {
            // Embeddings alone: the normal limit of the same permutation statistic (exact mean and variance).
            var mg = CrossGram([embedding], s, context.Threads);
            double obs = Trace(mg);
            var (mean, variance) = PermutationTest.LinearStatisticMoments(mg, s);
            double mp = variance > 0 ? Math.Max(FisherMethod.MinPValue, Distributions.NormalSurvival((obs - mean) / Math.Sqrt(variance))) : 1;
            parts.Add(new PartTest("embeddings", -1, -1, Cosine(embedding), mp, Id));
        }

        var matrix = LayerMatrix(va, vb, residual, context.Seed, alignA, alignment, context.Threads, samples);
        var modelTensors = new Dictionary<string, double>();
        foreach (var t in modelLevel) modelTensors[t.Name] = Cosine(t);
        return new MethodResult
        {
            Id = Id,
            Score = overall,
            PValue = pTotal,
            NullDescription = NullDescription,
            PerLayer = perLayer,
            LayerMatrix = matrix,
            NullKind = NullKind,
            Parts = parts,
            Transform = frame != null ? frame.Transform : alignment.Accepted ? alignment.Transform : null,
            Reason = frame == null ? null : frame.Caveat + (notCompared.Count == 0 ? ""
                : $"; {notCompared.Count} tensor pairs whose other axis differs (heads or neurons pruned) are not compared by pcs ({string.Join(", ", notCompared.Take(4))}{(notCompared.Count > 4 ? ", …" : "")})"),
            Evidence = EvidenceLevels.Of(pTotal) == Evidence.Derived ? Evidence.Derived : Evidence.Unclear,
            Details = new PcsDetails(zTotal, exceedTotal, unionIntersection ? "largest of the attention and MLP p-values (B was mapped by a fitted transform)" : "all tensors together",
                kindP[0], kindP[1], m, s, MaxOtherSample, tensorCount, pairing, frame?.ToDetails() ?? alignment.ToDetails(), context.Seed, modelTensors, layerDetails),
            Summary = $"mean parameter cosine {overall:F3} over {tensorCount} tensors (sampled {s} residual dims); {exceedTotal} of {m} residual permutations reached it"
                + (unionIntersection
                    ? $"; B was mapped by a fitted transform, so p is the larger of attention's and the MLP's ({PValueText.Equation(pTotal)})"
                    : $" ({PValueText.Equation(pTotal)})"),
        };
    }

    /// <summary>The layers whose sample of role <paramref name="role"/> has <paramref name="length"/> values and a non-zero
    /// norm, those samples (as read: no copy) and their norms.</summary>
    private static (List<int> Layers, List<float[]> Rows, List<double> Norms) NonZeroRows(float[]?[][] samples, int role, int length)
    {
        var layers = new List<int>();
        var rows = new List<float[]>();
        var norms = new List<double>();
        for (int i = 0; i < samples.Length; i++)
        {
            if (samples[i][role] is not { } x || x.Length != length) continue;
            double norm = LinearAlgebra.Norm(x);
            if (norm <= 0) continue;
            layers.Add(i);
            rows.Add(x);
            norms.Add(norm);
        }

        return (layers, rows, norms);
    }

    private static double Threshold(double observed) => observed - PermutationTest.TieTolerance * Math.Max(1, Math.Abs(observed));

    private static double PValue(double[] g, int s, double observed, int exceeding, int m, out double z)
    {
        var (mean, variance) = PermutationTest.LinearStatisticMoments(g, s);
        z = variance > 0 ? (observed - mean) / Math.Sqrt(variance) : 0;
        double mc = PermutationTest.MonteCarloP(exceeding, m);
        if (exceeding > 0) return mc;
        // Beyond the Monte Carlo resolution: the combinatorial CLT tail, never above the Monte Carlo bound.
        return Math.Max(FisherMethod.MinPValue, Math.Min(mc, Distributions.NormalSurvival(z)));
    }

    private static double Trace(double[] g)
    {
        int s = (int)Math.Sqrt(g.Length);
        double t = 0;
        for (int i = 0; i < s; i++) t += g[i * s + i];
        return t;
    }

    private static double Linear(double[] g, int[] perm)
    {
        int s = perm.Length;
        double t = 0;
        for (int i = 0; i < s; i++) t += g[i * s + perm[i]];
        return t;
    }

    private static double Cosine(TensorSample t)
        => t.NormA > 0 && t.NormB > 0 ? LinearAlgebra.Dot(t.A, t.B) / (t.NormA * t.NormB) : 0;

    private static double[] CrossGram(List<TensorSample> tensors, int s, int threads)
    {
        var g = new double[s * s];
        var buffer = new float[s * s];
        var scratch = new Dictionary<int, (float[] A, float[] B)>(); // transposes of one size, reused (fewer fresh pages)
        foreach (var t in tensors)
        {
            if (t.NormA == 0 || t.NormB == 0) continue;
            int u = t.A.Length / s;
            if (!scratch.TryGetValue(t.A.Length, out var pair)) scratch[t.A.Length] = pair = (new float[t.A.Length], new float[t.A.Length]);
            // Columns of the u × s samples as rows: residual-major.
            var (at, bt) = pair;
            ModelParts.Transpose(t.A, u, s, at);
            ModelParts.Transpose(t.B, u, s, bt);
            LinearAlgebra.MultiplyTransposed(at, s, bt, s, u, buffer, threads);
            double scale = 1 / (t.NormA * t.NormB);
            for (int i = 0; i < g.Length; i++) g[i] += buffer[i] * scale;
        }

        return g;
    }

    /// <summary>Reads the same sample of both tensors as u × s (other axis × residual) when their other axes agree (and
    /// their residual axes: equal, or each model's own width when the widths differ and <paramref name="frame"/> selects channels).</summary>
    private static void AddSample(List<TensorSample> list, string name, TensorView? ta, TensorView? tb, bool writer, int[] residual, int seed, ResidualAlignment alignA, ResidualAlignment alignB, CrossWidthFrame? frame, List<string> notCompared, SampleCache samples)
    {
        if (ta == null || tb == null) return;
        long residualA = writer ? ta.Rows : ta.Columns, residualB = writer ? tb.Rows : tb.Columns;
        if (frame == null ? residualA != residualB : residualA != frame.WidthA || residualB != frame.WidthB) return;
        if (writer ? ta.Columns != tb.Columns : ta.Rows != tb.Rows)
        {
            if (frame != null) notCompared.Add(name);
            return;
        }

        string key = SampleKey(name, writer, residual, seed);
        var (sa, sb) = (samples.Read(ta, false, key, alignA.IsIdentity, () => ReadSample(ta, name, writer, residual, seed, alignA)),
            samples.Read(tb, true, key, alignB.IsIdentity, () => ReadSample(tb, name, writer, residual, seed, alignB)));
        list.Add(new TensorSample(name, sa, sb, LinearAlgebra.Norm(sa), LinearAlgebra.Norm(sb)));
    }

    /// <summary>A tensor's seeded sample as u × s (other axis × residual), mapped into A's residual basis when an alignment is given.</summary>
    private static float[] ReadSample(TensorView t, string name, bool writer, int[] residual, int seed, ResidualAlignment alignment)
    {
        string role = name.Contains('.', StringComparison.Ordinal) ? name[(name.LastIndexOf('.') + 1)..] : name;
        int other = (int)(writer ? t.Columns : t.Rows);
        var otherIdx = SampleLayout.Other(role, other, seed);
        return writer ? alignment.ReadWriter(t, otherIdx, residual) : alignment.ReadReader(t, otherIdx, residual);
    }

    /// <summary>Layer × layer mean tensor cosine (attention and dense MLP tensors of equal shape) on the same samples.</summary>
    private static double[][] LayerMatrix(ModelView va, ModelView vb, int[] residual, int seed, ResidualAlignment alignA, ResidualAlignment alignment, int threads, SampleCache samples)
    {
        var ba = ModelParts.Blocks(va);
        var bb = ModelParts.Blocks(vb);
        TensorRole[] roles = [.. Readers, .. Writers];
        float[]? Sample(TensorView? t, TensorRole r, bool sideB)
        {
            if (t == null) return null;
            var align = sideB ? alignment : alignA;
            bool writer = Writers.Contains(r);
            return samples.Read(t, sideB, SampleKey(r.ToString(), writer, residual, seed), align.IsIdentity, () => ReadSample(t, r.ToString(), writer, residual, seed, align));
        }

        var sa = ba.Select(l => roles.Select(r => Sample(l.Get(r), r, false)).ToArray()).ToArray();
        var sb = bb.Select(l => roles.Select(r => Sample(l.Get(r), r, true)).ToArray()).ToArray();
        // Per role and sample length: every A layer's unit-norm sample against every B layer's in one matrix product; the
        // roles run in parallel and are summed in role order (same bytes whatever the threads).
        var sum = new double[ba.Count, bb.Count];
        var count = new int[ba.Count, bb.Count];
        var perRole = new List<(List<int> RowsA, List<int> RowsB, double[] Dots)>[roles.Length];
        Parallel.For(0, roles.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, r =>
        {
            perRole[r] = [];
            foreach (int len in sa.Select(l => l[r]?.Length ?? 0).Where(n => n > 0).Distinct())
            {
                var (rowsA, samplesA, normsA) = NonZeroRows(sa, r, len);
                var (rowsB, samplesB, normsB) = NonZeroRows(sb, r, len);
                if (rowsA.Count == 0 || rowsB.Count == 0) continue;
                var dots = new float[rowsA.Count * rowsB.Count];
                LinearAlgebra.MultiplyTransposedRows(samplesA, samplesB, len, dots, 1);
                var cosines = new double[dots.Length];
                for (int i = 0; i < rowsA.Count; i++)
                {
                    for (int j = 0; j < rowsB.Count; j++) cosines[i * rowsB.Count + j] = dots[i * rowsB.Count + j] / (normsA[i] * normsB[j]);
                }

                perRole[r].Add((rowsA, rowsB, cosines));
            }
        });
        foreach (var (rowsA, rowsB, dots) in perRole.SelectMany(x => x))
        {
            for (int i = 0; i < rowsA.Count; i++)
            {
                for (int j = 0; j < rowsB.Count; j++)
                {
                    sum[rowsA[i], rowsB[j]] += dots[i * rowsB.Count + j];
                    count[rowsA[i], rowsB[j]]++;
                }
            }
        }

        var m = new double[ba.Count][];
        for (int i = 0; i < ba.Count; i++)
        {
            m[i] = new double[bb.Count];
            for (int j = 0; j < bb.Count; j++) m[i][j] = count[i, j] == 0 ? double.NaN : sum[i, j] / count[i, j];
        }

        return m;
    }
}
