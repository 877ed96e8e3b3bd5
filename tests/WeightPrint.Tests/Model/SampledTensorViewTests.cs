using WeightPrint.Model;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Tests.Model;

/// <summary>A fingerprint's sample read as a sub-matrix (the fast path of pcs and neuron-match) gives what reading whole
/// rows and picking columns gives: stored values, NaN outside the stored columns, and an error for a row not stored.</summary>
public class SampledTensorViewTests
{
    private static SampledTensorView View()
    {
        // 40 × 30 matrix with value 100·row + column; two blocks: rows 5..14 × columns 3..22, rows 20..24 × columns 0..29.
        static float[] Block(int r0, int rn, int c0, int cn) => Enumerable.Range(0, rn * cn).Select(k => (float)(100 * (r0 + k / cn) + c0 + k % cn)).ToArray();
        return new SampledTensorView("t", 40, 30, [SampleBlock.FromSingles(5, 10, 3, 20, Block(5, 10, 3, 20)), SampleBlock.FromSingles(20, 5, 0, 30, Block(20, 5, 0, 30))]);
    }

    [Theory]
    [InlineData(new[] { 5, 6, 14, 20, 24 }, new[] { 3, 4, 5, 6, 7, 8 })] // contiguous columns inside the first block
    [InlineData(new[] { 7, 21 }, new[] { 0, 1, 2, 3, 4 })] // contiguous, straddling the first block's left edge
    [InlineData(new[] { 9, 22 }, new[] { 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 })] // straddling its right edge
    [InlineData(new[] { 5, 23 }, new[] { 29, 3, 17, 0, 22 })] // scattered
    public void Sub_matrix_reads_equal_whole_row_reads(int[] rows, int[] columns)
    {
        var view = View();
        var fast = new float[rows.Length * columns.Length];
        Assert.True(view.TryReadSubmatrix(rows, columns, fast));
        var row = new float[30];
        for (int i = 0; i < rows.Length; i++)
        {
            view.ReadRows(rows[i], 1, row);
            for (int c = 0; c < columns.Length; c++) Assert.Equal(row[columns[c]], fast[i * columns.Length + c]); // NaN equals NaN here
        }

        Assert.Equal(fast, ModelParts.ReadSubmatrix(view, rows, columns));
    }

    [Fact]
    public void A_row_outside_the_sample_is_an_error_and_completeness_is_reported()
    {
        var view = View();
        Assert.Throws<SampleNotStoredException>(() => view.TryReadSubmatrix([15], [3], new float[1]));
        Assert.False(view.IsComplete);
        var whole = new SampledTensorView("w", 2, 3, [SampleBlock.FromSingles(0, 2, 0, 3, [1, 2, 3, 4, 5, 6])]);
        Assert.True(whole.IsComplete);
    }
}
