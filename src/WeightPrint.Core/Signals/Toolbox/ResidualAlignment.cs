using WeightPrint.Model;
using WeightPrint.Statistics;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// An estimate of how model B's residual-stream basis maps onto model A's, from the token embeddings of tokens
/// both models share. Embedding rows, the rows of matrices that read the residual stream (Q, K, V, gate, up) and
/// the columns of matrices that write it (O, down) all transform alike under a residual rotation R (x_B = R x_A),
/// so one orthogonal Q ≈ Rᵀ maps every B-space vector into A-space. Candidates, in order: the identity (no
/// transform), orthogonal Procrustes (any rotation, d ≤ <see cref="MaxProcrustesDim"/>), and a signed
/// permutation of dimensions (LAP on the |cosine| between embedding columns; any d). A candidate is accepted when
/// the mean cosine between A's embeddings and B's mapped embeddings reaches <see cref="AcceptFit"/>; otherwise
/// the identity is used. The estimate depends on embeddings only, never on the attention or MLP weights the
/// methods then test, so it cannot manufacture agreement between independently initialised blocks.
/// </summary>
internal sealed partial class ResidualAlignment
{
    /// <summary>Most shared tokens used.</summary>
    public const int MaxTokens = 4096;

    /// <summary>Most tokens used for the column-cosine matrix of the signed-permutation candidate.</summary>
    public const int MaxPermutationTokens = 1024;

    /// <summary>The signed-permutation LAP (O(d³) for unrelated embeddings) is skipped when A's columns' best
    /// |cosine| with any B column averages below this: no signed permutation could then reach <see cref="AcceptFit"/>.</summary>
    public const double MinColumnMatch = 0.5;

    /// <summary>Largest hidden size for which the Procrustes rotation is estimated (an O(d³) eigen-decomposition).</summary>
    public const int MaxProcrustesDim = 1024;

    /// <summary>Procrustes is only tried with at least this many tokens per dimension: with n tokens, a rotation fitted
    /// to unrelated embeddings already reaches a mean cosine of about 0.85·√(d/n) (0.6 at two tokens per dimension),
    /// which must stay well below <see cref="AcceptFit"/>. A byte-level vocabulary of 256 tokens with d = 96 has 2.7.</summary>
    public const int MinTokensPerDimension = 2;

    /// <summary>A fitted rotation whose every row has one entry of at least this magnitude is reported as a (signed) permutation.</summary>
    public const double PermutationEntry = 0.98;

    /// <summary>Median norm ratio of mapped B embeddings to A's beyond which (or below whose inverse) the map is reported with a scaling.</summary>
    public const double ScalingRatio = 1.1;

    /// <summary>Mean embedding cosine at which a signed permutation of dimensions is trusted. Chosen on the calibration
    /// half of the development zoo (scripts/zoo-eval): derived pairs whose residual streams differ by a permutation, with
    /// noise or fine-tuning on top, aligned at 0.80–1.0; the highest unrelated pair reached 0.73 (two GPT-2 models with
    /// different seeds: LayerNorm models share privileged residual directions up to permutation), the others below 0.5.
    /// Between the two, the level sits nearer the derived side.</summary>
    public const double AcceptPermutationFit = 0.78;

    /// <summary>Mean embedding cosine at which a rotation (or the identity) is trusted. Two independently trained TinyStories models with
    /// the same 512-token vocabulary (llama2xs and stories260K, d = 64) already align at 0.81 after a rotation, so the
    /// bar sits above that; derived models with noise of 0.3× the weights' std still reach about 0.95.</summary>
    public const double AcceptFit = 0.9;

    private readonly double[]? _rotation;
    private readonly int[]? _permutation;
    private readonly float[]? _signs;

    private ResidualAlignment(string kind, int dimension, double[]? rotation, int[]? permutation, float[]? signs)
    {
        Kind = kind;
        Dimension = dimension;
        _rotation = rotation;
        _permutation = permutation;
        _signs = signs;
    }

