using System.Globalization;

namespace WeightPrint.Verdict;

/// <summary>One tensor of model B that holds the values of a tensor of model A exactly.</summary>
/// <param name="KeyA">Canonical key in A (e.g. <c>Embedding</c>, <c>decoder.3.AttnQ</c>).</param>
/// <param name="NameA">What A stores it as.</param>
/// <param name="KeyB">Canonical key in B.</param>
/// <param name="NameB">What B stores it as.</param>
/// <param name="Relation">"bit-identical", "transposed", "rows permuted", … (strongest first).</param>
/// <param name="Values">Number of values.</param>
/// <param name="DTypes">Stored dtypes when they differ ("BF16 → F32"), else null.</param>
public sealed record SharedTensor(string KeyA, string NameA, string KeyB, string NameB, string Relation, long Values, string? DTypes)
{
    /// <summary>The strongest relation: the same values in the same order.</summary>
    public const string BitIdentical = "bit-identical";

    /// <summary>The relations the identity check reports, strongest first.</summary>
    public static IReadOnlyList<string> Relations => RelationOrder;

    private static readonly string[] RelationOrder =
    [
        BitIdentical, "transposed", "rows permuted", "columns permuted", "transposed, rows permuted",
        "rows and columns permuted", "transposed, rows and columns permuted", "the same values rearranged",
    ];

    /// <summary>Position of a relation in <see cref="Relations"/> (0 = strongest).</summary>
    public static int Rank(string relation) => Array.IndexOf(RelationOrder, relation);

    /// <summary>The token embedding is the tensor an accused copy most often keeps.</summary>
    public bool IsEmbedding => KeyA == "Embedding" || KeyB == "Embedding";

    /// <summary>"model.embed_tokens.weight = A's tok_embeddings.weight (transposed)", or "model.norm.weight (A's,
    /// bit-identical)" when both models use the same name.</summary>
    public string Text => (NameA == NameB ? $"{NameB} (A's, {Relation}" : $"{NameB} = A's {NameA} ({Relation}")
        + (DTypes is null ? ")" : $"; {DTypes}, a lossless conversion)");
}

/// <summary>
/// Identity as evidence: the non-trivial tensors of B (see the identity check for what counts) that hold a tensor
/// of A's values exactly, bit for bit or rearranged. Independent initialisations never produce one, so a single
/// match decides the verdict.
/// </summary>
public sealed record SharedTensors(int NonTrivialInB, IReadOnlyList<SharedTensor> Matches)
{
    /// <summary>Tensors named in the verdict sentence; the JSON lists all.</summary>
    public const int NamedInSentence = 4;

    /// <summary>The verdict sentence: how many tensors, which relations, the token embedding first.</summary>
    public string Sentence()
    {
        var byRelation = Matches.GroupBy(m => m.Relation).OrderBy(g => SharedTensor.Rank(g.Key)).Select(g => $"{g.Count()} {g.Key}");
        var named = Matches.OrderByDescending(m => m.IsEmbedding).ThenBy(m => SharedTensor.Rank(m.Relation)).ThenByDescending(m => m.Values).Take(NamedInSentence).ToList();
        bool embedding = Matches.Any(m => m.IsEmbedding);
        string more = Matches.Count > named.Count ? $"; and {Matches.Count - named.Count} more" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Matches.Count} of {NonTrivialInB} non-trivial tensors of B hold A's values exactly ({string.Join("; ", byRelation)}){(embedding ? ", token embedding included" : "")}: "
            + $"{string.Join("; ", named.Select(m => m.Text))}{more}. Independently initialised models never share such a tensor.");
    }
}
