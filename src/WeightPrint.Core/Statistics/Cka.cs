namespace WeightPrint.Statistics;

/// <summary>
/// Linear centred kernel alignment with the unbiased HSIC estimator (Song et al. 2012, "Feature selection via
/// dependence maximization", JMLR 13, eq. 5; used for CKA by Nguyen, Raghu and Kornblith 2021):
/// HSIC₁(K, L) = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3)), K̃ = K with a zero diagonal;
/// CKA = HSIC₁(K, L) / √(HSIC₁(K, K)·HSIC₁(L, L)). Needs n ≥ 4 examples. Invariant to orthogonal transforms and
/// isotropic scaling of either representation's features; its expectation is ≈ 0 for independent ones.
/// </summary>
internal static class Cka
{
    /// <summary>Unbiased HSIC of two n × n kernel (Gram) matrices.</summary>
    public static double UnbiasedHsic(ReadOnlySpan<double> k, ReadOnlySpan<double> l, int n)
    {
        if (n < 4) return double.NaN;
        if (k.Length != n * n || l.Length != n * n) throw new ArgumentException("kernels must be n × n");
        double trace = 0, sumK = 0, sumL = 0, cross = 0;
        for (int i = 0; i < n; i++)
        {
            double rowK = 0, rowL = 0;
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double kij = k[i * n + j], lij = l[i * n + j];
                trace += kij * l[j * n + i];
                rowK += kij;
                rowL += lij;
            }

            sumK += rowK;
            sumL += rowL;
            cross += rowK * rowL;
        }

        double value = trace + sumK * sumL / ((n - 1.0) * (n - 2.0)) - 2.0 / (n - 2.0) * cross;
        return value / (n * (n - 3.0));
    }

    /// <summary>Unbiased linear CKA of two n × n Gram matrices; NaN when a self-HSIC is not positive.</summary>
    public static double LinearCka(ReadOnlySpan<double> gramX, ReadOnlySpan<double> gramY, int n)
    {
        double xy = UnbiasedHsic(gramX, gramY, n);
        double xx = UnbiasedHsic(gramX, gramX, n);
        double yy = UnbiasedHsic(gramY, gramY, n);
        if (!(xx > 0) || !(yy > 0)) return double.NaN;
        return xy / Math.Sqrt(xx * yy);
    }

    /// <summary>Unbiased linear CKA of two representations of the same n examples: X (n × p) and Y (n × q).</summary>
    public static double LinearCka(ReadOnlySpan<float> x, int p, ReadOnlySpan<float> y, int q, int n)
        => LinearCka(LinearAlgebra.Gram(x, n, p), LinearAlgebra.Gram(y, n, q), n);
}