    /// <summary>"identity", "procrustes" or "signed-permutation": the map in use.</summary>
    public string Kind { get; }

    public int Dimension { get; }

    /// <summary>True when the map in use reached <see cref="AcceptFit"/>.</summary>
    public bool Accepted { get; private init; }

    /// <summary>Mean cosine of embedding pairs without any transform (NaN when the widths differ).</summary>
    public double IdentityFit { get; private init; } = double.NaN;

    /// <summary>Mean cosine after the best transform tried (NaN when none was tried).</summary>
    public double TransformFit { get; private init; } = double.NaN;

    /// <summary>Shared tokens used.</summary>
    public int Tokens { get; private init; }

    /// <summary>How tokens were paired: "shared strings" or "token ids" (no vocabularies).</summary>
    public string TokenMatch { get; private init; } = "";

    /// <summary>One sentence for users.</summary>
    public string Note { get; private init; } = "";

    public bool IsIdentity => Kind == "identity";

    /// <summary>The transform found, in words: "identity", "permutation", "signed permutation" or "orthogonal", with
    /// " + scaling" when B's embeddings are uniformly larger or smaller; "none" when no transform was accepted.</summary>
    public string Transform { get; private init; } = "none";

    /// <summary>The identity map with a reason.</summary>
    public static ResidualAlignment Identity(int dimension, string note) => new("identity", dimension, null, null, null) { Note = note };

