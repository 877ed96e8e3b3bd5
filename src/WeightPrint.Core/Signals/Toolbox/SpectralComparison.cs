using WeightPrint.Statistics;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// Compares spectral signatures. Each model's mean log spectrum over all its heads is subtracted (removing the
/// shape every head shares: Marchenko–Pastur-like for random weights, training-induced for trained ones), so
/// what remains is each head's own deviation. Two heads are compared by the Pearson correlation of those
/// deviations (QK and OV averaged); two layers by the mean correlation of their heads matched one-to-one by LAP
/// (head order is arbitrary). The background is simulated: layers of the other model's shape whose head Gram
/// matrices are drawn from the Wishart law of Gaussian-initialised weights.
/// </summary>
internal static class SpectralComparison
{
    /// <summary>Fewest simulated background layers per comparison.</summary>
    public const int MinSimulatedLayers = 32;

    /// <summary>Most simulated background layers per comparison.</summary>
    public const int MaxSimulatedLayers = 500;

    /// <summary>Simulated backgrounds kept for reuse (a matrix run compares many models of one shape).</summary>
    public const int CachedBackgrounds = 8;

    private static readonly List<((int, int, int, int, int, int, int) Key, IReadOnlyList<(double[][] Qk, double[][] Ov)> Layers)> Cache = [];

    /// <summary>
    /// The centred layers of <paramref name="models"/> simulated models of the given shape (each centred by its own
    /// model-wide mean, as a real model is), cached by shape and seed.
    /// </summary>
    public static IReadOnlyList<(double[][] Qk, double[][] Ov)> Background(int hidden, int headDim, int heads, int kvHeads, int layersPerModel, int models, int seed, int threads = 1)
    {
        var key = (hidden, headDim, heads, kvHeads, layersPerModel, models, seed);
        lock (Cache)
        {
            foreach (var (k, v) in Cache)
            {
                if (k == key) return v;
            }
        }

        var perModel = new (double[][] Qk, double[][] Ov)[models][];
        Parallel.For(0, models, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, m =>
        {
            var sim = Simulate(hidden, headDim, heads, kvHeads, layersPerModel, seed + m * 7919, models == 1 ? threads : 1);
            var (qs, os) = Centre(sim);
            perModel[m] = Enumerable.Range(0, sim.LayerCount).Select(l => (qs[l], os[l])).ToArray();
        });
        var result = perModel.SelectMany(x => x).ToList();

        lock (Cache)
        {
            Cache.Add((key, result));
            if (Cache.Count > CachedBackgrounds) Cache.RemoveAt(0);
        }

        return result;
    }

    /// <summary>Floating-point work budget for the simulation (head_dim³ units); small models get many layers, 7B-sized ones the minimum.</summary>
    public const double SimulationBudget = 4e8;

    /// <summary>Simulated layers for a model with <paramref name="heads"/> heads of size <paramref name="headDim"/>.</summary>
    public static int SimulatedLayers(int heads, int headDim)
    {
        double perLayer = Math.Max(1, heads) * 2.0 * 5.0 * Math.Pow(Math.Max(1, headDim), 3);
        return (int)Math.Clamp(Math.Ceiling(SimulationBudget / perLayer), MinSimulatedLayers, MaxSimulatedLayers);
    }

    /// <summary>Subtracts, per circuit, each layer's mean head spectrum (the model-wide mean for a layer with a single
    /// head). Trained models share a depth profile of spectral shape whatever their initialisation, which would make
    /// layer i of one model resemble layer i of any other; only how a layer's heads differ from each other is kept.</summary>
    public static (double[][][] Qk, double[][][] Ov) Centre(SpectralSignature s)
        => (CentreCircuit(s.Qk, s.HeadDim), CentreCircuit(s.Ov, s.HeadDim));

    private static double[][][] CentreCircuit(IReadOnlyList<double[][]> layers, int hd)
    {
        var mean = new double[hd];
        int count = 0;
        foreach (var layer in layers)
        {
            foreach (var head in layer)
            {
                for (int i = 0; i < hd; i++) mean[i] += head[i];
                count++;
            }
        }

        for (int i = 0; i < hd; i++) mean[i] /= Math.Max(1, count);
        return layers.Select(l =>
        {
            var centre = l.Length < 2 ? mean : Enumerable.Range(0, hd).Select(i => l.Average(h => h[i])).ToArray();
            return l.Select(h => h.Select((x, i) => x - centre[i]).ToArray()).ToArray();
        }).ToArray();
    }

