using System.Diagnostics;
using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class LinearAssignmentTests
{
    private static double BruteForceMin(float[] cost, int rows, int cols)
    {
        // Enumerate injective maps rows → cols (rows ≤ cols) or cols → rows.
        double best = double.PositiveInfinity;
        var used = new bool[Math.Max(rows, cols)];
        if (rows <= cols) Recurse(0, 0);
        else
        {
            var t = new float[cost.Length];
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++) t[j * rows + i] = cost[i * cols + j];
            }

            return BruteForceMin(t, cols, rows);
        }

        return best;

        void Recurse(int row, double total)
        {
            if (row == rows)
            {
                best = Math.Min(best, total);
                return;
            }

            for (int j = 0; j < cols; j++)
            {
                if (used[j]) continue;
                used[j] = true;
                Recurse(row + 1, total + cost[row * cols + j]);
                used[j] = false;
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(6, 6)]
    [InlineData(3, 7)]
    [InlineData(7, 3)]
    [InlineData(5, 6)]
    public void Matches_brute_force(int rows, int cols)
    {
        for (int seed = 0; seed < 25; seed++)
        {
            var rnd = new Random(seed * 31 + rows * 7 + cols);
            // Mix continuous costs with integer costs (many ties).
            var cost = Enumerable.Range(0, rows * cols).Select(_ => seed % 2 == 0 ? (float)(rnd.NextDouble() * 10 - 3) : rnd.Next(4)).ToArray();
            var assignment = LinearAssignment.Minimize(cost, rows, cols);
            Assert.Equal(rows, assignment.Length);
            var assigned = assignment.Where(j => j >= 0).ToArray();
            Assert.Equal(Math.Min(rows, cols), assigned.Length);
            Assert.Equal(assigned.Length, assigned.Distinct().Count());
            Assert.Equal(BruteForceMin(cost, rows, cols), LinearAssignment.Total(cost, cols, assignment), 4);
        }
    }

    [Fact]
    public void Maximize_finds_the_hidden_permutation()
    {
        const int n = 300;
        var rnd = new Random(1);
        var perm = Enumerable.Range(0, n).OrderBy(_ => rnd.Next()).ToArray();
        var sim = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) sim[i * n + j] = (float)(rnd.NextDouble() * 0.5);
            sim[i * n + perm[i]] = 0.9f;
        }

        Assert.Equal(perm, LinearAssignment.Maximize(sim, n, n));
    }

    [Fact]
    public void Handles_empty_and_rejects_na_n()
    {
        Assert.Empty(LinearAssignment.Minimize([], 0, 5));
        Assert.Equal([-1, -1], LinearAssignment.Minimize([], 2, 0));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Minimize([1, float.NaN, 2, 3], 2, 2));
    }

    [Fact]
    public void Random_instance_of_size512_is_fast()
    {
        const int n = 512;
        var rnd = new Random(2);
        var cost = Enumerable.Range(0, n * n).Select(_ => (float)rnd.NextDouble()).ToArray();
        var sw = Stopwatch.StartNew();
        var a = LinearAssignment.Minimize(cost, n, n);
        sw.Stop();
        Assert.Equal(n, a.Distinct().Count());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }
}
