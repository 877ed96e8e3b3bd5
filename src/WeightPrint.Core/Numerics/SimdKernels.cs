using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WeightPrint.Numerics;

/// <summary>
/// The generic single-pass loops behind <see cref="MomentKernels"/>, <see cref="PairKernels"/> and
/// <see cref="FloatConversion"/>: convert with an <see cref="IElementLoader"/> and reduce in the same loop.
/// <para>
/// Precision: each chunk of <see cref="MomentKernels.ChunkElements"/> elements is reduced in float (several
/// vector accumulators, so each lane sums at most 128 values), then folded into double. Non-finite values are
/// counted apart and left out of sums/min/max. The vector loop assumes every value is finite; when a chunk's
/// float sums come out non-finite (a NaN or infinity was read, or float overflow), that chunk is redone with a
/// masked vector loop that counts non-finite lanes and zeroes them out of the sums; if even that overflows (finite
/// values too large for float sums), with the scalar loop, which has the exact reference semantics.
/// </para>
/// </summary>
internal static unsafe class SimdKernels
{
    private const int Chunk = MomentKernels.ChunkElements;

    // ---------------------------------------------------------------- moments

    public static void Moments<T>(byte* p, int count, ref Moments m, SimdLevel level) where T : IElementLoader
    {
        int size = T.ElementSize;
        for (int start = 0; start < count; start += Chunk)
        {
            int n = Math.Min(Chunk, count - start);
            byte* c = p + (nint)start * size;
            bool done = level switch
            {
                SimdLevel.Vector512 => MomentsChunk512<T>(c, n, ref m) || MaskedMomentsChunk512<T>(c, n, ref m),
                SimdLevel.Vector256 => MomentsChunk256<T>(c, n, ref m) || MaskedMomentsChunk256<T>(c, n, ref m),
                _ => false,
            };
            if (!done) MomentsChunkScalar<T>(c, n, ref m);
        }
    }

    /// <summary>The reference semantics, one element at a time, float within the chunk.</summary>
    public static void MomentsChunkScalar<T>(byte* c, int n, ref Moments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        float s = 0, q = 0, mn = float.PositiveInfinity, mx = float.NegativeInfinity;
        long nan = 0, inf = 0;
        for (int i = 0; i < n; i++)
        {
            float v = T.Scalar(c + (nint)i * size);
            if (!float.IsFinite(v))
            {
                if (float.IsNaN(v)) nan++; else inf++;
                continue;
            }

            s += v;
            q += v * v;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }

        m.Count += n - nan - inf;
        m.Sum += s;
        m.SumOfSquares += q;
        if (mn < m.Min) m.Min = mn;
        if (mx > m.Max) m.Max = mx;
        m.NaNCount += nan;
        m.InfinityCount += inf;
    }

    private static bool MomentsChunk512<T>(byte* c, int n, ref Moments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector512<float>.Count;
        Vector512<float> s0 = default, s1 = default, q0 = default, q1 = default;
        Vector512<float> mn0 = Vector512.Create(float.PositiveInfinity), mn1 = mn0;
        Vector512<float> mx0 = Vector512.Create(float.NegativeInfinity), mx1 = mx0;
        int i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = T.Load512(c + (nint)i * size);
            var v1 = T.Load512(c + (nint)(i + w) * size);
            s0 += v0;
            s1 += v1;
            q0 = Vector512.FusedMultiplyAdd(v0, v0, q0);
            q1 = Vector512.FusedMultiplyAdd(v1, v1, q1);
            mn0 = Vector512.MinNative(mn0, v0);
            mn1 = Vector512.MinNative(mn1, v1);
            mx0 = Vector512.MaxNative(mx0, v0);
            mx1 = Vector512.MaxNative(mx1, v1);
        }

        for (; i <= n - w; i += w)
        {
            var v0 = T.Load512(c + (nint)i * size);
            s0 += v0;
            q0 = Vector512.FusedMultiplyAdd(v0, v0, q0);
            mn0 = Vector512.MinNative(mn0, v0);
            mx0 = Vector512.MaxNative(mx0, v0);
        }

