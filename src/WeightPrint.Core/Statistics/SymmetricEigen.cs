namespace WeightPrint.Statistics;

/// <summary>
/// Eigen-decomposition of real symmetric matrices (row-major n × n, only the values are read, the input is
/// not modified). <see cref="Decompose"/> uses Householder tridiagonalisation followed by the implicit QL
/// algorithm (the EISPACK tred2/tql2 pair); <see cref="Jacobi"/> is the cyclic Jacobi method, slower but
/// simple, kept as an independent check. Eigenvalues come back in ascending order; eigenvector k is column k
/// of the returned row-major matrix.
/// </summary>
internal static class SymmetricEigen
{
    /// <summary>Largest matrix accepted (the methods are O(n³)).</summary>
    public const int MaxOrder = 8192;

    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> a, int n) => Run(a, n, wantVectors: true);

    public static double[] Values(ReadOnlySpan<double> a, int n) => Run(a, n, wantVectors: false).Values;

    private static (double[] Values, double[] Vectors) Run(ReadOnlySpan<double> a, int n, bool wantVectors)
    {
        Check(a, n);
        if (n == 0) return ([], []);
        var v = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) v[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
        }

        var d = new double[n];
        var e = new double[n];
        Tridiagonalize(v, d, e, n, wantVectors);
        QlImplicit(v, d, e, n, wantVectors);
        SortAscending(d, v, n, wantVectors);
        return (d, wantVectors ? v : []);
    }

    private static void Check(ReadOnlySpan<double> a, int n)
    {
        if (n < 0 || n > MaxOrder) throw new ArgumentOutOfRangeException(nameof(n), $"order must be in 0..{MaxOrder}");
        if (a.Length != n * n) throw new ArgumentException("matrix length must be n × n", nameof(a));
    }

    // Householder reduction to tridiagonal form; v holds the accumulated orthogonal transformation on return.
    private static void Tridiagonalize(double[] v, double[] d, double[] e, int n, bool wantVectors)
    {
        for (int j = 0; j < n; j++) d[j] = v[(n - 1) * n + j];
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0;
                    v[j * n + i] = 0;
                }
            }
            else
            {
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }

                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[j * n + i] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++)
                    {
                        g += v[k * n + j] * d[k];
                        e[k] += v[k * n + j] * f;
                    }

                    e[j] = g;
                }

                f = 0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }

                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++) v[k * n + j] -= f * e[k] + g * d[k];
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0;
                }
            }

            d[i] = h;
        }

        if (!wantVectors)
        {
            // The diagonal of the tridiagonal form sits on v's diagonal; the accumulation below (O(n³)) only builds vectors.
            for (int j = 0; j < n; j++) d[j] = v[j * n + j];
            e[0] = 0;
            return;
        }

        for (int i = 0; i < n - 1; i++)
        {
            v[(n - 1) * n + i] = v[i * n + i];
            v[i * n + i] = 1;
            double h = d[i + 1];
            if (h != 0)
            {
                for (int k = 0; k <= i; k++) d[k] = v[k * n + i + 1] / h;
                for (int j = 0; j <= i; j++)
                {
                    double g = 0;
                    for (int k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j];
                    for (int k = 0; k <= i; k++) v[k * n + j] -= g * d[k];
                }
            }

            for (int k = 0; k <= i; k++) v[k * n + i + 1] = 0;
        }

        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
            v[(n - 1) * n + j] = 0;
        }

        v[(n - 1) * n + n - 1] = 1;
        e[0] = 0;
    }

    // Implicit QL iterations on the tridiagonal (d, e), accumulating rotations into v when wanted.
    private static void QlImplicit(double[] v, double[] d, double[] e, int n, bool wantVectors)
    {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0;
        const double eps = 2.220446049250313e-16;
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1) m++;
            if (m > l)
            {
                int iterations = 0;
                do
                {
                    if (++iterations > 200) throw new InvalidOperationException("symmetric eigen-decomposition did not converge");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = c, c3 = c, el1 = e[l + 1], s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        if (wantVectors)
                        {
                            for (int k = 0; k < n; k++)
                            {
                                h = v[k * n + i + 1];
                                v[k * n + i + 1] = s * v[k * n + i] + c * h;
                                v[k * n + i] = c * v[k * n + i] - s * h;
                            }
                        }
                    }

                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > eps * tst1);
            }

            d[l] += f;
            e[l] = 0;
        }
    }

    private static double Hypot(double a, double b)
    {
        a = Math.Abs(a);
        b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double r = b / a;
        return a * Math.Sqrt(1 + r * r);
    }

    private static void SortAscending(double[] d, double[] v, int n, bool wantVectors)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = (double[])d.Clone();
        Array.Sort(keys, order);
        Array.Copy(keys, d, n);
        if (!wantVectors) return;
        var copy = (double[])v.Clone();
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++) v[i * n + k] = copy[i * n + order[k]];
        }
    }

    /// <summary>Cyclic Jacobi eigen-decomposition (small matrices; an independent check of <see cref="Decompose"/>).</summary>
    public static (double[] Values, double[] Vectors) Jacobi(ReadOnlySpan<double> a, int n)
    {
        Check(a, n);
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
        }

        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    total += m[i * n + j] * m[i * n + j];
                    if (i != j) off += m[i * n + j] * m[i * n + j];
                }
            }

            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = m[p * n + q];
                    if (apq == 0) continue;
                    double theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k * n + p], mkq = m[k * n + q];
                        m[k * n + p] = c * mkp - s * mkq;
                        m[k * n + q] = s * mkp + c * mkq;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p * n + k], mqk = m[q * n + k];
                        m[p * n + k] = c * mpk - s * mqk;
                        m[q * n + k] = s * mpk + c * mqk;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }

        var d = new double[n];
        for (int i = 0; i < n; i++) d[i] = m[i * n + i];
        SortAscending(d, v, n, wantVectors: true);
        return (d, v);
    }
}
