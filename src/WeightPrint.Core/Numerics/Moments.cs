namespace WeightPrint.Numerics;

/// <summary>
/// Count, sum, sum of squares, min, max and non-finite counts of a set of values, accumulated in double.
/// Non-finite values are counted apart and left out of the sums.
/// </summary>
internal struct Moments
{
    public long Count;
    public double Sum;
    public double SumOfSquares;
    public double Min;
    public double Max;
    public long NaNCount;
    public long InfinityCount;

    public static Moments Empty => new() { Min = double.PositiveInfinity, Max = double.NegativeInfinity };

    public readonly double Mean => Count == 0 ? double.NaN : Sum / Count;

    /// <summary>Unbiased variance (N−1), as <c>torch.var</c>/<c>torch.std</c>.</summary>
    public readonly double Variance
    {
        get
        {
            if (Count < 2) return double.NaN;
            double mean = Sum / Count;
            double v = (SumOfSquares - mean * Sum) / (Count - 1);
            return v < 0 ? 0 : v;
        }
    }

    /// <summary>Unbiased standard deviation (N−1), as <c>torch.std</c>.</summary>
    public readonly double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>Root mean square.</summary>
    public readonly double Rms => Count == 0 ? double.NaN : Math.Sqrt(SumOfSquares / Count);

    public void Add(in Moments other)
    {
        Count += other.Count;
        Sum += other.Sum;
        SumOfSquares += other.SumOfSquares;
        if (other.Min < Min) Min = other.Min;
        if (other.Max > Max) Max = other.Max;
        NaNCount += other.NaNCount;
        InfinityCount += other.InfinityCount;
    }

    public static Moments Combine(in Moments a, in Moments b)
    {
        var m = a;
        m.Add(b);
        return m;
    }
}