    /// <summary>Mean LAP-matched head similarity between one layer of each model (centred signatures).</summary>
    public static double LayerSimilarity(double[][] qkA, double[][] ovA, double[][] qkB, double[][] ovB)
    {
        int ha = qkA.Length, hb = qkB.Length;
        if (ha == 0 || hb == 0) return double.NaN;
        var sim = new float[ha * hb];
        for (int i = 0; i < ha; i++)
        {
            for (int j = 0; j < hb; j++)
            {
                double r = 0.5 * (Safe(Correlation.Pearson(qkA[i], qkB[j])) + Safe(Correlation.Pearson(ovA[i], ovB[j])));
                sim[i * hb + j] = (float)r;
            }
        }

        var match = LinearAssignment.Maximize(sim, ha, hb);
        double total = 0;
        int n = 0;
        for (int i = 0; i < ha; i++)
        {
            if (match[i] < 0) continue;
            total += sim[i * hb + match[i]];
            n++;
        }

        return total / n;

        static double Safe(double r) => double.IsNaN(r) ? 0 : r;
    }

    /// <summary>Layer × layer similarity (rows: A's layers, columns: B's).</summary>
    public static double[][] LayerMatrix(SpectralSignature a, SpectralSignature b)
    {
        var (qa, oa) = Centre(a);
        var (qb, ob) = Centre(b);
        var m = new double[a.LayerCount][];
        for (int i = 0; i < a.LayerCount; i++)
        {
            m[i] = new double[b.LayerCount];
            for (int j = 0; j < b.LayerCount; j++) m[i][j] = LayerSimilarity(qa[i], oa[i], qb[j], ob[j]);
        }

        return m;
    }

    /// <summary>A signature of Gaussian-initialised attention with the given shape: per head, the Gram matrices
    /// W Wᵀ (head_dim × head_dim) of head_dim × d Gaussian blocks are Wishart(d) and are drawn directly by Bartlett's
    /// decomposition, so no d-wide matrix is materialised.</summary>
    public static SpectralSignature Simulate(int hidden, int headDim, int heads, int kvHeads, int layers, int seed, int threads = 1)
    {
        int rep = Math.Max(1, heads / Math.Max(1, kvHeads));
        var qk = new double[layers][][];
        var ov = new double[layers][][];
        Parallel.For(0, layers, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, l =>
        {
#pragma warning disable CA5394 // simulation, not security
            var rnd = new Random(ModelParts.DeriveSeed(seed, "layer-" + l));
#pragma warning restore CA5394
            var gk = Enumerable.Range(0, kvHeads).Select(_ => Wishart(headDim, hidden, rnd)).ToArray();
            var gv = Enumerable.Range(0, kvHeads).Select(_ => Wishart(headDim, hidden, rnd)).ToArray();
            var lq = new double[heads][];
            var lo = new double[heads][];
            for (int h = 0; h < heads; h++)
            {
                lq[h] = SpectralSignature.LogSingularValuesFromFactor(WishartFactor(headDim, hidden, rnd), gk[Math.Min(h / rep, kvHeads - 1)], headDim);
                lo[h] = SpectralSignature.LogSingularValuesFromFactor(WishartFactor(headDim, hidden, rnd), gv[Math.Min(h / rep, kvHeads - 1)], headDim);
            }

            qk[l] = lq;
            ov[l] = lo;
        });
        return new SpectralSignature(hidden, headDim, kvHeads, Enumerable.Range(0, layers).ToList(), qk, ov);
    }

    /// <summary>W Wᵀ for a p × d matrix W of independent standard normals, via Bartlett: L Lᵀ with L lower triangular,
    /// Lᵢᵢ² ~ χ²(d − i), Lᵢⱼ ~ N(0, 1) below the diagonal (needs d ≥ p; otherwise W is drawn explicitly).</summary>
    public static double[] Wishart(int p, int d, Random rnd)
    {
        var l = WishartFactor(p, d, rnd);
        return LinearAlgebra.Multiply(l, p, p, LinearAlgebra.Transpose(l, p, p), p);
    }

    /// <summary>A factor L with L Lᵀ ~ Wishart(d) (p × p): Bartlett's lower-triangular factor when d ≥ p, else W itself
    /// padded to p × p columns from an explicit p × d Gaussian W (then L Lᵀ = W Wᵀ).</summary>
    public static double[] WishartFactor(int p, int d, Random rnd)
    {
        if (d < p)
        {
            var w = new double[p * p];
            for (int i = 0; i < p; i++)
            {
                for (int k = 0; k < d; k++) w[i * p + k] = Gaussian(rnd);
            }

            return w;
        }

        var l = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            l[i * p + i] = Math.Sqrt(2 * Gamma((d - i) / 2.0, rnd));
            for (int j = 0; j < i; j++) l[i * p + j] = Gaussian(rnd);
        }

        return l;
    }

#pragma warning disable CA5394
    private static double Gaussian(Random rnd)
    {
        double u1 = 1 - rnd.NextDouble(), u2 = rnd.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes below 1 via Gamma(a + 1)·U^(1/a).</summary>
    private static double Gamma(double shape, Random rnd)
    {
        if (shape < 1) return Gamma(shape + 1, rnd) * Math.Pow(1 - rnd.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Gaussian(rnd);
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = 1 - rnd.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
#pragma warning restore CA5394
}
