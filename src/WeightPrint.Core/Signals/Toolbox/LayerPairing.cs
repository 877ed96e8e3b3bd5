using WeightPrint.Statistics;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// Which block of model A is compared with which block of model B: by index when the depths are equal,
/// otherwise one-to-one by LAP on a layer-similarity matrix (layers removed, duplicated or reordered).
/// </summary>
internal static class LayerPairing
{
    /// <summary>Pairs (row, column) of a layer matrix: the diagonal when square, else the LAP maximum.</summary>
    public static IReadOnlyList<(int A, int B)> FromMatrix(double[][] matrix, out string how)
    {
        int la = matrix.Length, lb = la == 0 ? 0 : matrix[0].Length;
        if (la == lb)
        {
            how = "by index (equal depths)";
            return Enumerable.Range(0, la).Select(i => (i, i)).ToList();
        }

        var flat = new float[la * lb];
        for (int i = 0; i < la; i++)
        {
            for (int j = 0; j < lb; j++) flat[i * lb + j] = double.IsFinite(matrix[i][j]) ? (float)matrix[i][j] : -1f;
        }

        var match = LinearAssignment.Maximize(flat, la, lb);
        how = $"one-to-one by LAP on the layer similarity matrix (depths {la} and {lb})";
        return Enumerable.Range(0, la).Where(i => match[i] >= 0).Select(i => (i, match[i])).ToList();
    }

    /// <summary>
    /// Pairs block positions of two models for weight-reading methods. Equal depths pair by index. Otherwise the
    /// attention spectra (<see cref="SpectralSignature"/>; invariant to residual rotations and permutations and
    /// computed from attention only, so independent of the MLP and of row orders the methods test) choose the pairing;
    /// without them, blocks pair by index up to the shallower depth.
    /// </summary>
    public static IReadOnlyList<(int A, int B)> Pair(ComparisonInput a, ComparisonInput b, MethodContext context, out string how)
    {
        int la = a.View == null ? 0 : ModelParts.Blocks(a.View).Count;
        int lb = b.View == null ? 0 : ModelParts.Blocks(b.View).Count;
        if (la == lb)
        {
            how = "by index (equal depths)";
            return Enumerable.Range(0, la).Select(i => (i, i)).ToList();
        }

        var (sa, _) = SpectralSignature.For(a, context.Threads, context.Progress);
        var (sb, _) = SpectralSignature.For(b, context.Threads, context.Progress);
        if (sa != null && sb != null && sa.HeadDim == sb.HeadDim && sa.LayerCount == la && sb.LayerCount == lb)
        {
            var pairs = FromMatrix(SpectralComparison.LayerMatrix(sa, sb), out string m);
            how = m + " of attention spectra";
            return pairs;
        }

        how = $"by index up to the shallower depth ({Math.Min(la, lb)} of {la} and {lb}; attention spectra unavailable)";
        return Enumerable.Range(0, Math.Min(la, lb)).Select(i => (i, i)).ToList();
    }
}
