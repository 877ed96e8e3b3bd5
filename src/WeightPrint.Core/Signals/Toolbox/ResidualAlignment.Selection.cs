using WeightPrint.Model;

namespace WeightPrint.Signals.Toolbox;

/// <summary>What the shared-token embeddings say about two residual streams of different widths: for each channel of
/// the narrower model, the channel of the wider model it was assigned to one-to-one and the sign, and how well the
/// narrower model's embeddings are reproduced by the wider model's selected channels.</summary>
/// <param name="Sources">Per channel of the narrower model, its partner among the wider model's channels (injective).</param>
/// <param name="Signs">Per channel of the narrower model, ±1.</param>
/// <param name="Fit">Mean cosine between the narrower model's shared-token embeddings and the wider model's selected,
/// signed channels of the same tokens.</param>
/// <param name="ColumnMatch">Mean over the narrower model's embedding columns of their best |cosine| with any column of
/// the wider model (before the one-to-one assignment).</param>
/// <param name="Tokens">Shared tokens used.</param>
/// <param name="TokenMatch">"shared strings" or "token ids".</param>
/// <param name="Moved">True when some channel's partner is not the channel with the same index.</param>
/// <param name="Signed">True when some partner has its sign flipped.</param>
/// <param name="Scaled">True when the wider model's selected embeddings are uniformly larger or smaller.</param>
internal sealed record ChannelSelection(int[] Sources, float[] Signs, double Fit, double ColumnMatch, int Tokens, string TokenMatch, bool Moved, bool Signed, bool Scaled);

internal sealed partial class ResidualAlignment
{
    /// <summary>A map that reads, for common-space dimension i, channel <paramref name="sources"/>[i] of a tensor's
    /// residual axis times <paramref name="signs"/>[i]; the tensor's residual axis may be wider than
    /// <paramref name="dimension"/> (a channel selection between models of different widths).
    /// <see cref="ReadReader"/> and <see cref="ReadWriter"/> read only the selected channels.</summary>
    public static ResidualAlignment Selection(int dimension, int[] sources, float[] signs, bool accepted, string transform, string note)
    {
        if (sources.Length != dimension || signs.Length != dimension) throw new ArgumentException("a selection needs one source channel and one sign per dimension", nameof(sources));
        return new ResidualAlignment("channel-selection", dimension, null, sources, signs) { Accepted = accepted, Transform = transform, Note = note };
    }

    /// <summary>
    /// The one-to-one signed channel assignment from <paramref name="narrow"/>'s residual channels into
    /// <paramref name="wide"/>'s, recovered from the embeddings of shared tokens (LAP on the |cosine| between embedding
    /// columns, as for equal widths), and its fit. Null, with the reason in <paramref name="problem"/>, when the models
    /// have no embeddings, share fewer than 2 tokens, or no column of the narrower model matches any column of the
    /// wider one well enough (mean best |cosine| below <see cref="MinColumnMatch"/>): then no assignment could reach a
    /// trusted fit, and the LAP (cubic in the width) is skipped.
    /// </summary>
    public static ChannelSelection? EstimateSelection(ModelView narrow, ModelView wide, int seed, int threads, out string problem)
    {
        var en = narrow.Get(ModelRole.Embedding) ?? narrow.Get(ModelRole.LmHead);
        var ew = wide.Get(ModelRole.Embedding) ?? wide.Get(ModelRole.LmHead);
        problem = "";
        if (en == null || ew == null)
        {
            problem = "no embeddings to match residual channels with";
            return null;
        }

        int dn = checked((int)en.Columns), dw = checked((int)ew.Columns);
        if (dn > dw) throw new ArgumentException($"the narrower model's embeddings have {dn} columns, the wider model's {dw}", nameof(narrow));
        if (SharedEmbeddingRows(narrow, en, wide, ew, seed, requireVocabulary: false) is not { } shared)
        {
            problem = "too few shared tokens to match residual channels";
            return null;
        }

        var (rowsN, rowsW, n, how) = shared;
        var (map, signs) = SignedColumnMatch(rowsN, dn, rowsW, dw, n, threads, out double columnMatch, skipBelow: MinColumnMatch);
        if (map.Length == 0)
        {
            problem = $"the narrower model's embedding columns match the wider model's at best {columnMatch:F3} on average (below {MinColumnMatch}), so no channel selection fits";
            return null;
        }

        var mapped = new float[n * dn];
        for (int t = 0; t < n; t++)
        {
            for (int j = 0; j < dn; j++) mapped[t * dn + j] = signs[j] * rowsW[t * dw + map[j]];
        }

        double fit = MeanCosine(rowsN, mapped, n, dn);
        return new ChannelSelection(map, signs, fit, columnMatch, n, how,
            Moved: map.Where((m, j) => m != j).Any(), Signed: signs.Any(s => s < 0), Scaled: ScalingSuffix(rowsN, mapped, n, dn).Length > 0);
    }
}
