using Spectre.Console;
using Spectre.Console.Rendering;

namespace WeightPrint.Cli;

internal static class TableExtensions
{
    /// <summary>Adds a row of plain text cells (no markup interpretation: tensor shapes contain brackets).</summary>
    public static Table AddPlainRow(this Table table, params string[] cells)
        => table.AddRow(cells.Select(c => (IRenderable)new Text(c)).ToArray());
}
