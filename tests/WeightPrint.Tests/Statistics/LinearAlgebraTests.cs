using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class LinearAlgebraTests
{
    private static double[] RandomSymmetric(int n, int seed)
    {
        var rnd = new Random(seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rnd.NextDouble() * 2 - 1;
        }

        return a;
    }

    [Fact]
    public void Transpose_in_tiles_matches_the_definition_for_every_shape_to_70()
    {
        for (int rows = 0; rows <= 70; rows += 7)
        {
            for (int cols = 0; cols <= 70; cols += 5)
            {
                var m = Enumerable.Range(0, rows * cols).Select(i => (float)i).ToArray();
                var t = WeightPrint.Signals.Toolbox.ModelParts.Transpose(m, rows, cols);
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < cols; j++) Assert.Equal(m[i * cols + j], t[j * rows + i]);
                }
            }
        }
    }

    [Fact]
    public void Scale_multiplies_every_element_for_every_length_to_256_in_place_or_not()
    {
        var rnd = new Random(11);
        for (int n = 0; n <= 256; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 200 - 100)).ToArray();
            float f = (float)(rnd.NextDouble() * 4 - 2);
            var into = new float[n + 3];
            into[n] = into[n + 1] = into[n + 2] = 7; // past the end: untouched
            LinearAlgebra.Scale(x, f, into);
            var copy = x.ToArray();
            LinearAlgebra.Scale(copy, f, copy);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(x[i] * f, into[i]);
                Assert.Equal(x[i] * f, copy[i]);
            }

            Assert.Equal([7f, 7f, 7f], into[n..]);
        }

        Assert.Throws<ArgumentException>(() => LinearAlgebra.Scale(new float[5], 2, new float[4]));
    }

    [Fact]
    public void Multiply_transposed_matches_double_dot_products_for_every_inner_length_to_256()
    {
        // Every inner length 0..256 (vector remainders, the 4 × 2 block and its edges: n and m not multiples of 4 and 2),
        // and one beyond a 4K chunk; against a plain double sum of the same products.
        var rnd = new Random(5);
        foreach (int k in Enumerable.Range(0, 257).Append(4096 + 37))
        {
            int n = 1 + rnd.Next(9), m = 1 + rnd.Next(7);
            var a = Enumerable.Range(0, n * k).Select(_ => (float)(rnd.NextDouble() * 2 - 1)).ToArray();
            var b = Enumerable.Range(0, m * k).Select(_ => (float)(rnd.NextDouble() * 2 - 1)).ToArray();
            var c = new float[n * m];
            LinearAlgebra.MultiplyTransposed(a, n, b, m, k, c, threads: 2);
            // Rows in separate arrays: the same kernel, the same bits.
            var fromRows = new float[n * m];
            LinearAlgebra.MultiplyTransposedRows([.. Enumerable.Range(0, n).Select(i => a[(i * k)..((i + 1) * k)])], [.. Enumerable.Range(0, m).Select(j => b[(j * k)..((j + 1) * k)])], k, fromRows, threads: 2);
            Assert.Equal(c, fromRows);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < m; j++)
                {
                    double expected = 0;
                    for (int t = 0; t < k; t++) expected += (double)a[i * k + t] * b[j * k + t];
                    Assert.True(Math.Abs(c[i * m + j] - expected) <= 1e-5 * Math.Max(1, Math.Sqrt(k)), $"k {k}, n {n}, m {m}, cell ({i}, {j}): {c[i * m + j]} vs {expected}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(40)]
    public void Eigen_decomposition_reconstructs(int n)
    {
        var a = RandomSymmetric(n, n);
        var (values, vectors) = SymmetricEigen.Decompose(a, n);
        for (int k = 0; k < n; k++)
        {
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
                Assert.Equal(values[k] * vectors[i * n + k], av, 10);
            }
        }

        for (int p = 0; p < n; p++)
        {
            for (int q = 0; q < n; q++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += vectors[i * n + p] * vectors[i * n + q];
                Assert.Equal(p == q ? 1 : 0, dot, 10);
            }
        }

        for (int k = 1; k < n; k++) Assert.True(values[k] >= values[k - 1]);
        var (jacobi, _) = SymmetricEigen.Jacobi(a, n);
        for (int k = 0; k < n; k++) Assert.Equal(jacobi[k], values[k], 10);
        Assert.Equal(values, SymmetricEigen.Values(a, n));
    }

    [Fact]
    public void Eigenvalues_of_known_matrix()
    {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3; a diagonal matrix its diagonal.
        Assert.Equal([1, 3], SymmetricEigen.Decompose([2, 1, 1, 2], 2).Values.Select(v => Math.Round(v, 12)));
        Assert.Equal([-1, 0, 5], SymmetricEigen.Decompose([5, 0, 0, 0, -1, 0, 0, 0, 0], 3).Values.Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void Singular_values_of_known_matrices()
    {
        // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] with eigenvalues 45 and 5.
        var s = LinearAlgebra.SingularValues([3, 0, 4, 5], 2, 2);
        Assert.Equal(Math.Sqrt(45), s[0], 12);
        Assert.Equal(Math.Sqrt(5), s[1], 12);
        // Rectangular and rank-deficient: rows (1, 2, 3) and (2, 4, 6) → σ = (√(14·5), 0).
        var r = LinearAlgebra.SingularValues([1, 2, 3, 2, 4, 6], 2, 3);
        Assert.Equal(Math.Sqrt(70), r[0], 12);
        Assert.Equal(0, r[1], 7);
    }

    [Fact]
    public void Singular_values_match_eigenvalues_of_gram()
    {
        var rnd = new Random(5);
        const int m = 9, n = 6;
        var a = Enumerable.Range(0, m * n).Select(_ => rnd.NextDouble() - 0.5).ToArray();
        var ata = LinearAlgebra.Multiply(LinearAlgebra.Transpose(a, m, n), n, m, a, n);
        var eig = SymmetricEigen.Values(ata, n).Reverse().ToArray();
        var s = LinearAlgebra.SingularValues(a, m, n);
        for (int k = 0; k < n; k++) Assert.Equal(Math.Sqrt(eig[k]), s[k], 10);
        Assert.Equal(s, LinearAlgebra.SingularValues(LinearAlgebra.Transpose(a, m, n), n, m), new ToleranceComparer(1e-10));
    }

    [Fact]
    public void Procrustes_recovers_a_rotation()
    {
        const int d = 6, t = 40;
        var rnd = new Random(9);
        var (_, q) = SymmetricEigen.Decompose(RandomSymmetric(d, 77), d); // a random orthogonal matrix
        var a = Enumerable.Range(0, t * d).Select(_ => rnd.NextDouble() - 0.5).ToArray();
        // bₜ = Qᵀ aₜ, so Q bₜ = aₜ.
        var b = LinearAlgebra.Multiply(a, t, d, q, d);
        var m = LinearAlgebra.Multiply(LinearAlgebra.Transpose(a, t, d), d, t, b, d); // Σ aₜ bₜᵀ
        var found = LinearAlgebra.ProcrustesRotation(m, d);
        for (int i = 0; i < d * d; i++) Assert.Equal(q[i], found[i], 9);
    }

    [Fact]
    public void Psd_factor_reproduces_the_matrix()
    {
        double[] pd = [4, 2, 2, 3];
        double[] singular = [1, 1, 1, 1];
        foreach (var g in new[] { pd, singular })
        {
            var l = LinearAlgebra.PsdFactor(g, 2);
            var llt = LinearAlgebra.Multiply(l, 2, 2, LinearAlgebra.Transpose(l, 2, 2), 2);
            for (int i = 0; i < 4; i++) Assert.Equal(g[i], llt[i], 10);
        }
    }

    [Fact]
    public void Dot_accumulates_long_vectors_accurately()
    {
        var x = Enumerable.Repeat(0.1f, 1_000_003).ToArray();
        Assert.Equal(1_000_003 * 0.1 * 0.1, LinearAlgebra.Dot(x, x), 0.05);
        Assert.Equal(32.0, LinearAlgebra.Dot([1, 2, 3], [4, 5, 6]), 12);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
