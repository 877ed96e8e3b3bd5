using WeightPrint.Formats;
using WeightPrint.Model;
using static WeightPrint.Tests.Model.TinyModel;
using WeightPrint.IO;

namespace WeightPrint.Tests.Model;

public class ViewTests
{
    [Fact]
    public void Rope_unpermutation_inverts_llama_cpp_permutation()
    {
        foreach (var (heads, hd, cols) in new[] { (1, 2, 3), (4, 8, 5), (2, 64, 2) })
        {
            var hf = Enumerable.Range(0, heads * hd * cols).Select(i => (float)i).ToArray();
            var stored = FamilyMappingTests.LlamaCppPermute(hf, heads, cols);
            using var c = GgufMappingTests.InMemory("test", [], ("w", stored, [heads * hd, cols]));
            var view = new RowSelectionView(c.Tensors[0], RowSelectionView.RopeUnpermutation(heads, hd), "RoPE un-permuted");
            Equal(hf, view, heads * hd, cols);
            // Row-range moments go through the runs too.
            Assert.Equal(Rows(hf, cols, 1, heads * hd - 1).Sum(x => (double)x), view.ComputeRowMoments(1, heads * hd - 1).Sum, 6);
        }
    }

    [Fact]
    public void Transposed_view_with_column_step_and_offset()
    {
        // Two stacked [3, 4] matrices; view the second, odd columns, transposed: [2, 3].
        var data = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        using var c = GgufMappingTests.InMemory("test", [], ("w", data, [2, 3, 4]));
        var view = new TransposedView(c.Tensors[0], 12, 3, 4, 1, 2, 2, "test");
        Equal([13, 17, 21, 15, 19, 23], view, 2, 3);
        var partial = new float[3];
        view.ReadRows(1, 1, partial);
        Assert.Equal([15f, 19f, 23f], partial);
    }

    [Fact]
    public void Row_selection_over_a_view_and_vector_view()
    {
        var data = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        using var c = GgufMappingTests.InMemory("test", [], ("w", data, [12]));
        var column = new SliceView(c.Tensors[0], 0, 12, 1);
        var pick = new RowSelectionView(column, [(9, 3), (0, 0), (2, 2)], "picked");
        var vec = new VectorView(pick);
        Equal([9, 10, 11, 2, 3], vec, 1, 5);
        Assert.Throws<InvalidModelFileException>(() => new RowSelectionView(column, [(11, 2)], "outside"));
        Assert.Throws<InvalidModelFileException>(() => new SliceView(c.Tensors[0], 10, 2, 2));
    }
}
