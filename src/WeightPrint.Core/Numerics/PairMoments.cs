namespace WeightPrint.Numerics;

/// <summary>
/// Dot product, squared norms and sums of two equally long sets of values taken pairwise, accumulated in double:
/// enough for cosine similarity and Pearson correlation in one pass. A pair in which either value is NaN or
/// infinite is counted in <see cref="NonFiniteCount"/> and left out of everything else.
/// </summary>
internal struct PairMoments
{
    /// <summary>Pairs of finite values accumulated.</summary>
    public long Count;
    public double Dot;
    public double SumOfSquaresA;
    public double SumOfSquaresB;
    public double SumA;
    public double SumB;

    /// <summary>Pairs left out because a member was NaN or infinite.</summary>
    public long NonFiniteCount;

    /// <summary>Cosine similarity (uncentred); NaN when either vector is all zeros or nothing was accumulated.</summary>
    public readonly double Cosine
    {
        get
        {
            double den = Math.Sqrt(SumOfSquaresA) * Math.Sqrt(SumOfSquaresB);
            return den > 0 ? Math.Clamp(Dot / den, -1, 1) : double.NaN;
        }
    }

    /// <summary>Pearson correlation (cosine of the centred values); NaN when either side is constant.</summary>
    public readonly double Correlation
    {
        get
        {
            if (Count < 2) return double.NaN;
            double n = Count;
            double cov = Dot - SumA * SumB / n;
            double va = SumOfSquaresA - SumA * SumA / n;
            double vb = SumOfSquaresB - SumB * SumB / n;
            return va > 0 && vb > 0 ? Math.Clamp(cov / Math.Sqrt(va * vb), -1, 1) : double.NaN;
        }
    }

    public void Add(in PairMoments other)
    {
        Count += other.Count;
        Dot += other.Dot;
        SumOfSquaresA += other.SumOfSquaresA;
        SumOfSquaresB += other.SumOfSquaresB;
        SumA += other.SumA;
        SumB += other.SumB;
        NonFiniteCount += other.NonFiniteCount;
    }

    public static PairMoments Combine(in PairMoments a, in PairMoments b)
    {
        var m = a;
        m.Add(b);
        return m;
    }
}
