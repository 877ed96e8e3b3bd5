using System.Numerics;
using System.Runtime.InteropServices;

namespace WeightPrint.Statistics;

/// <summary>Small dense linear algebra on row-major arrays: dot products, Gram matrices, Cholesky, singular
/// values (one-sided Jacobi) and the orthogonal Procrustes rotation.</summary>
internal static class LinearAlgebra
{
    /// <summary>Elements summed in float before folding into double (the project's accumulation rule).</summary>
    public const int ChunkElements = 4096;

    /// <summary>Dot product of two float vectors: SIMD float sums per 4K chunk, double across chunks.</summary>
    public static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("lengths differ", nameof(y));
        double total = 0;
        for (int start = 0; start < x.Length; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, x.Length - start);
            total += DotChunk(x.Slice(start, n), y.Slice(start, n));
        }

        return total;
    }

    private static float DotChunk(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < vx.Length; k++) acc += vx[k] * vy[k];
            sum = Vector.Sum(acc);
            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary>Euclidean norm of a float vector.</summary>
    public static double Norm(ReadOnlySpan<float> x) => Math.Sqrt(Dot(x, x));

    /// <summary>Scales each row of a row-major matrix to unit norm (zero rows stay zero).</summary>
    public static void NormalizeRows(Span<float> m, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = m.Slice(i * cols, cols);
            double norm = Norm(row);
            if (norm > 0) Scale(row, (float)(1 / norm), row);
        }
    }

    /// <summary>destination[i] = x[i] · factor (SIMD; <paramref name="destination"/> may be <paramref name="x"/>).</summary>
    public static void Scale(ReadOnlySpan<float> x, float factor, Span<float> destination)
    {
        if (destination.Length < x.Length) throw new ArgumentException("destination too short", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<float>(factor);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count) (new Vector<float>(x[i..]) * f).CopyTo(destination[i..]);
        }

        for (; i < x.Length; i++) destination[i] = x[i] * factor;
    }

    /// <summary>C = A·Bᵀ for A (n × k) and B (m × k), float rows, result float (n × m). Register-blocked: four rows of A
    /// against two of B at a time (eight independent SIMD accumulators, so the multiply-adds are not serialised on one
    /// sum), float sums per <see cref="ChunkElements"/> chunk and double across chunks like <see cref="Dot"/>; blocks
    /// of rows of C spread over <paramref name="threads"/> threads.</summary>
    public static void MultiplyTransposed(float[] a, int n, float[] b, int m, int k, float[] c, int threads = 1)
    {
        if (a.Length != n * k || b.Length != m * k || c.Length != n * m) throw new ArgumentException("shape mismatch");
        Multiply(i => a.AsSpan(i * k, k), n, j => b.AsSpan(j * k, k), m, k, c, threads);
    }

    /// <summary>C = A·Bᵀ as <see cref="MultiplyTransposed"/>, for rows held in separate arrays (each k long): no stacking copy.</summary>
    public static void MultiplyTransposedRows(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b, int k, float[] c, int threads = 1)
    {
        if (a.Any(r => r.Length != k) || b.Any(r => r.Length != k) || c.Length != a.Count * b.Count) throw new ArgumentException("shape mismatch");
        Multiply(i => a[i], a.Count, j => b[j], b.Count, k, c, threads);
    }

    private delegate ReadOnlySpan<float> RowOf(int index);

    private static void Multiply(RowOf a, int n, RowOf b, int m, int k, float[] c, int threads)
    {
        int rowBlocks = (n + 3) / 4;
        Parallel.For(0, rowBlocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, blockIndex =>
        {
            int i0 = blockIndex * 4;
            if (n - i0 < 4 || !Vector.IsHardwareAccelerated || k < Vector<float>.Count)
            {
                for (int i = i0; i < Math.Min(n, i0 + 4); i++)
                {
                    var ai = a(i);
                    for (int j = 0; j < m; j++) c[i * m + j] = (float)Dot(ai, b(j));
                }

                return;
            }

            Span<double> sums = stackalloc double[8];
            ReadOnlySpan<float> a0 = a(i0), a1 = a(i0 + 1), a2 = a(i0 + 2), a3 = a(i0 + 3);
            int j0 = 0;
            for (; j0 + 2 <= m; j0 += 2)
            {
                Block4x2(a0, a1, a2, a3, b(j0), b(j0 + 1), k, sums);
                for (int r = 0; r < 4; r++)
                {
                    c[(i0 + r) * m + j0] = (float)sums[2 * r];
                    c[(i0 + r) * m + j0 + 1] = (float)sums[2 * r + 1];
                }
            }

            for (; j0 < m; j0++)
            {
                for (int r = 0; r < 4; r++) c[(i0 + r) * m + j0] = (float)Dot(a(i0 + r), b(j0));
            }
        });
    }

    /// <summary>Dot products of four rows of A with two of B (each k long), into <paramref name="sums"/>[2·r + c].</summary>
    private static void Block4x2(ReadOnlySpan<float> ra0, ReadOnlySpan<float> ra1, ReadOnlySpan<float> ra2, ReadOnlySpan<float> ra3,
        ReadOnlySpan<float> rb0, ReadOnlySpan<float> rb1, int k, Span<double> sums)
    {
        sums.Clear();
        int w = Vector<float>.Count;
        for (int start = 0; start < k; start += ChunkElements)
        {
            int len = Math.Min(ChunkElements, k - start);
            int vecLen = len / w * w;
            Vector<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            var a0 = ra0.Slice(start, len);
            var a1 = ra1.Slice(start, len);
            var a2 = ra2.Slice(start, len);
            var a3 = ra3.Slice(start, len);
            var b0 = rb0.Slice(start, len);
            var b1 = rb1.Slice(start, len);
            for (int t = 0; t < vecLen; t += w)
            {
                var y0 = new Vector<float>(b0[t..]);
                var y1 = new Vector<float>(b1[t..]);
                var x = new Vector<float>(a0[t..]);
                s00 = Vector.FusedMultiplyAdd(x, y0, s00);
                s01 = Vector.FusedMultiplyAdd(x, y1, s01);
                x = new Vector<float>(a1[t..]);
                s10 = Vector.FusedMultiplyAdd(x, y0, s10);
                s11 = Vector.FusedMultiplyAdd(x, y1, s11);
                x = new Vector<float>(a2[t..]);
                s20 = Vector.FusedMultiplyAdd(x, y0, s20);
                s21 = Vector.FusedMultiplyAdd(x, y1, s21);
                x = new Vector<float>(a3[t..]);
                s30 = Vector.FusedMultiplyAdd(x, y0, s30);
                s31 = Vector.FusedMultiplyAdd(x, y1, s31);
            }

            Span<float> chunk = [Vector.Sum(s00), Vector.Sum(s01), Vector.Sum(s10), Vector.Sum(s11), Vector.Sum(s20), Vector.Sum(s21), Vector.Sum(s30), Vector.Sum(s31)];
            for (int t = vecLen; t < len; t++)
            {
                chunk[0] += a0[t] * b0[t];
                chunk[1] += a0[t] * b1[t];
                chunk[2] += a1[t] * b0[t];
                chunk[3] += a1[t] * b1[t];
                chunk[4] += a2[t] * b0[t];
                chunk[5] += a2[t] * b1[t];
                chunk[6] += a3[t] * b0[t];
                chunk[7] += a3[t] * b1[t];
            }

            for (int r = 0; r < 8; r++) sums[r] += chunk[r];
        }
    }

    /// <summary>Gram matrix X·Xᵀ (n × n, double) of a float matrix X (n × p).</summary>
    public static double[] Gram(ReadOnlySpan<float> x, int n, int p)
    {
        if (x.Length != n * p) throw new ArgumentException("shape mismatch", nameof(x));
        var g = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var xi = x.Slice(i * p, p);
            for (int j = 0; j <= i; j++)
            {
                double v = Dot(xi, x.Slice(j * p, p));
                g[i * n + j] = v;
                g[j * n + i] = v;
            }
        }

        return g;
    }

    /// <summary>Product of double matrices A (n × k) · B (k × m).</summary>
    public static double[] Multiply(ReadOnlySpan<double> a, int n, int k, ReadOnlySpan<double> b, int m)
    {
        if (a.Length != n * k || b.Length != k * m) throw new ArgumentException("shape mismatch");
        var c = new double[n * m];
        int width = Vector<double>.Count;
        for (int i = 0; i < n; i++)
        {
            var ci = c.AsSpan(i * m, m);
            var cv = MemoryMarshal.Cast<double, Vector<double>>(ci);
            int tail = cv.Length * width;
            for (int t = 0; t < k; t++)
            {
                double ait = a[i * k + t];
                if (ait == 0) continue;
                var bt = b.Slice(t * m, m);
                var bv = MemoryMarshal.Cast<double, Vector<double>>(bt);
                var s = new Vector<double>(ait);
                for (int j = 0; j < cv.Length; j++) cv[j] += s * bv[j];
                for (int j = tail; j < m; j++) ci[j] += ait * bt[j];
            }
        }

        return c;
    }

    /// <summary>Transpose of a row-major n × m matrix.</summary>
    public static double[] Transpose(ReadOnlySpan<double> a, int n, int m)
    {
        var t = new double[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++) t[j * n + i] = a[i * m + j];
        }

        return t;
    }

    /// <summary>
    /// A factor L with L·Lᵀ = G for a symmetric positive semi-definite G (n × n): Cholesky when G is positive
    /// definite, otherwise the symmetric square root V·√max(Λ, 0)·Vᵀ.
    /// </summary>
    public static double[] PsdFactor(ReadOnlySpan<double> g, int n)
    {
        var l = new double[n * n];
        bool ok = true;
        for (int j = 0; j < n && ok; j++)
        {
            double s = g[j * n + j];
            for (int k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
            if (s <= 1e-12 * Math.Max(1e-300, Math.Abs(g[j * n + j])))
            {
                ok = false;
                break;
            }

            double ljj = Math.Sqrt(s);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++)
            {
                double t = g[i * n + j];
                for (int k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = t / ljj;
            }
        }

        if (ok) return l;
        var (values, vectors) = SymmetricEigen.Decompose(g, n);
        var f = new double[n * n];
        for (int k = 0; k < n; k++)
        {
            double s = Math.Sqrt(Math.Max(0, values[k]));
            for (int i = 0; i < n; i++) f[i * n + k] = vectors[i * n + k] * s;
        }

        return f;
    }

    /// <summary>Singular values (descending) of a row-major rows × cols matrix, by one-sided Jacobi rotations
    /// (Hestenes): accurate to working precision, O(min·max·min) per sweep. For small matrices.</summary>
    public static double[] SingularValues(ReadOnlySpan<double> a, int rows, int cols)
    {
        if (a.Length != rows * cols) throw new ArgumentException("shape mismatch", nameof(a));
        // Work on columns of the taller orientation: w is (n vectors of length m), m ≥ n.
        bool transpose = cols > rows;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;
        var w = new double[n * m]; // w[j * m + i]: column j
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                if (transpose) w[i * m + j] = a[i * cols + j];
                else w[j * m + i] = a[i * cols + j];
            }
        }

        for (int sweep = 0; sweep < 60; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < m; i++)
                    {
                        double x = w[p * m + i], y = w[q * m + i];
                        alpha += x * x;
                        beta += y * y;
                        gamma += x * y;
                    }

                    if (Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta) || gamma == 0) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    for (int i = 0; i < m; i++)
                    {
                        double x = w[p * m + i], y = w[q * m + i];
                        w[p * m + i] = c * x - s * y;
                        w[q * m + i] = s * x + c * y;
                    }
                }
            }

            if (!rotated) break;
        }

        var sv = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < m; i++) s += w[j * m + i] * w[j * m + i];
            sv[j] = Math.Sqrt(s);
        }

        Array.Sort(sv);
        Array.Reverse(sv);
        return sv;
    }

    /// <summary>
    /// Orthogonal Procrustes: the orthogonal Q (d × d) maximising ⟨M, Q⟩ = tr(Mᵀ Q), i.e. the polar factor
    /// Q = M (MᵀM)^(−1/2) of M = Σₜ aₜ bₜᵀ; Q then maps b-space vectors onto a-space (Q bₜ ≈ aₜ). Directions
    /// where M is (numerically) singular are completed to an orthogonal matrix arbitrarily.
    /// </summary>
    public static double[] ProcrustesRotation(ReadOnlySpan<double> m, int d)
    {
        if (m.Length != d * d) throw new ArgumentException("M must be d × d", nameof(m));
        var mt = Transpose(m, d, d);
        var mtm = Multiply(mt, d, d, m, d);
        var (values, v) = SymmetricEigen.Decompose(mtm, d);
        double top = Math.Max(values[^1], 1e-300);
        // U columns: M vₖ / σₖ for σₖ above tolerance; the rest from Gram–Schmidt on the unit basis.
        var mv = Multiply(m, d, d, v, d);
        var u = new double[d * d];
        var good = new bool[d];
        for (int k = 0; k < d; k++)
        {
            if (values[k] > 1e-20 * top)
            {
                double s = Math.Sqrt(values[k]);
                for (int i = 0; i < d; i++) u[i * d + k] = mv[i * d + k] / s;
                good[k] = true;
            }
        }

        for (int k = 0, basis = 0; k < d; k++)
        {
            if (good[k]) continue;
            while (basis < d)
            {
                var col = new double[d];
                col[basis++] = 1;
                for (int j = 0; j < d; j++)
                {
                    if (!good[j]) continue;
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += u[i * d + j] * col[i];
                    for (int i = 0; i < d; i++) col[i] -= dot * u[i * d + j];
                }

                double norm = Math.Sqrt(col.Sum(x => x * x));
                if (norm < 1e-8) continue;
                for (int i = 0; i < d; i++) u[i * d + k] = col[i] / norm;
                good[k] = true;
                break;
            }
        }

        // Q = U Vᵀ
        var q = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += u[i * d + k] * v[j * d + k];
                q[i * d + j] = s;
            }
        }

        return q;
    }
}
