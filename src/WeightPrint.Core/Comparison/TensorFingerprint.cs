using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using WeightPrint.Model;
using WeightPrint.Verdict;

namespace WeightPrint.Comparison;

/// <summary>
/// Hashes of one tensor's values computed in a single streaming pass, each invariant to a different rearrangement:
/// the flat order (<see cref="Flat"/>), the flat order of the transpose (<see cref="Transposed"/>), the multisets of
/// ordered rows and of ordered columns (row or column permutations), the multisets of row and of column multisets
/// (rows and columns permuted together), and the multiset of all values. Memory is a few arrays of one
/// 64-bit word per column plus one read step (<see cref="TensorView.StepFloats"/> floats), whatever the tensor's size.
/// </summary>
/// <remarks>
/// Values are hashed by their float bits after conversion to float32, so a lossless dtype conversion (BF16 stored as
/// F32, a llama2.c file re-saved as safetensors) keeps every hash, and a lossy one (F32 to BF16) changes them.
/// Ordered hashes are polynomials over 2^64 of mixed values, Σ m(v_k)·P^(N−1−k), which is why the flat hash does
/// not depend on the shape (a transposed copy saved in the original shape still matches <see cref="Transposed"/>).
/// Multiset hashes are sums over 2^64 of mixed values. 64-bit hashes: a chance collision has probability about
/// 2^-64 per comparison.
/// </remarks>
internal sealed record TensorFingerprint(
    long Rows, long Columns, bool NonTrivial, int DistinctValues,
    ulong Flat, ulong Transposed, ulong RowSet, ulong ColumnSet, ulong RowMultisets, ulong ColumnMultisets, ulong Values)
{
    /// <summary>A tensor needs this many values to count as evidence.</summary>
    public const long MinValues = 4096;

    /// <summary>…and at least this many distinct values: constant tensors (fresh norm gains, zero biases) and
    /// tensors of a few repeated values (masks, identity blocks, sign or ternary patterns, 4-bit codes) can
    /// coincide in independent models; ≥ 4,096 values drawn from ≥ 128 distinct ones in the same arrangement (or
    /// multiset) cannot, unless copied or made by the same seeded initialisation (which is not an independent
    /// initialisation either). 128 rather than more so that raw 8-bit float tensors (at most 254 values) still
    /// count.</summary>
    public const int MinDistinctValues = 128;

    /// <summary>Values of each read step that the distinct-value count looks at (the count stops at
    /// <see cref="MinDistinctValues"/>).</summary>
    public const int DistinctProbe = 4096;

    /// <summary>Wider views are not fingerprinted (their column accumulators would not be small); no canonical
    /// weight comes near it.</summary>
    public const long MaxColumns = 1 << 20;

    private const ulong P = 0x9E3779B97F4A7C15UL | 1;

    /// <summary>How <paramref name="b"/> holds this tensor's values: the strongest of <see cref="SharedTensor.Relations"/>, or null when it does not.</summary>
    public string? RelationTo(TensorFingerprint b)
    {
        if (!NonTrivial || !b.NonTrivial || Rows * Columns != b.Rows * b.Columns || Values != b.Values) return null;
        bool same = Rows == b.Rows && Columns == b.Columns;
        bool swapped = Rows == b.Columns && Columns == b.Rows;
        bool[] holds =
        [
            same && Flat == b.Flat,
            Transposed == b.Flat || Flat == b.Transposed,
            same && RowSet == b.RowSet,
            same && ColumnSet == b.ColumnSet,
            swapped && (RowSet == b.ColumnSet || ColumnSet == b.RowSet),
            same && RowMultisets == b.RowMultisets,
            swapped && (RowMultisets == b.ColumnMultisets || ColumnMultisets == b.RowMultisets),
            true,
        ];
        return SharedTensor.Relations[Array.IndexOf(holds, true)];
    }

    /// <summary>Reads <paramref name="t"/> once, in bounded steps.</summary>
    public static TensorFingerprint Of(TensorView t)
    {
        long rows = t.Rows, cols = t.Columns;
        if (rows * cols == 0 || cols > MaxColumns) return new TensorFingerprint(rows, cols, false, 0, 0, 0, 0, 0, 0, 0, 0);
        int c = checked((int)cols);
        var colOrdered = new ulong[c]; // Σ_i m_ij P^(r-1-i): each column's ordered hash
        var colSum = new ulong[c];   // Σ_i m_ij: each column's multiset
        var power = new ulong[c];    // P^(c-1-j)
        ulong pc = 1;
        for (int j = c - 1; j >= 0; j--)
        {
            power[j] = pc;
            pc *= P;
        }

        ulong flat = 0, rowSet = 0, rowMultisets = 0, values = 0;
        var distinct = new HashSet<uint>();
        uint last = 0;
        bool haveLast = false;
        int rowsPerStep = (int)Math.Clamp(TensorView.StepFloats / cols, 1, rows);
        float[] buffer = ArrayPool<float>.Shared.Rent(checked(rowsPerStep * c));
        try
        {
            for (long r0 = 0; r0 < rows; r0 += rowsPerStep)
            {
                int n = (int)Math.Min(rowsPerStep, rows - r0);
                var span = buffer.AsSpan(0, n * c);
                t.ReadRows(r0, n, span);
                var bits = MemoryMarshal.Cast<float, uint>(span);
                if (distinct.Count < MinDistinctValues)
                {
                    // Bounded: the first DistinctProbe values of each step, so the probe covers the whole tensor.
                    foreach (uint v in bits[..Math.Min(bits.Length, DistinctProbe)])
                    {
                        if (haveLast && v == last) continue;
                        last = v;
                        haveLast = true;
                        if (distinct.Add(v) && distinct.Count >= MinDistinctValues) break;
                    }
                }

                for (int i = 0; i < n; i++)
                {
                    (ulong ordered, ulong sum) = AccumulateRow(bits.Slice(i * c, c), power, colOrdered, colSum);
                    flat = (flat * pc) + ordered;
                    rowSet += Mix2(ordered);
                    rowMultisets += Mix3(sum);
                    values += sum;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        ulong pr = Pow(P, rows);
        ulong transposed = 0, columnSet = 0, columnMultisets = 0;
        for (int j = 0; j < c; j++)
        {
            transposed = (transposed * pr) + colOrdered[j];
            columnSet += Mix2(colOrdered[j]);
            columnMultisets += Mix3(colSum[j]);
        }

        bool nonTrivial = rows * cols >= MinValues && distinct.Count >= MinDistinctValues;
        return new TensorFingerprint(rows, cols, nonTrivial, distinct.Count, flat, transposed, rowSet, columnSet, rowMultisets, columnMultisets, values);
    }

    /// <summary>One row: mixes its values, updates the column accumulators, returns the row's ordered hash
    /// Σ_j m_j P^(c-1-j) and its multiset Σ_j m_j. Vectorised (two 64-bit lanes per 32-bit value pair).</summary>
    private static (ulong Ordered, ulong Sum) AccumulateRow(ReadOnlySpan<uint> row, ulong[] power, ulong[] colOrdered, ulong[] colSum)
    {
        int c = row.Length, j = 0;
        ulong ordered = 0, sum = 0;
        int w = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated && c >= w)
        {
            var vo = Vector<ulong>.Zero;
            var vs = Vector<ulong>.Zero;
            var vp = new Vector<ulong>(P);
            var cols = MemoryMarshal.Cast<ulong, Vector<ulong>>(colOrdered.AsSpan());
            var sums = MemoryMarshal.Cast<ulong, Vector<ulong>>(colSum.AsSpan());
            var pows = MemoryMarshal.Cast<ulong, Vector<ulong>>(power.AsSpan());
            for (; j <= c - w; j += w)
            {
                Vector.Widen(new Vector<uint>(row[j..]), out var lo, out var hi);
                int q = j / Vector<ulong>.Count;
                var x = Mix(lo);
                cols[q] = (cols[q] * vp) + x;
                sums[q] += x;
                vo += x * pows[q];
                vs += x;
                x = Mix(hi);
                cols[q + 1] = (cols[q + 1] * vp) + x;
                sums[q + 1] += x;
                vo += x * pows[q + 1];
                vs += x;
            }

            ordered = Vector.Sum(vo);
            sum = Vector.Sum(vs);
        }

        for (; j < c; j++)
        {
            ulong x = Mix(row[j]);
            colOrdered[j] = (colOrdered[j] * P) + x;
            colSum[j] += x;
            ordered += x * power[j];
            sum += x;
        }

        return (ordered, sum);
    }

    private static ulong Pow(ulong b, long e)
    {
        ulong r = 1;
        while (e > 0)
        {
            if ((e & 1) != 0) r *= b;
            b *= b;
            e >>= 1;
        }

        return r;
    }

    private const ulong K0 = 0x5851F42D4C957F2DUL, K1 = 0xBF58476D1CE4E5B9UL, K2 = 0x94D049BB133111EBUL;

    /// <summary>The value mixer m(v); <see cref="Mix(Vector{ulong})"/> computes the same per lane.</summary>
    private static ulong Mix(uint v)
    {
        ulong x = (v ^ K0) * K1;
        x ^= x >> 31;
        x *= K2;
        return x ^ (x >> 29);
    }

    private static Vector<ulong> Mix(Vector<ulong> v)
    {
        var x = (v ^ new Vector<ulong>(K0)) * new Vector<ulong>(K1);
        x ^= Vector.ShiftRightLogical(x, 31);
        x *= new Vector<ulong>(K2);
        return x ^ Vector.ShiftRightLogical(x, 29);
    }

    private static ulong Mix2(ulong x)
    {
        x = (x ^ (x >> 33)) * 0xFF51AFD7ED558CCDUL;
        x = (x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }

    private static ulong Mix3(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
