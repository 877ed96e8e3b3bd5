using System.Text.Json.Nodes;
using WeightPrint.Model;
using WeightPrint.Statistics;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// Per layer and per query head, the log singular values of the head's QK circuit W_Qₕᵀ W_K(g) and OV circuit
/// W_Oₕ W_V(g) (g: the head's KV group), descending. Both circuits are d × d matrices of rank ≤ head_dim whose
/// non-zero singular values depend only on the head_dim × head_dim Gram matrices: σ²(AᵀB) = eig(L_Aᵀ (B Bᵀ) L_A)
/// with A Aᵀ = L_A L_Aᵀ. They are unchanged by any orthogonal change of the residual basis (rotation,
/// permutation, sign flips), by Q/K or V/O rescaling that cancels within a head, and by any invertible change of
/// basis inside a head.
/// </summary>
internal sealed class SpectralSignature
{
    /// <summary>Singular values below this fraction of a head's largest are floored there before taking logs.</summary>
    public const double RelativeFloor = 1e-6;

    public SpectralSignature(int hidden, int headDim, int kvHeads, IReadOnlyList<int> layerIndices, IReadOnlyList<double[][]> qk, IReadOnlyList<double[][]> ov)
    {
        Hidden = hidden;
        KvHeads = kvHeads;
        HeadDim = headDim;
        LayerIndices = layerIndices;
        Qk = qk;
        Ov = ov;
    }

    public int HeadDim { get; }

    /// <summary>Residual width d (the circuits are d × d).</summary>
    public int Hidden { get; }

    /// <summary>Key/value heads per layer (query heads share them in groups).</summary>
    public int KvHeads { get; }

    /// <summary>Block index of each entry.</summary>
    public IReadOnlyList<int> LayerIndices { get; }

    /// <summary>[layer][head] → head_dim log singular values of the QK circuit.</summary>
    public IReadOnlyList<double[][]> Qk { get; }

    /// <summary>[layer][head] → head_dim log singular values of the OV circuit.</summary>
    public IReadOnlyList<double[][]> Ov { get; }

    public int LayerCount => Qk.Count;

