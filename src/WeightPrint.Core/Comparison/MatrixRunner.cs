using System.Text.Json.Nodes;
using WeightPrint.Signals;
using WeightPrint.Statistics;

namespace WeightPrint.Comparison;

/// <summary>One compared pair of a matrix run (indices into <see cref="MatrixResult.Models"/>, A &lt; B).</summary>
internal sealed record MatrixPair(int A, int B, ComparisonResult Result);

/// <summary>One method's models × models scores of a matrix run (NaN on the diagonal and where undefined), the
/// average-linkage tree on 1 − score (null when not clustered), the display order, whether the score is a 0–1
/// similarity, and why the matrix is not clustered (null when it is).</summary>
internal sealed record MethodMatrix(double[,] Scores, Dendrogram? Tree, IReadOnlyList<int> Order, bool Similarity, string? NotClusteredReason);

/// <summary>Every pair of several models compared with the same methods.</summary>
internal sealed record MatrixResult(IReadOnlyList<ModelSummary> Models, IReadOnlyList<MatrixPair> Pairs, IReadOnlyList<string> MethodIds, int Seed);

/// <summary>
/// Runs <see cref="ComparisonRunner"/> on all pairs of already opened inputs. The inputs stay open for the whole
/// run, so each model's per-method signature is extracted once (<see cref="ComparisonInput.CachedSignature"/>)
/// however many pairs it is in.
/// </summary>
internal static class MatrixRunner
{
    /// <summary>Most models in one matrix (pairs grow quadratically).</summary>
    public const int MaxModels = 64;

    /// <param name="beforePair">Called before each pair with (pair index, pair count, a, b), e.g. for progress.</param>
    /// <param name="inputs">The opened models (or fingerprints), each read once.</param>
    /// <param name="methods">The methods run on every pair.</param>
    /// <param name="context">Seed, threads and progress shared by all pairs.</param>
    public static MatrixResult Run(IReadOnlyList<OpenedInput> inputs, IReadOnlyList<SignalMethod> methods, MethodContext context, Action<int, int, int, int>? beforePair = null)
    {
        if (inputs.Count < 2) throw new ArgumentException("a matrix needs at least two models", nameof(inputs));
        if (inputs.Count > MaxModels) throw new ArgumentException($"a matrix takes at most {MaxModels} models", nameof(inputs));
        int count = inputs.Count * (inputs.Count - 1) / 2;
        var pairs = new List<MatrixPair>(count);
        for (int a = 0; a < inputs.Count; a++)
        {
            for (int b = a + 1; b < inputs.Count; b++)
            {
                beforePair?.Invoke(pairs.Count, count, a, b);
                pairs.Add(new MatrixPair(a, b, ComparisonRunner.Run(inputs[a], inputs[b], methods, context)));
            }
        }

        return new MatrixResult(inputs.Select(i => i.Summary).ToList(), pairs, methods.Select(m => m.Id).ToList(), context.Seed);
    }
}

