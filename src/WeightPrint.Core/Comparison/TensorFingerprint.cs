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
public sealed record TensorFingerprint(
    long Rows, long Columns, bool NonTrivial, int DistinctValues,
    ulong Flat, ulong Transposed, ulong RowSet, ulong ColumnSet, ulong RowMultisets, ulong ColumnMultisets, ulong Values)
{
    /// <summary>A tensor needs this many values to count as evidence.</summary>
    public const long MinValues = 4096;

    /// <summary>…and at least this many distinct values: constant tensors (fresh norm gains, zero biases) and
    /// tensors of a few repeated values (masks, identity blocks, sign patterns) can coincide in independent
    /// models; a tensor of ≥ 1,024 distinct values in the same arrangement cannot, unless it was copied or made
    /// by the same seeded initialisation (which is not an independent initialisation either).</summary>
    public const int MinDistinctValues = 1024;

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
        var colFlat = new ulong[c];  // Σ_i m_ij P^(c(r-1-i)): the flat hash by columns
        var colOrdered = new ulong[c]; // Σ_i m_ij P^(r-1-i): each column's ordered hash
        var colSum = new ulong[c];   // Σ_i m_ij: each column's multiset
        var power = new ulong[c];    // P^(c-1-j)
        ulong pc = 1;
        for (int j = c - 1; j >= 0; j--)
        {
            power[j] = pc;
            pc *= P;
        }

        ulong rowSet = 0, rowMultisets = 0, values = 0;
        var distinct = new HashSet<uint>();
        uint last = 0;
        bool haveLast = false;
        int rowsPerStep = (int)Math.Clamp(TensorView.StepFloats / cols, 1, rows);
        float[] buffer = ArrayPool<float>.Shared.Rent(checked(rowsPerStep * c));
        var mixed = new ulong[c];
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
                    foreach (uint v in bits)
                    {
                        if (haveLast && v == last) continue;
                        last = v;
                        haveLast = true;
                        if (distinct.Add(v) && distinct.Count >= MinDistinctValues) break;
                    }
                }

                for (int i = 0; i < n; i++)
                {
                    var row = bits.Slice(i * c, c);
                    for (int j = 0; j < c; j++) mixed[j] = Mix(row[j]);
                    (ulong ordered, ulong sum) = AccumulateRow(mixed, power, colFlat, colOrdered, colSum, pc);
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
        ulong flat = 0, transposed = 0, columnSet = 0, columnMultisets = 0;
        for (int j = 0; j < c; j++)
        {
            flat = flat * P + colFlat[j];
            transposed = transposed * pr + colOrdered[j];
            columnSet += Mix2(colOrdered[j]);
            columnMultisets += Mix3(colSum[j]);
        }

        bool nonTrivial = rows * cols >= MinValues && distinct.Count >= MinDistinctValues;
        return new TensorFingerprint(rows, cols, nonTrivial, distinct.Count, flat, transposed, rowSet, columnSet, rowMultisets, columnMultisets, values);
    }

    /// <summary>One row's contribution: column accumulators, and the row's ordered hash and multiset.</summary>
    private static (ulong Ordered, ulong Sum) AccumulateRow(ulong[] m, ulong[] power, ulong[] colFlat, ulong[] colOrdered, ulong[] colSum, ulong pc)
    {
        int c = m.Length, j = 0;
        ulong ordered = 0, sum = 0;
        if (Vector.IsHardwareAccelerated && c >= Vector<ulong>.Count)
        {
            var vo = Vector<ulong>.Zero;
            var vs = Vector<ulong>.Zero;
            var vpc = new Vector<ulong>(pc);
            var vp = new Vector<ulong>(P);
            for (; j <= c - Vector<ulong>.Count; j += Vector<ulong>.Count)
            {
                var x = new Vector<ulong>(m, j);
                (new Vector<ulong>(colFlat, j) * vpc + x).CopyTo(colFlat, j);
                (new Vector<ulong>(colOrdered, j) * vp + x).CopyTo(colOrdered, j);
                (new Vector<ulong>(colSum, j) + x).CopyTo(colSum, j);
                vo += x * new Vector<ulong>(power, j);
                vs += x;
            }

            ordered = Vector.Sum(vo);
            sum = Vector.Sum(vs);
        }

        for (; j < c; j++)
        {
            ulong x = m[j];
            colFlat[j] = colFlat[j] * pc + x;
            colOrdered[j] = colOrdered[j] * P + x;
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

    private static ulong Mix(uint v)
    {
        ulong x = (v ^ 0x5851F42D4C957F2DUL) * 0xBF58476D1CE4E5B9UL;
        x ^= x >> 31;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 29);
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
