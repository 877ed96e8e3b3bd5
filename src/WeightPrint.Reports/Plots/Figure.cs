using ScottPlot;

namespace WeightPrint.Reports.Plots;

/// <summary>A plot rendered for the report: PNG (embedded in the HTML) and SVG (written with <c>--svg DIR</c>).</summary>
/// <param name="Id">File-name-safe id, unique within a report ("pdf-normalised-q").</param>
/// <param name="Title">Heading shown above the image.</param>
/// <param name="Caption">What the figure shows (HTML-escaped when written).</param>
internal sealed record RenderedFigure(string Id, string Title, string Caption, byte[] Png, string Svg, int Width, int Height);

/// <summary>Renders ScottPlot plots with the embedded fonts and the report's styling.</summary>
internal static class FigureRenderer
{
    /// <summary>PNGs are drawn at this multiple of their CSS size so they stay sharp on high-density screens.</summary>
    public const float PngScale = 2f;

    public static RenderedFigure Render(string id, string title, string caption, Plot plot, int width, int height)
    {
        ReportFonts.Install();
        Style(plot);
        plot.ScaleFactor = PngScale;
        byte[] png = plot.GetImageBytes((int)(width * PngScale), (int)(height * PngScale), ImageFormat.Png);
        plot.ScaleFactor = 1;
        string svg = plot.GetSvgXml(width, height);
        return new RenderedFigure(id, title, caption, png, svg, width, height);
    }

    private static void Style(Plot plot)
    {
        plot.Font.Set(ReportFonts.Family);
        plot.Axes.Title.Label.FontSize = 15;
        plot.Axes.Bottom.Label.FontSize = 13;
        plot.Axes.Left.Label.FontSize = 13;
        plot.Legend.FontSize = 11;
    }
}
