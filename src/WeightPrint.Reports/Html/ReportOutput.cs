using System.Text;
using WeightPrint.Reports.Plots;

namespace WeightPrint.Reports.Html;

/// <summary>A built report: the self-contained HTML page and the figures it embeds.</summary>
internal sealed record ReportOutput(string Html, IReadOnlyList<RenderedFigure> Figures)
{
    public void WriteHtml(string path) => File.WriteAllText(path, Html, new UTF8Encoding(false));

    /// <summary>Writes each figure as <c>DIR/ID.svg</c> (creating DIR) and returns the paths written.</summary>
    public IReadOnlyList<string> WriteSvgs(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var f in Figures)
        {
            string path = Path.Combine(directory, f.Id + ".svg");
            File.WriteAllText(path, f.Svg, new UTF8Encoding(false));
            written.Add(path);
        }

        return written;
    }
}

/// <summary>What the report's methods section says about one method (from <see cref="Signals.SignalMethod"/>).</summary>
internal sealed record MethodInfo(string Id, string Description, string NullDescription, string FailureModes)
{
    public static MethodInfo Of(Signals.SignalMethod m) => new(m.Id, m.Description, m.NullDescription, m.FailureModes);
}
