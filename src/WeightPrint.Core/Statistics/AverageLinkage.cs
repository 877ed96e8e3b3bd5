namespace WeightPrint.Statistics;

/// <summary>One merge of two clusters. Node ids: 0…n−1 are the leaves, n+i is the cluster made by merge i.</summary>
internal sealed record Merge(int Left, int Right, double Height, int Size);

/// <summary>A hierarchical clustering: the merges in order and the leaf order that draws it without crossings.</summary>
internal sealed record Dendrogram(int Leaves, IReadOnlyList<Merge> Merges, IReadOnlyList<int> Order);

/// <summary>
/// Agglomerative clustering with average linkage (UPGMA): the distance between two clusters is the mean of the
/// distances between their members. Deterministic: ties go to the pair with the smallest cluster ids, and in each
/// merge the cluster holding the lower-numbered leaf is drawn on the left.
/// </summary>
internal static class AverageLinkage
{
    /// <summary>Largest matrix clustered (the algorithm is cubic in the number of leaves).</summary>
    public const int MaxLeaves = 2048;

    /// <summary>
    /// Clusters a symmetric distance matrix. Non-finite distances (undefined scores) are treated as the largest
    /// finite distance present (or 1 when there is none), so undefined pairs join last.
    /// </summary>
    public static Dendrogram Cluster(double[,] distance)
    {
        int n = distance.GetLength(0);
        if (distance.GetLength(1) != n) throw new ArgumentException("distance matrix must be square", nameof(distance));
        if (n > MaxLeaves) throw new ArgumentException($"at most {MaxLeaves} leaves can be clustered", nameof(distance));
        if (n == 0) return new Dendrogram(0, [], []);

        double worst = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (i != j && double.IsFinite(distance[i, j])) worst = Math.Max(worst, distance[i, j]);
            }
        }

        if (!double.IsFinite(worst)) worst = 1;

        // Active clusters: node id, size, min leaf, and the current distance to every other active cluster.
        var ids = new List<int>();
        var sizes = new List<int>();
        var minLeaf = new List<int>();
        var d = new List<List<double>>();
        for (int i = 0; i < n; i++)
        {
            ids.Add(i);
            sizes.Add(1);
            minLeaf.Add(i);
            var row = new List<double>(n);
            for (int j = 0; j < n; j++)
            {
                double v = i == j ? 0 : Symmetric(distance, i, j);
                row.Add(double.IsFinite(v) ? v : worst);
            }

            d.Add(row);
        }

        var merges = new List<Merge>(n - 1);
        var children = new Dictionary<int, (int Left, int Right)>();
        while (ids.Count > 1)
        {
            int bi = 0, bj = 1;
            double best = double.PositiveInfinity;
            for (int i = 0; i < ids.Count; i++)
            {
                for (int j = i + 1; j < ids.Count; j++)
                {
                    if (d[i][j] < best)
                    {
                        best = d[i][j];
                        bi = i;
                        bj = j;
                    }
                }
            }

            int newId = n + merges.Count;
            bool iFirst = minLeaf[bi] <= minLeaf[bj];
            int left = iFirst ? ids[bi] : ids[bj], right = iFirst ? ids[bj] : ids[bi];
            int size = sizes[bi] + sizes[bj];
            merges.Add(new Merge(left, right, best, size));
            children[newId] = (left, right);

            // Distances of the merged cluster to the others: size-weighted mean (average linkage).
            var merged = new List<double>(ids.Count);
            for (int k = 0; k < ids.Count; k++)
                merged.Add(k == bi || k == bj ? 0 : (sizes[bi] * d[bi][k] + sizes[bj] * d[bj][k]) / size);
            int newMin = Math.Min(minLeaf[bi], minLeaf[bj]);

            // Replace bi with the merged cluster, then remove bj (bj > bi).
            ids[bi] = newId;
            sizes[bi] = size;
            minLeaf[bi] = newMin;
            for (int k = 0; k < ids.Count; k++)
            {
                d[bi][k] = merged[k];
                d[k][bi] = merged[k];
            }

            d[bi][bi] = 0;
            ids.RemoveAt(bj);
            sizes.RemoveAt(bj);
            minLeaf.RemoveAt(bj);
            d.RemoveAt(bj);
            foreach (var row in d) row.RemoveAt(bj);
        }

        var order = new List<int>(n);
        var stack = new Stack<int>();
        stack.Push(ids[0]);
        while (stack.Count > 0)
        {
            int node = stack.Pop();
            if (node < n)
            {
                order.Add(node);
                continue;
            }

            var (l, r) = children[node];
            stack.Push(r);
            stack.Push(l);
        }

        return new Dendrogram(n, merges, order);
    }

    private static double Symmetric(double[,] m, int i, int j)
    {
        double a = m[i, j], b = m[j, i];
        if (!double.IsFinite(a)) return b;
        if (!double.IsFinite(b)) return a;
        return (a + b) / 2;
    }
}
