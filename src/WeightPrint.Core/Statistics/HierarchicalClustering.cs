namespace WeightPrint.Statistics;

/// <summary>One merge of agglomerative clustering: clusters <see cref="Left"/> and <see cref="Right"/> (ids: 0..n−1
/// are the leaves, n + k is the cluster made by merge k) joined at <see cref="Distance"/>, holding <see cref="Size"/> leaves.</summary>
public sealed record ClusterMerge(int Left, int Right, double Distance, int Size);

/// <summary>Average-linkage (UPGMA) agglomerative clustering of a symmetric distance matrix; ties merge the
/// lowest ids first, so the result is deterministic. O(n³), for model lists (tens to hundreds).</summary>
public static class HierarchicalClustering
{
    /// <summary>Largest number of items accepted.</summary>
    public const int MaxItems = 2000;

    public static IReadOnlyList<ClusterMerge> AverageLinkage(ReadOnlySpan<double> distances, int n)
    {
        if (n < 0 || n > MaxItems) throw new ArgumentOutOfRangeException(nameof(n), $"between 0 and {MaxItems} items");
        if (distances.Length != n * n) throw new ArgumentException("distances must be n × n", nameof(distances));
        var d = distances.ToArray();
        var id = new int[n];
        var size = new int[n];
        var active = new bool[n];
        for (int i = 0; i < n; i++)
        {
            id[i] = i;
            size[i] = 1;
            active[i] = true;
        }

        var merges = new List<ClusterMerge>();
        for (int step = 0; step < n - 1; step++)
        {
            int bi = -1, bj = -1;
            double best = double.PositiveInfinity;
            for (int i = 0; i < n; i++)
            {
                if (!active[i]) continue;
                for (int j = i + 1; j < n; j++)
                {
                    if (!active[j]) continue;
                    double v = d[i * n + j];
                    if (v < best || bi < 0)
                    {
                        best = v;
                        bi = i;
                        bj = j;
                    }
                }
            }

            int merged = size[bi] + size[bj];
            merges.Add(new ClusterMerge(Math.Min(id[bi], id[bj]), Math.Max(id[bi], id[bj]), best, merged));
            for (int k = 0; k < n; k++)
            {
                if (!active[k] || k == bi || k == bj) continue;
                double v = (d[bi * n + k] * size[bi] + d[bj * n + k] * size[bj]) / merged;
                d[bi * n + k] = v;
                d[k * n + bi] = v;
            }

            active[bj] = false;
            size[bi] = merged;
            id[bi] = n + step;
        }

        return merges;
    }
}