    /// <summary>Computes the signature of a model's attention; null with a reason when attention is not recognised.</summary>
    /// <param name="model">The model.</param>
    /// <param name="threads">Layers read at once.</param>
    /// <param name="progress">Receives the bytes of each layer's Q, K, V and O once the layer is done (<see cref="ReadBytes"/> in all).</param>
    public static (SpectralSignature? Signature, string? Problem) Extract(ModelView model, int threads, IWorkProgress? progress = null)
    {
        var blocks = ModelParts.Blocks(model);
        int hd = model.Geometry.HeadDim;
        if (blocks.Count == 0) return (null, "no transformer layers were recognised");
        if (hd <= 0) return (null, "the head size is unknown");
        var usable = Usable(blocks);
        if (usable.Count == 0) return (null, "no layer has all of Q, K, V and O");
        // A fingerprint's sample of a wide model holds some rows of each projection: singular values need all of them,
        // so say so at once rather than reading until a missing row.
        foreach (var layer in usable)
        {
            foreach (var role in new[] { TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO })
            {
                if (layer.Get(role) is SampledTensorView { IsComplete: false } s)
                    return (null, $"{s.Description} holds only sampled rows and the fingerprint has no spectral signature");
            }
        }

        var qk = new double[usable.Count][][];
        var ov = new double[usable.Count][][];
        var kv = new int[usable.Count];
        string? problem = null;
        Parallel.For(0, usable.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            (double[][] Qk, double[][] Ov, int KvHeads, string? Problem) r;
            try
            {
                r = ExtractLayer(usable[i], hd);
            }
            catch (InvalidOperationException e)
            {
                r = ([], [], 0, e.Message); // a matrix above the read limit
            }

            progress?.Advance(AttentionBytes(usable[i]));
            if (r.Problem != null) problem ??= $"layer {usable[i].Index}: {r.Problem}";
            qk[i] = r.Qk;
            ov[i] = r.Ov;
            kv[i] = r.KvHeads;
        });
        if (problem != null) return (null, problem);
        int hidden = (int)usable[0].Get(TensorRole.AttnQ)!.Columns;
        return (new SpectralSignature(hidden, hd, kv.Max(), usable.Select(l => l.Index).ToList(), qk, ov), null);
    }

    private static readonly TensorRole[] Attention = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO];

    /// <summary>The layers whose attention a signature reads: those with all of Q, K, V and O.</summary>
    private static List<LayerView> Usable(IReadOnlyList<LayerView> blocks) => blocks.Where(l => Attention.All(r => l.Get(r) != null)).ToList();

    private static long AttentionBytes(LayerView layer) => Attention.Sum(r => SignalMethod.TensorBytes(layer.Get(r)!));

    /// <summary>Bytes <see cref="Extract"/> reads from <paramref name="model"/>: Q, K, V and O of every usable layer.</summary>
    public static long ReadBytes(ModelView model) => Usable(ModelParts.Blocks(model)).Sum(AttentionBytes);

    private static (double[][] Qk, double[][] Ov, int KvHeads, string? Problem) ExtractLayer(LayerView layer, int hd)
    {
        var q = layer.Get(TensorRole.AttnQ)!;
        var k = layer.Get(TensorRole.AttnK)!;
        var v = layer.Get(TensorRole.AttnV)!;
        var o = layer.Get(TensorRole.AttnO)!;
        long d = q.Columns;
        if (q.Rows % hd != 0 || k.Rows % hd != 0 || v.Rows != k.Rows || k.Columns != d || v.Columns != d || o.Rows != d || o.Columns != q.Rows)
            return ([], [], 0, $"attention shapes Q {q.ShapeText}, K {k.ShapeText}, V {v.ShapeText}, O {o.ShapeText} do not fit head size {hd}");
        int heads = (int)(q.Rows / hd), groups = (int)(k.Rows / hd);
        if (groups == 0 || heads % groups != 0) return ([], [], 0, $"{heads} query heads cannot share {groups} key/value heads");
        int width = (int)d;
        // Q, K and V are read one head block (head_dim rows) at a time: a 7B layer needs 2 MB here, not 3 × 64 MB.
        var block = new float[hd * width];
        var ot = ModelParts.Transpose(ModelParts.ReadMatrix(o), width, heads * hd); // rows: head output dims
        var gk = new double[groups][];
        var gv = new double[groups][];
        for (int g = 0; g < groups; g++)
        {
            k.ReadRows((long)g * hd, hd, block);
            gk[g] = LinearAlgebra.Gram(block, hd, width);
            v.ReadRows((long)g * hd, hd, block);
            gv[g] = LinearAlgebra.Gram(block, hd, width);
        }

        int rep = heads / groups;
        var qk = new double[heads][];
        var ov = new double[heads][];
        for (int h = 0; h < heads; h++)
        {
            q.ReadRows((long)h * hd, hd, block);
            var gq = LinearAlgebra.Gram(block, hd, width);
            var go = LinearAlgebra.Gram(ot.AsSpan(h * hd * width, hd * width), hd, width);
            qk[h] = LogSingularValues(gq, gk[h / rep], hd);
            ov[h] = LogSingularValues(go, gv[h / rep], hd);
        }

        return (qk, ov, groups, null);
    }

    /// <summary>Log singular values (descending) of AᵀB given the Gram matrices A Aᵀ and B Bᵀ.</summary>
    public static double[] LogSingularValues(double[] gramA, double[] gramB, int n) => LogSingularValuesFromFactor(LinearAlgebra.PsdFactor(gramA, n), gramB, n);

    /// <summary>Log singular values (descending) of AᵀB given a factor L with A Aᵀ = L Lᵀ and the Gram matrix B Bᵀ.</summary>
    public static double[] LogSingularValuesFromFactor(double[] l, double[] gramB, int n)
    {
        var lt = LinearAlgebra.Transpose(l, n, n);
        var s = LinearAlgebra.Multiply(LinearAlgebra.Multiply(lt, n, n, gramB, n), n, n, l, n);
        var eig = SymmetricEigen.Values(s, n);
        var sv = new double[n];
        double top = Math.Sqrt(Math.Max(eig[^1], 0));
        double floor = Math.Max(top * RelativeFloor, 1e-300);
        for (int i = 0; i < n; i++) sv[i] = Math.Log(Math.Max(Math.Sqrt(Math.Max(eig[n - 1 - i], 0)), floor));
        return sv;
    }

    public JsonObject ToJson()
    {
        var layers = new JsonArray();
        for (int i = 0; i < LayerCount; i++)
        {
            layers.Add((JsonNode)new JsonObject
            {
                ["layer"] = LayerIndices[i],
                ["qk"] = new JsonArray(Qk[i].Select(h => (JsonNode)Rounded(h)).ToArray()),
                ["ov"] = new JsonArray(Ov[i].Select(h => (JsonNode)Rounded(h)).ToArray()),
            });
        }

        return new JsonObject { ["version"] = 1, ["hidden"] = Hidden, ["head_dim"] = HeadDim, ["kv_heads"] = KvHeads, ["layers"] = layers };

        static JsonArray Rounded(double[] v) => SignatureJson.ToArray(v.Select(x => Math.Round(x, 6)));
    }

    public static SpectralSignature FromJson(JsonObject o)
    {
        int hd = o["head_dim"]?.GetValue<int>() ?? throw new FormatException("spectral signature lacks head_dim");
        int hidden = o["hidden"]?.GetValue<int>() ?? throw new FormatException("spectral signature lacks hidden");
        int kvHeads = o["kv_heads"]?.GetValue<int>() ?? throw new FormatException("spectral signature lacks kv_heads");
        if (hd <= 0 || hidden <= 0 || kvHeads <= 0) throw new FormatException("spectral signature sizes must be positive");
        if (o["layers"] is not JsonArray layers) throw new FormatException("spectral signature lacks layers");
        var idx = new List<int>();
        var qk = new List<double[][]>();
        var ov = new List<double[][]>();
        foreach (var node in layers)
        {
            if (node is not JsonObject l) throw new FormatException("spectral layer entry is not an object");
            idx.Add(l["layer"]?.GetValue<int>() ?? idx.Count);
            qk.Add(ReadHeads(l["qk"], hd));
            ov.Add(ReadHeads(l["ov"], hd));
        }

        return new SpectralSignature(hidden, hd, kvHeads, idx, qk, ov);
    }

    private static double[][] ReadHeads(JsonNode? n, int hd)
    {
        if (n is not JsonArray a) throw new FormatException("expected an array of heads");
        var heads = a.Select(SignatureJson.ReadDoubles).ToArray();
        if (heads.Any(h => h.Length != hd || h.Any(double.IsNaN))) throw new FormatException($"each head needs {hd} finite values");
        return heads;
    }

    /// <summary>Key of the spectral signature in a fingerprint file and in an input's signature cache (the
    /// <c>spectral</c> method's id).</summary>
    public const string SignatureKey = "spectral";

    /// <summary>The signature of a model as saved in fingerprint files: the spectra, or <c>{"error": reason}</c>.</summary>
    public static JsonObject ExtractJson(ModelView model, int threads, IWorkProgress? progress = null)
    {
        var (sig, problem) = Extract(model, threads, progress);
        return sig?.ToJson() ?? new JsonObject { ["error"] = problem };
    }

    /// <summary>An input's spectral signature: saved in its fingerprint file, else extracted once from its weights
    /// and cached on the input (a progress step of its own); or the reason it has none.</summary>
    public static (SpectralSignature? Signature, string? Problem) For(ComparisonInput input, int threads, IWorkProgress? progress = null)
    {
        JsonObject? json = input.Signatures.TryGetValue(SignatureKey, out var saved) ? saved
            : input.View is { } view ? input.CachedSignature(SignatureKey, () =>
            {
                progress?.Begin(SignatureKey, ReadBytes(view));
                return ExtractJson(view, threads, progress);
            })
            : null;
        if (json == null) return (null, "neither weights nor a saved spectral signature are available");
        if (json["error"] is JsonNode e) return (null, e.GetValue<string>());
        // Parsed once per signature object: identify compares one suspect's signature with several entries'.
        var parsed = Parsed.GetValue(json, j =>
        {
            try
            {
                return new ParsedSignature(FromJson(j), null);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                return new ParsedSignature(null, "the saved spectral signature is malformed: " + ex.Message);
            }
        });
        return (parsed.Signature, parsed.Problem);
    }

    private sealed record ParsedSignature(SpectralSignature? Signature, string? Problem);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonObject, ParsedSignature> Parsed = new();
}