        s0 += s1;
        q0 += q1;
        mn0 = Vector512.MinNative(mn0, mn1);
        mx0 = Vector512.MaxNative(mx0, mx1);
        return FinishMoments<T>(c, i, n, s0.GetLower() + s0.GetUpper(), q0.GetLower() + q0.GetUpper(),
            Vector256.MinNative(mn0.GetLower(), mn0.GetUpper()), Vector256.MaxNative(mx0.GetLower(), mx0.GetUpper()),
            size, ref m);
    }

    private static bool MomentsChunk256<T>(byte* c, int n, ref Moments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector256<float>.Count;
        Vector256<float> s0 = default, s1 = default, q0 = default, q1 = default;
        Vector256<float> mn0 = Vector256.Create(float.PositiveInfinity), mn1 = mn0;
        Vector256<float> mx0 = Vector256.Create(float.NegativeInfinity), mx1 = mx0;
        int i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = T.Load256(c + (nint)i * size);
            var v1 = T.Load256(c + (nint)(i + w) * size);
            s0 += v0;
            s1 += v1;
            q0 = Fma256(v0, v0, q0);
            q1 = Fma256(v1, v1, q1);
            mn0 = Vector256.MinNative(mn0, v0);
            mn1 = Vector256.MinNative(mn1, v1);
            mx0 = Vector256.MaxNative(mx0, v0);
            mx1 = Vector256.MaxNative(mx1, v1);
        }

        for (; i <= n - w; i += w)
        {
            var v0 = T.Load256(c + (nint)i * size);
            s0 += v0;
            q0 = Fma256(v0, v0, q0);
            mn0 = Vector256.MinNative(mn0, v0);
            mx0 = Vector256.MaxNative(mx0, v0);
        }

        return FinishMoments<T>(c, i, n, s0 + s1, q0 + q1, Vector256.MinNative(mn0, mn1), Vector256.MaxNative(mx0, mx1),
            size, ref m);
    }

    /// <summary>Adds the scalar tail [i, n), checks finiteness and folds the chunk into double.</summary>
    private static bool FinishMoments<T>(byte* c, int i, int n, Vector256<float> s, Vector256<float> q,
        Vector256<float> mn, Vector256<float> mx, int size, ref Moments m) where T : IElementLoader
    {
        float ts = 0, tq = 0, tmn = float.PositiveInfinity, tmx = float.NegativeInfinity;
        for (; i < n; i++)
        {
            float v = T.Scalar(c + (nint)i * size);
            ts += v;
            tq += v * v;
            if (v < tmn) tmn = v;
            if (v > tmx) tmx = v;
        }

        if (!AllFinite(s) || !AllFinite(q) || !float.IsFinite(ts) || !float.IsFinite(tq)) return false;
        m.Count += n;
        m.Sum += SumToDouble(s) + ts;
        m.SumOfSquares += SumToDouble(q) + tq;
        for (int k = 0; k < Vector256<float>.Count; k++)
        {
            if (mn[k] < tmn) tmn = mn[k];
            if (mx[k] > tmx) tmx = mx[k];
        }

        if (tmn < m.Min) m.Min = tmn;
        if (tmx > m.Max) m.Max = tmx;
        return true;
    }

    // ---------------------------------------------------------------- pairs

    public static void Pairs<T>(byte* a, byte* b, int count, ref PairMoments m, SimdLevel level) where T : IElementLoader
    {
        int size = T.ElementSize;
        for (int start = 0; start < count; start += Chunk)
        {
            int n = Math.Min(Chunk, count - start);
            nint off = (nint)start * size;
            bool done = level switch
            {
                SimdLevel.Vector512 => PairsChunk512<T>(a + off, b + off, n, ref m) || MaskedPairsChunk512<T>(a + off, b + off, n, ref m),
                SimdLevel.Vector256 => PairsChunk256<T>(a + off, b + off, n, ref m) || MaskedPairsChunk256<T>(a + off, b + off, n, ref m),
                _ => false,
            };
            if (!done) PairsChunkScalar<T>(a + off, b + off, n, ref m);
        }
    }

    /// <summary>Reference semantics: a pair with a non-finite member is counted apart and left out.</summary>
    public static void PairsChunkScalar<T>(byte* a, byte* b, int n, ref PairMoments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        float d = 0, qa = 0, qb = 0, sa = 0, sb = 0;
        long bad = 0;
        for (int i = 0; i < n; i++)
        {
            float x = T.Scalar(a + (nint)i * size), y = T.Scalar(b + (nint)i * size);
            if (!float.IsFinite(x) || !float.IsFinite(y))
            {
                bad++;
                continue;
            }

            d += x * y;
            qa += x * x;
            qb += y * y;
            sa += x;
            sb += y;
        }

        m.Count += n - bad;
        m.NonFiniteCount += bad;
        m.Dot += d;
        m.SumOfSquaresA += qa;
        m.SumOfSquaresB += qb;
        m.SumA += sa;
        m.SumB += sb;
    }

    private static bool PairsChunk512<T>(byte* a, byte* b, int n, ref PairMoments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector512<float>.Count;
        Vector512<float> d0 = default, d1 = default, qa0 = default, qa1 = default, qb0 = default, qb1 = default;
        Vector512<float> sa0 = default, sa1 = default, sb0 = default, sb1 = default;
        int i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            nint o0 = (nint)i * size, o1 = (nint)(i + w) * size;
            var x0 = T.Load512(a + o0);
            var y0 = T.Load512(b + o0);
            var x1 = T.Load512(a + o1);
            var y1 = T.Load512(b + o1);
            d0 = Vector512.FusedMultiplyAdd(x0, y0, d0);
            d1 = Vector512.FusedMultiplyAdd(x1, y1, d1);
            qa0 = Vector512.FusedMultiplyAdd(x0, x0, qa0);
            qa1 = Vector512.FusedMultiplyAdd(x1, x1, qa1);
            qb0 = Vector512.FusedMultiplyAdd(y0, y0, qb0);
            qb1 = Vector512.FusedMultiplyAdd(y1, y1, qb1);
            sa0 += x0;
            sa1 += x1;
            sb0 += y0;
            sb1 += y1;
        }

        for (; i <= n - w; i += w)
        {
            nint o0 = (nint)i * size;
            var x0 = T.Load512(a + o0);
            var y0 = T.Load512(b + o0);
            d0 = Vector512.FusedMultiplyAdd(x0, y0, d0);
            qa0 = Vector512.FusedMultiplyAdd(x0, x0, qa0);
            qb0 = Vector512.FusedMultiplyAdd(y0, y0, qb0);
            sa0 += x0;
            sb0 += y0;
        }

        d0 += d1;
        qa0 += qa1;
        qb0 += qb1;
        sa0 += sa1;
        sb0 += sb1;
        return FinishPairs<T>(a, b, i, n, d0.GetLower() + d0.GetUpper(), qa0.GetLower() + qa0.GetUpper(),
            qb0.GetLower() + qb0.GetUpper(), sa0.GetLower() + sa0.GetUpper(), sb0.GetLower() + sb0.GetUpper(),
            size, ref m);
    }

    private static bool PairsChunk256<T>(byte* a, byte* b, int n, ref PairMoments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector256<float>.Count;
        Vector256<float> d0 = default, d1 = default, qa0 = default, qa1 = default, qb0 = default, qb1 = default;
        Vector256<float> sa0 = default, sa1 = default, sb0 = default, sb1 = default;
        int i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            nint o0 = (nint)i * size, o1 = (nint)(i + w) * size;
            var x0 = T.Load256(a + o0);
            var y0 = T.Load256(b + o0);
            var x1 = T.Load256(a + o1);
            var y1 = T.Load256(b + o1);
            d0 = Fma256(x0, y0, d0);
            d1 = Fma256(x1, y1, d1);
            qa0 = Fma256(x0, x0, qa0);
            qa1 = Fma256(x1, x1, qa1);
            qb0 = Fma256(y0, y0, qb0);
            qb1 = Fma256(y1, y1, qb1);
            sa0 += x0;
            sa1 += x1;
            sb0 += y0;
            sb1 += y1;
        }

        for (; i <= n - w; i += w)
        {
            nint o0 = (nint)i * size;
            var x0 = T.Load256(a + o0);
            var y0 = T.Load256(b + o0);
            d0 = Fma256(x0, y0, d0);
            qa0 = Fma256(x0, x0, qa0);
            qb0 = Fma256(y0, y0, qb0);
            sa0 += x0;
            sb0 += y0;
        }

        return FinishPairs<T>(a, b, i, n, d0 + d1, qa0 + qa1, qb0 + qb1, sa0 + sa1, sb0 + sb1, size, ref m);
    }

    private static bool FinishPairs<T>(byte* a, byte* b, int i, int n, Vector256<float> d, Vector256<float> qa,
        Vector256<float> qb, Vector256<float> sa, Vector256<float> sb, int size, ref PairMoments m) where T : IElementLoader
    {
        float td = 0, tqa = 0, tqb = 0, tsa = 0, tsb = 0;
        for (; i < n; i++)
        {
            float x = T.Scalar(a + (nint)i * size), y = T.Scalar(b + (nint)i * size);
            td += x * y;
            tqa += x * x;
            tqb += y * y;
            tsa += x;
            tsb += y;
        }

        // Any NaN/infinity read makes qa or qb non-finite; float overflow of any sum also sends the chunk to the
        // scalar loop, which gives the same (overflowed) float result as the reference.
        if (!AllFinite(qa) || !AllFinite(qb) || !AllFinite(sa) || !AllFinite(sb) || !AllFinite(d)
            || !float.IsFinite(tqa) || !float.IsFinite(tqb) || !float.IsFinite(td) || !float.IsFinite(tsa) || !float.IsFinite(tsb))
            return false;
        m.Count += n;
        m.Dot += SumToDouble(d) + td;
        m.SumOfSquaresA += SumToDouble(qa) + tqa;
        m.SumOfSquaresB += SumToDouble(qb) + tqb;
        m.SumA += SumToDouble(sa) + tsa;
        m.SumB += SumToDouble(sb) + tsb;
        return true;
    }

    // ---------------------------------------------------------------- masked (non-finite aware) vector loops

    private static bool MaskedMomentsChunk512<T>(byte* c, int n, ref Moments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector512<float>.Count;
        var absMask = Vector512.Create(0x7FFFFFFF);
        var infBits = Vector512.Create(0x7F800000);
        var posInf = Vector512.Create(float.PositiveInfinity);
        var negInf = Vector512.Create(float.NegativeInfinity);
        Vector512<float> s = default, q = default, mn = posInf, mx = negInf;
        Vector512<int> bad = default, nan = default;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            var v = T.Load512(c + (nint)i * size);
            var abs = v.AsInt32() & absMask;
            var isBad = Vector512.GreaterThanOrEqual(abs, infBits);
            bad -= isBad;
            nan -= Vector512.GreaterThan(abs, infBits);
            var badF = isBad.AsSingle();
            var z = Vector512.AndNot(v, badF);
            s += z;
            q = Vector512.FusedMultiplyAdd(z, z, q);
            mn = Vector512.MinNative(mn, Vector512.ConditionalSelect(badF, posInf, v));
            mx = Vector512.MaxNative(mx, Vector512.ConditionalSelect(badF, negInf, v));
        }

        return FinishMasked<T>(c, i, n, s.GetLower() + s.GetUpper(), q.GetLower() + q.GetUpper(),
            Vector256.MinNative(mn.GetLower(), mn.GetUpper()), Vector256.MaxNative(mx.GetLower(), mx.GetUpper()),
            Vector512.Sum(bad), Vector512.Sum(nan), size, ref m);
    }

    private static bool MaskedMomentsChunk256<T>(byte* c, int n, ref Moments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector256<float>.Count;
        var absMask = Vector256.Create(0x7FFFFFFF);
        var infBits = Vector256.Create(0x7F800000);
        var posInf = Vector256.Create(float.PositiveInfinity);
        var negInf = Vector256.Create(float.NegativeInfinity);
        Vector256<float> s = default, q = default, mn = posInf, mx = negInf;
        Vector256<int> bad = default, nan = default;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            var v = T.Load256(c + (nint)i * size);
            var abs = v.AsInt32() & absMask;
            var isBad = Vector256.GreaterThanOrEqual(abs, infBits);
            bad -= isBad;
            nan -= Vector256.GreaterThan(abs, infBits);
            var badF = isBad.AsSingle();
            var z = Vector256.AndNot(v, badF);
            s += z;
            q = Fma256(z, z, q);
            mn = Vector256.MinNative(mn, Vector256.ConditionalSelect(badF, posInf, v));
            mx = Vector256.MaxNative(mx, Vector256.ConditionalSelect(badF, negInf, v));
        }

        return FinishMasked<T>(c, i, n, s, q, mn, mx, Vector256.Sum(bad), Vector256.Sum(nan), size, ref m);
    }

    private static bool FinishMasked<T>(byte* c, int i, int n, Vector256<float> s, Vector256<float> q,
        Vector256<float> mn, Vector256<float> mx, int bad, int nan, int size, ref Moments m) where T : IElementLoader
    {
        float ts = 0, tq = 0, tmn = float.PositiveInfinity, tmx = float.NegativeInfinity;
        for (; i < n; i++)
        {
            float v = T.Scalar(c + (nint)i * size);
            if (!float.IsFinite(v))
            {
                bad++;
                if (float.IsNaN(v)) nan++;
                continue;
            }

            ts += v;
            tq += v * v;
            if (v < tmn) tmn = v;
            if (v > tmx) tmx = v;
        }

        if (!AllFinite(s) || !AllFinite(q) || !float.IsFinite(ts) || !float.IsFinite(tq)) return false;
        m.Count += n - bad;
        m.NaNCount += nan;
        m.InfinityCount += bad - nan;
        m.Sum += SumToDouble(s) + ts;
        m.SumOfSquares += SumToDouble(q) + tq;
        for (int k = 0; k < Vector256<float>.Count; k++)
        {
            if (mn[k] < tmn) tmn = mn[k];
            if (mx[k] > tmx) tmx = mx[k];
        }

        if (tmn < m.Min) m.Min = tmn;
        if (tmx > m.Max) m.Max = tmx;
        return true;
    }

    private static bool MaskedPairsChunk512<T>(byte* a, byte* b, int n, ref PairMoments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector512<float>.Count;
        var absMask = Vector512.Create(0x7FFFFFFF);
        var infBits = Vector512.Create(0x7F800000);
        Vector512<float> d = default, qa = default, qb = default, sa = default, sb = default;
        Vector512<int> bad = default;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            nint o = (nint)i * size;
            var x = T.Load512(a + o);
            var y = T.Load512(b + o);
            var isBad = Vector512.GreaterThanOrEqual(x.AsInt32() & absMask, infBits) | Vector512.GreaterThanOrEqual(y.AsInt32() & absMask, infBits);
            bad -= isBad;
            x = Vector512.AndNot(x, isBad.AsSingle());
            y = Vector512.AndNot(y, isBad.AsSingle());
            d = Vector512.FusedMultiplyAdd(x, y, d);
            qa = Vector512.FusedMultiplyAdd(x, x, qa);
            qb = Vector512.FusedMultiplyAdd(y, y, qb);
            sa += x;
            sb += y;
        }

        return FinishMaskedPairs<T>(a, b, i, n, d.GetLower() + d.GetUpper(), qa.GetLower() + qa.GetUpper(),
            qb.GetLower() + qb.GetUpper(), sa.GetLower() + sa.GetUpper(), sb.GetLower() + sb.GetUpper(), Vector512.Sum(bad), size, ref m);
    }

    private static bool MaskedPairsChunk256<T>(byte* a, byte* b, int n, ref PairMoments m) where T : IElementLoader
    {
        int size = T.ElementSize;
        int w = Vector256<float>.Count;
        var absMask = Vector256.Create(0x7FFFFFFF);
        var infBits = Vector256.Create(0x7F800000);
        Vector256<float> d = default, qa = default, qb = default, sa = default, sb = default;
        Vector256<int> bad = default;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            nint o = (nint)i * size;
            var x = T.Load256(a + o);
            var y = T.Load256(b + o);
            var isBad = Vector256.GreaterThanOrEqual(x.AsInt32() & absMask, infBits) | Vector256.GreaterThanOrEqual(y.AsInt32() & absMask, infBits);
            bad -= isBad;
            x = Vector256.AndNot(x, isBad.AsSingle());
            y = Vector256.AndNot(y, isBad.AsSingle());
            d = Fma256(x, y, d);
            qa = Fma256(x, x, qa);
            qb = Fma256(y, y, qb);
            sa += x;
            sb += y;
        }

        return FinishMaskedPairs<T>(a, b, i, n, d, qa, qb, sa, sb, Vector256.Sum(bad), size, ref m);
    }

    private static bool FinishMaskedPairs<T>(byte* a, byte* b, int i, int n, Vector256<float> d, Vector256<float> qa,
        Vector256<float> qb, Vector256<float> sa, Vector256<float> sb, int bad, int size, ref PairMoments m) where T : IElementLoader
    {
        float td = 0, tqa = 0, tqb = 0, tsa = 0, tsb = 0;
        for (; i < n; i++)
        {
            float x = T.Scalar(a + (nint)i * size), y = T.Scalar(b + (nint)i * size);
            if (!float.IsFinite(x) || !float.IsFinite(y))
            {
                bad++;
                continue;
            }

            td += x * y;
            tqa += x * x;
            tqb += y * y;
            tsa += x;
            tsb += y;
        }

        if (!AllFinite(qa) || !AllFinite(qb) || !AllFinite(sa) || !AllFinite(sb) || !AllFinite(d)
            || !float.IsFinite(tqa) || !float.IsFinite(tqb) || !float.IsFinite(td) || !float.IsFinite(tsa) || !float.IsFinite(tsb))
            return false;
        m.Count += n - bad;
        m.NonFiniteCount += bad;
        m.Dot += SumToDouble(d) + td;
        m.SumOfSquaresA += SumToDouble(qa) + tqa;
        m.SumOfSquaresB += SumToDouble(qb) + tqb;
        m.SumA += SumToDouble(sa) + tsa;
        m.SumB += SumToDouble(sb) + tsb;
        return true;
    }

    // ---------------------------------------------------------------- conversion

    public static void Convert<T>(byte* src, float* dst, int count, SimdLevel level) where T : IElementLoader
    {
        int size = T.ElementSize;
        int i = 0;
        if (level == SimdLevel.Vector512)
        {
            int w = Vector512<float>.Count;
            for (; i <= count - w; i += w) T.Load512(src + (nint)i * size).Store(dst + i);
        }
        else if (level == SimdLevel.Vector256)
        {
            int w = Vector256<float>.Count;
            for (; i <= count - w; i += w) T.Load256(src + (nint)i * size).Store(dst + i);
        }

        for (; i < count; i++) dst[i] = T.Scalar(src + (nint)i * size);
    }

    // ---------------------------------------------------------------- helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    private static bool AllFinite(Vector256<float> v) =>
        Vector256.LessThanAll(v.AsInt32() & Vector256.Create(0x7FFFFFFF), Vector256.Create(0x7F800000));

    private static double SumToDouble(Vector256<float> v)
    {
        var (lo, hi) = Vector256.Widen(v);
        return Vector256.Sum(lo + hi);
    }
}