/// <summary>
/// The JSON of a matrix run: <c>{schema_version, tool, kind: "matrix", seed, models, pairs: [{a, b, identity,
/// methods, verdict}], matrices: {METHOD: {scores, order, merges, linkage, distance}}}</c>. <c>a</c>/<c>b</c> index
/// <c>models</c>; each pair's <c>methods</c> entries are exactly <c>compare --json</c>'s; <c>scores</c> is the
/// symmetric models × models score matrix (null on the diagonal and where a method was not applicable or
/// undefined); <c>order</c> is the leaf order of average-linkage clustering on 1 − score, <c>merges</c> its tree. Only
/// similarities defined for every pair are clustered (<c>clustered</c>); otherwise <c>order</c> is the input order,
/// <c>merges</c> is empty, <c>linkage</c> is "none" and <c>not_clustered_reason</c> says why.
/// </summary>
internal static class MatrixJson
{
    public static JsonObject ToJson(MatrixResult m)
    {
        var models = new JsonArray();
        foreach (var s in m.Models) models.Add((JsonNode)FingerprintFile.ModelJson(s));
        var pairs = new JsonArray();
        foreach (var p in m.Pairs)
        {
            var single = ComparisonJson.ToJson(p.Result);
            pairs.Add((JsonNode)new JsonObject
            {
                ["a"] = p.A,
                ["b"] = p.B,
                ["identity"] = single["identity"]?.DeepClone(),
                ["methods"] = single["methods"]!.DeepClone(),
                ["verdict"] = single["verdict"]!.DeepClone(),
            });
        }

        var matrices = new JsonObject();
        foreach (var id in m.MethodIds)
        {
            var (scores, tree, order, similarity, notClustered) = Matrix(m, id);
            var rows = new JsonArray();
            for (int i = 0; i < scores.GetLength(0); i++)
            {
                var row = new JsonArray();
                for (int j = 0; j < scores.GetLength(1); j++) row.Add((JsonNode?)SignatureJson.Number(scores[i, j]));
                rows.Add((JsonNode)row);
            }

            var merges = new JsonArray();
            foreach (var merge in tree?.Merges ?? [])
                merges.Add((JsonNode)new JsonObject { ["left"] = merge.Left, ["right"] = merge.Right, ["height"] = merge.Height, ["size"] = merge.Size });
            matrices[id] = new JsonObject
            {
                ["scores"] = rows,
                ["order"] = new JsonArray(order.Select(o => (JsonNode?)o).ToArray()),
                ["merges"] = merges,
                ["linkage"] = tree != null ? "average" : "none",
                ["distance"] = tree != null ? "1 - score" : null,
                ["similarity"] = similarity,
                ["clustered"] = tree != null,
                ["not_clustered_reason"] = notClustered,
            };
        }

        return new JsonObject
        {
            ["schema_version"] = ComparisonJson.SchemaVersion,
            ["tool"] = "weightprint",
            ["tool_version"] = ToolInfo.Version,
            ["tool_commit"] = ToolInfo.Commit,
            ["kind"] = "matrix",
            ["seed"] = m.Seed,
            ["models"] = models,
            ["pairs"] = pairs,
            ["matrices"] = matrices,
        };
    }

    public static string Serialize(MatrixResult m) => JsonText.Serialize(ToJson(m));

    /// <summary>One method's score matrix, with its average-linkage tree when clustering it means something (the
    /// <c>matrices.ID</c> entry of the document, typed).</summary>
    public static MethodMatrix Matrix(MatrixResult m, string methodId)
    {
        var scores = Scores(m, methodId);
        string? notClustered = WhyNotClustered(scores, methodId);
        var tree = notClustered == null ? AverageLinkage.Cluster(Distances(scores)) : null;
        return new MethodMatrix(scores, tree, tree?.Order ?? Enumerable.Range(0, scores.GetLength(0)).ToList(), IsSimilarity(methodId), notClustered);
    }

    /// <summary>The models × models matrix of one method's scores (NaN on the diagonal and where undefined).</summary>
    public static double[,] Scores(MatrixResult m, string methodId)
    {
        int n = m.Models.Count;
        var s = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) s[i, j] = double.NaN;
        }

        foreach (var p in m.Pairs)
        {
            var r = p.Result.Methods.FirstOrDefault(x => x.Id == methodId);
            if (r == null || r.Status != MethodStatus.Ok) continue;
            s[p.A, p.B] = r.Score;
            s[p.B, p.A] = r.Score;
        }

        return s;
    }

    /// <summary>True unless the method with this id reports something other than a 0–1 similarity (e.g. a contrast).</summary>
    public static bool IsSimilarity(string methodId) => MethodRegistry.All.FirstOrDefault(x => x.Id == methodId)?.ScoreIsSimilarity ?? true;

    /// <summary>Why a method's score matrix is not clustered, or null when it is. A tree on 1 − score means something only
    /// for a similarity defined for every pair: an undefined pair would get a made-up distance.</summary>
    public static string? WhyNotClustered(double[,] scores, string methodId)
    {
        if (!IsSimilarity(methodId)) return $"the {methodId} score is not a similarity";
        int n = scores.GetLength(0), undefined = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                if (!double.IsFinite(scores[i, j])) undefined++;
            }
        }

        int pairs = n * (n - 1) / 2;
        return undefined == 0 ? null : $"{methodId} has no score for {WeightPrint.Statistics.NumberText.Count(undefined, "pair")} of {pairs}";
    }

    /// <summary>Clustering distance 1 − score (0 on the diagonal; NaN where the score is undefined).</summary>
    public static double[,] Distances(double[,] scores)
    {
        int n = scores.GetLength(0);
        var d = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) d[i, j] = i == j ? 0 : 1 - scores[i, j];
        }

        return d;
    }
}