    /// <summary>Maps a B-space vector into A-space in place (a no-op for the identity).</summary>
    public void Map(Span<float> vector)
    {
        if (IsIdentity) return;
        int d = Dimension;
        if (vector.Length != d) throw new ArgumentException($"vector of {vector.Length} values, expected {d}", nameof(vector));
        var copy = vector.ToArray();
        if (_rotation != null)
        {
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += _rotation[i * d + k] * copy[k];
                vector[i] = (float)s;
            }
        }
        else
        {
            for (int i = 0; i < d; i++) vector[i] = _signs![i] * copy[_permutation![i]];
        }
    }

    /// <summary>Maps every row (length d) of a row-major matrix in place: rows of residual readers.</summary>
    public void MapRows(Span<float> rows, int d)
    {
        if (IsIdentity) return;
        for (int i = 0; i < rows.Length / d; i++) Map(rows.Slice(i * d, d));
    }

    /// <summary>Maps every column (length d) of a row-major d × cols matrix: columns of residual writers.</summary>
    public float[] MapColumns(ReadOnlySpan<float> m, int cols)
    {
        if (IsIdentity) return m.ToArray();
        int d = Dimension;
        var t = ModelParts.Transpose(m, d, cols);
        MapRows(t, d);
        return ModelParts.Transpose(t, cols, d);
    }

    /// <summary>
    /// Reads rows of a B-side residual reader (a matrix whose columns index the residual stream: Q, K, V, gate, up,
    /// embeddings) expressed in A's residual basis, keeping only residual dimensions <paramref name="dims"/> (A-space):
    /// the result is rows.Count × dims.Length. Identity and signed permutations read only the needed columns; a
    /// rotation reads whole rows.
    /// </summary>
    public float[] ReadReader(TensorView t, IReadOnlyList<int> rows, IReadOnlyList<int> dims)
    {
        if (IsIdentity) return ModelParts.ReadSubmatrix(t, rows, dims);
        if (_rotation == null)
        {
            var src = dims.Select(i => _permutation![i]).ToArray();
            var r = ModelParts.ReadSubmatrix(t, rows, src);
            for (int i = 0; i < rows.Count; i++)
            {
                for (int j = 0; j < dims.Count; j++) r[i * dims.Count + j] *= _signs![dims[j]];
            }

            return r;
        }

        int d = Dimension;
        var full = ModelParts.ReadRows(t, rows);
        MapRows(full, d);
        return SelectColumns(full, rows.Count, d, dims);
    }

    /// <summary>
    /// Reads columns of a B-side residual writer (a d × n matrix whose rows index the residual stream: O, down)
    /// expressed in A's residual basis, as cols.Count × dims.Length (one row per selected column).
    /// </summary>
    public float[] ReadWriter(TensorView t, IReadOnlyList<int> cols, IReadOnlyList<int> dims)
    {
        if (IsIdentity || _rotation == null)
        {
            var src = IsIdentity ? dims.ToArray() : dims.Select(i => _permutation![i]).ToArray();
            var sub = ModelParts.ReadSubmatrix(t, src, cols); // dims × cols
            var r = ModelParts.Transpose(sub, src.Length, cols.Count);
            if (!IsIdentity)
            {
                for (int i = 0; i < cols.Count; i++)
                {
                    for (int j = 0; j < dims.Count; j++) r[i * dims.Count + j] *= _signs![dims[j]];
                }
            }

            return r;
        }

        int d = Dimension;
        var all = Enumerable.Range(0, d).ToArray();
        var block = ModelParts.ReadSubmatrix(t, all, cols); // d × cols
        var mapped = ModelParts.Transpose(block, d, cols.Count); // cols × d
        MapRows(mapped, d);
        return SelectColumns(mapped, cols.Count, d, dims);
    }

    /// <summary>Reads a reader's rows on A's side with the same conventions as <see cref="ReadReader"/> (no mapping).</summary>
    public static float[] ReadReaderAsIs(TensorView t, IReadOnlyList<int> rows, IReadOnlyList<int> dims) => ModelParts.ReadSubmatrix(t, rows, dims);

    /// <summary>Reads a writer's columns on A's side as cols.Count × dims.Length (no mapping).</summary>
    public static float[] ReadWriterAsIs(TensorView t, IReadOnlyList<int> cols, IReadOnlyList<int> dims)
        => ModelParts.Transpose(ModelParts.ReadSubmatrix(t, dims, cols), dims.Count, cols.Count);

    private static float[] SelectColumns(float[] m, int rows, int cols, IReadOnlyList<int> keep)
    {
        var r = new float[rows * keep.Count];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < keep.Count; j++) r[i * keep.Count + j] = m[i * cols + keep[j]];
        }

        return r;
    }

    /// <summary>Describes the alignment for a method's result (JSON <c>raw.alignment</c>).</summary>
    public AlignmentDetails ToDetails() => new(Kind, Transform, Accepted, IdentityFit, TransformFit, Tokens, TokenMatch, Note);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelView, Dictionary<(ModelView, int), ResidualAlignment>> CacheByA = [];

    /// <summary><see cref="Estimate"/> (token pairs from vocabularies or ids), computed once per model pair and seed:
    /// several methods of one comparison align the same two models.</summary>
    public static ResidualAlignment Cached(ModelView a, ModelView b, int seed, int threads)
    {
        var byB = CacheByA.GetOrCreateValue(a);
        lock (byB)
        {
            if (byB.TryGetValue((b, seed), out var known)) return known;
        }

        var fresh = Estimate(a, b, seed, threads: threads);
        lock (byB)
        {
            return byB.TryAdd((b, seed), fresh) ? fresh : byB[(b, seed)];
        }
    }

    /// <summary>Estimates the alignment from the models' embeddings (or tied LM heads).</summary>
    /// <param name="requireVocabulary">When true, tokens are paired only through both vocabularies' strings.</param>
    /// <param name="a">The model whose residual frame is the reference.</param>
    /// <param name="b">The model mapped into <paramref name="a"/>'s frame.</param>
    /// <param name="seed">Seed of the sampled tokens and dimensions.</param>
    /// <param name="threads">Threads used to read tensors.</param>
    public static ResidualAlignment Estimate(ModelView a, ModelView b, int seed, bool requireVocabulary = false, int threads = 1)
    {
        var ea = a.Get(ModelRole.Embedding) ?? a.Get(ModelRole.LmHead);
        var eb = b.Get(ModelRole.Embedding) ?? b.Get(ModelRole.LmHead);
        int d = (int)(ea?.Columns ?? 0);
        if (ea == null || eb == null) return Identity(d, "no embeddings to align residual streams with; the identity is used");
        if (ea.Columns != eb.Columns) return Identity(d, $"embedding widths differ ({ea.Columns} vs {eb.Columns}); no alignment");
        if (SharedEmbeddingRows(a, ea, b, eb, seed, requireVocabulary) is not { } shared)
            return Identity(d, "too few shared tokens to align residual streams; the identity is used");
        var (rowsA, rowsB, n, how) = shared;
        double identityFit = MeanCosine(rowsA, rowsB, n, d);
        if (identityFit >= AcceptFit)
            return new ResidualAlignment("identity", d, null, null, null)
            {
                Accepted = true, IdentityFit = identityFit, Tokens = n, TokenMatch = how,
                Transform = "identity" + ScalingSuffix(rowsA, rowsB, n, d),
                Note = $"embeddings of {n} shared tokens agree without any transform (mean cosine {identityFit:F3})",
            };

        // B is a fingerprint's sample: its tensors hold only the sampled residual dimensions, so no method can map them into
        // A's frame (pcs and neuron-match both compare them as stored); searching for a map would be wasted work.
        if (SampleLayout.IsSampled(eb))
        {
            return new ResidualAlignment("identity", d, null, null, null)
            {
                Accepted = false, IdentityFit = identityFit, Tokens = n, TokenMatch = how,
                Note = $"embeddings of {n} shared tokens do not agree as they are (mean cosine {identityFit:F3}) and B is a fingerprint's sample, whose residual stream cannot be mapped; weights are compared as stored",
            };
        }

        // A signed permutation first: d! discrete maps cannot overfit unrelated embeddings the way a d(d−1)/2-parameter
        // rotation can, so it is trusted at a lower fit.
        var tried = new List<string>();
        var permutation = SignedPermutationCandidate(rowsA, rowsB, n, d, threads, out double columnMatch);
        if (permutation != null)
        {
            var (accepted, fit) = Try(permutation, AcceptPermutationFit);
            if (accepted != null) return accepted;
            tried.Add($"{fit:F3} after a signed permutation");
        }
        else
        {
            tried.Add($"embedding columns match at best {columnMatch:F3} on average, so no signed permutation fits");
        }

        if (d <= MaxProcrustesDim && n >= MinTokensPerDimension * d)
        {
            var m = new double[d * d]; // Σₜ aₜ bₜᵀ
            for (int t = 0; t < n; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    double ai = rowsA[t * d + i];
                    if (ai == 0) continue;
                    for (int j = 0; j < d; j++) m[i * d + j] += ai * rowsB[t * d + j];
                }
            }

            var (accepted, fit) = Try(new ResidualAlignment("procrustes", d, LinearAlgebra.ProcrustesRotation(m, d), null, null), AcceptFit);
            if (accepted != null) return accepted;
            tried.Add($"{fit:F3} after a rotation");
        }

        return new ResidualAlignment("identity", d, null, null, null)
        {
            Accepted = false, IdentityFit = identityFit, Tokens = n, TokenMatch = how,
            Note = $"embeddings of {n} shared tokens do not align (mean cosine {identityFit:F3} as is; {string.Join("; ", tried)}); weights are compared as stored",
        };

        (ResidualAlignment? Accepted, double Fit) Try(ResidualAlignment candidate, double level)
        {
            var mapped = (float[])rowsB.Clone();
            candidate.MapRows(mapped, d);
            double fit = MeanCosine(rowsA, mapped, n, d);
            if (!(fit >= level)) return (null, fit);
            string transform = candidate.Shape() + ScalingSuffix(rowsA, mapped, n, d);
            return (new ResidualAlignment(candidate.Kind, d, candidate._rotation, candidate._permutation, candidate._signs)
            {
                Accepted = true, IdentityFit = identityFit, TransformFit = fit, Tokens = n, TokenMatch = how, Transform = transform,
                Note = $"B's residual stream is a {transform} map of A's ({candidate.Kind}): {n} shared-token embeddings agree after it (mean cosine {fit:F3}, {identityFit:F3} before)",
            }, fit);
        }
    }

    /// <summary>The signed permutation of dimensions that best matches embedding columns (LAP on |cosine|), or null when
    /// A's columns' best |cosine| with any B column averages below <see cref="MinColumnMatch"/>.</summary>
    private static ResidualAlignment? SignedPermutationCandidate(float[] rowsA, float[] rowsB, int n, int d, int threads, out double bestMean)
    {
        var (perm, signs) = SignedColumnMatch(rowsA, d, rowsB, d, n, threads, out bestMean, skipBelow: MinColumnMatch);
        return perm.Length == 0 ? null : new ResidualAlignment("signed-permutation", d, null, perm, signs);
    }

    /// <summary>For each of A's <paramref name="dA"/> embedding columns (dA ≤ dB) the B column it is assigned to one-to-one
    /// (LAP on the |cosine| between columns, over at most <see cref="MaxPermutationTokens"/> tokens) and the sign of that
    /// cosine; <paramref name="bestMean"/> is the mean over A's columns of their best |cosine| with any B column
    /// (no assignment, empty arrays, when that mean is below <paramref name="skipBelow"/>).</summary>
    private static (int[] Map, float[] Signs) SignedColumnMatch(float[] rowsA, int dA, float[] rowsB, int dB, int n, int threads, out double bestMean, double skipBelow = 0)
    {
        int nt = Math.Min(n, MaxPermutationTokens);
        var colsA = ModelParts.Transpose(rowsA.AsSpan(0, nt * dA), nt, dA);
        var colsB = ModelParts.Transpose(rowsB.AsSpan(0, nt * dB), nt, dB);
        LinearAlgebra.NormalizeRows(colsA, dA, nt);
        LinearAlgebra.NormalizeRows(colsB, dB, nt);
        var c = new float[dA * dB];
        LinearAlgebra.MultiplyTransposed(colsA, dA, colsB, dB, nt, c, threads);
        var abs = c.Select(Math.Abs).ToArray();
        bestMean = 0;
        for (int i = 0; i < dA; i++)
        {
            float best = 0;
            for (int j = 0; j < dB; j++) best = Math.Max(best, abs[i * dB + j]);
            bestMean += best / dA;
        }

        if (bestMean < skipBelow) return ([], []);
        var map = LinearAssignment.Maximize(abs, dA, dB);
        var signs = new float[dA];
        for (int i = 0; i < dA; i++) signs[i] = c[i * dB + map[i]] < 0 ? -1 : 1;
        return (map, signs);
    }

    /// <summary>Embedding rows of the tokens both models share (by vocabulary strings, else by id; a seeded sample of at
    /// most <see cref="MaxTokens"/>), as n × width row-major matrices; null when fewer than 2 tokens are shared.</summary>
    private static (float[] RowsA, float[] RowsB, int N, string How)? SharedEmbeddingRows(ModelView a, TensorView ea, ModelView b, TensorView eb, int seed, bool requireVocabulary)
    {
        var (pairs, how) = SharedTokens(a, b, (int)Math.Min(ea.Rows, int.MaxValue), (int)Math.Min(eb.Rows, int.MaxValue), requireVocabulary);
        pairs = pairs.Where(p => SampleLayout.HasRow(ea, p.A) && SampleLayout.HasRow(eb, p.B)).ToList(); // a fingerprint holds some rows
        if (pairs.Count < 2) return null;
        if (pairs.Count > MaxTokens)
        {
            var keep = ModelParts.Sample(pairs.Count, MaxTokens, ModelParts.DeriveSeed(seed, "alignment-tokens"));
            pairs = keep.Select(i => pairs[i]).ToList();
        }

        return (ModelParts.ReadRows(ea, pairs.Select(p => p.A).ToList()), ModelParts.ReadRows(eb, pairs.Select(p => p.B).ToList()), pairs.Count, how);
    }

    /// <summary>"permutation", "signed permutation" or "orthogonal": the shape of this (non-identity) map's matrix.</summary>
    private string Shape()
    {
        int d = Dimension;
        bool signed = false;
        if (_rotation == null)
        {
            signed = _signs!.Any(x => x < 0);
            bool moves = Enumerable.Range(0, d).Any(i => _permutation![i] != i);
            return signed ? "signed permutation" : moves ? "permutation" : "identity";
        }

        for (int i = 0; i < d; i++)
        {
            int arg = 0;
            for (int k = 1; k < d; k++)
            {
                if (Math.Abs(_rotation[i * d + k]) > Math.Abs(_rotation[i * d + arg])) arg = k;
            }

            double v = _rotation[i * d + arg];
            if (Math.Abs(v) < PermutationEntry) return "orthogonal";
            signed |= v < 0;
        }

        return signed ? "signed permutation" : "permutation";
    }

    /// <summary>" + scaling" when the median norm ratio of B's (mapped) embedding rows to A's is beyond <see cref="ScalingRatio"/>.</summary>
    private static string ScalingSuffix(float[] a, float[] b, int n, int d)
    {
        var ratios = new List<double>(n);
        for (int t = 0; t < n; t++)
        {
            double na = LinearAlgebra.Norm(a.AsSpan(t * d, d)), nb = LinearAlgebra.Norm(b.AsSpan(t * d, d));
            if (na > 0 && nb > 0) ratios.Add(nb / na);
        }

        if (ratios.Count == 0) return "";
        ratios.Sort();
        double median = ratios[ratios.Count / 2];
        return median > ScalingRatio || median < 1 / ScalingRatio ? " + scaling" : "";
    }

    /// <summary>Token pairs (id in A, id in B): by string when both vocabularies are known, else by id.</summary>
    public static (List<(int A, int B)> Pairs, string How) SharedTokens(ModelView a, ModelView b, int rowsA, int rowsB, bool requireVocabulary)
    {
        var va = a.Vocabulary;
        var vb = b.Vocabulary;
        var pairs = new List<(int, int)>();
        if (va != null && vb != null)
        {
            var idB = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < Math.Min(vb.Count, rowsB); i++)
            {
                if (!string.IsNullOrEmpty(vb[i])) idB.TryAdd(vb[i], i);
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < Math.Min(va.Count, rowsA); i++)
            {
                if (!string.IsNullOrEmpty(va[i]) && seen.Add(va[i]) && idB.TryGetValue(va[i], out int j)) pairs.Add((i, j));
            }

            return (pairs, "shared strings");
        }

        if (requireVocabulary) return (pairs, "no vocabulary");
        for (int i = 0; i < Math.Min(rowsA, rowsB); i++) pairs.Add((i, i));
        return (pairs, "token ids");
    }

    private static double MeanCosine(float[] a, float[] b, int n, int d)
    {
        double sum = 0;
        int counted = 0;
        for (int t = 0; t < n; t++)
        {
            var x = a.AsSpan(t * d, d);
            var y = b.AsSpan(t * d, d);
            double nx = LinearAlgebra.Norm(x), ny = LinearAlgebra.Norm(y);
            if (nx == 0 || ny == 0) continue;
            sum += LinearAlgebra.Dot(x, y) / (nx * ny);
            counted++;
        }

        return counted == 0 ? double.NaN : sum / counted;
    }
}
