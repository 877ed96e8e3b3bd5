using ScottPlot;
using WeightPrint.Statistics;

namespace WeightPrint.Reports.Plots;

/// <summary>One model's pdf depth curves (q, k, v, o), as read from the JSON's <c>raw.a</c> / <c>raw.b</c>.</summary>
internal sealed record ModelCurves(string Label, IReadOnlyDictionary<string, double[]> Normalised, IReadOnlyDictionary<string, double[]> Std);

/// <summary>An observed score to mark on a background histogram.</summary>
internal sealed record Observed(string Label, double Score);

/// <summary>The report's plots. Each takes plain data (read from the JSON document) and returns a rendered figure.</summary>
internal static class Figures
{
    public const int Width = 560;
    public const int Height = 380;

    /// <summary>Bins of a background histogram.</summary>
    public const int HistogramBins = 40;

    /// <summary>Heatmaps with at most this many cells per side print each cell's value.</summary>
    public const int AnnotateCellsUpTo = 12;

    /// <summary>Observed-value lines drawn on one histogram (a matrix run may have many pairs).</summary>
    public const int MaxObservedLines = 12;

    private static readonly string[] CurveNames = ["q", "k", "v", "o"];

    private static readonly MarkerShape[] Markers = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];

    /// <summary>For each projection Q, K, V, O: the z-scored std curve against layer (all models overlaid, as in the
    /// LLM-Fingerprint paper's figure) and the raw std curve.</summary>
    public static IEnumerable<RenderedFigure> PdfCurves(IReadOnlyList<ModelCurves> models)
    {
        foreach (var c in CurveNames)
        {
            string upper = c.ToUpperInvariant();
            // A curve no model defines (absent, or constant so that its z-scores are undefined) gets no plot, not an empty card.
            if (models.Any(m => m.Normalised.GetValueOrDefault(c)?.Any(double.IsFinite) == true))
            {
                yield return Curves($"pdf-normalised-{c}", $"{upper}: normalised std per layer", "layer", "z-scored std",
                    models.Select(m => (m.Label, m.Normalised.GetValueOrDefault(c))).ToList(),
                    $"Standard deviation of each layer's {upper} projection weight, z-scored across layers (the curves the pdf statistic correlates), one line per model.");
            }

            if (models.Any(m => m.Std.GetValueOrDefault(c)?.Any(double.IsFinite) == true))
            {
                yield return Curves($"pdf-std-{c}", $"{upper}: raw std per layer", "layer", "std",
                    models.Select(m => (m.Label, m.Std.GetValueOrDefault(c))).ToList(),
                    $"Raw standard deviation of each layer's {upper} projection weight: z-scoring hides differences of scale that this shows.");
            }
        }
    }

    private static RenderedFigure Curves(string id, string title, string xLabel, string yLabel, List<(string Label, double[]? Ys)> series, string caption)
    {
        var plt = new Plot();
        for (int s = 0; s < series.Count; s++)
        {
            var (label, ys) = series[s];
            if (ys == null) continue;
            var points = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
            if (points.Length == 0) continue;
            var sc = plt.Add.Scatter(points.Select(i => (double)i).ToArray(), points.Select(i => ys[i]).ToArray(), Palette.Of(s));
            sc.LegendText = label;
            sc.LineWidth = 2;
            sc.MarkerSize = 6;
            sc.MarkerShape = Markers[s % Markers.Length];
        }

        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        int layers = series.Max(s => s.Ys?.Length ?? 0);
        var ticks = TickIndices(layers);
        plt.Axes.Bottom.SetTicks(ticks.Select(i => (double)i).ToArray(), ticks.Select(i => i.ToString()).ToArray());
        plt.ShowLegend(Edge.Bottom);
        return FigureRenderer.Render(id, title, caption, plt, Width, Height + 10 * Math.Min(series.Count, 8));
    }

    /// <summary>The distribution of a statistic among unrelated (and related) pairs, with the observed values marked.</summary>
    public static RenderedFigure BackgroundHistogram(string id, string methodId, Background bg, IReadOnlyList<Observed> observed)
    {
        var finiteObserved = observed.Where(o => double.IsFinite(o.Score)).ToList();
        var all = bg.Unrelated.Concat(bg.Related ?? []).Concat(finiteObserved.Select(o => o.Score)).ToList();
        double lo = all.Min(), hi = all.Max();
        if (hi <= lo) hi = lo + 1;
        double width = (hi - lo) / HistogramBins;

        var plt = new Plot();
        AddBars(plt, bg.Unrelated, lo, width, Palette.Unrelated.WithAlpha(0.75), $"{bg.UnrelatedLabel} (n = {bg.Unrelated.Count:N0})");
        if (bg.Related != null) AddBars(plt, bg.Related, lo, width, Palette.Related.WithAlpha(0.6), $"{bg.RelatedLabel} (n = {bg.Related.Count:N0})");
        for (int i = 0; i < Math.Min(finiteObserved.Count, MaxObservedLines); i++)
        {
            var line = plt.Add.VerticalLine(finiteObserved[i].Score, 2.5f, finiteObserved.Count == 1 ? Palette.Observed : Palette.Of(i));
            line.LegendText = $"{finiteObserved[i].Label} = {finiteObserved[i].Score:F4}";
            if (finiteObserved.Count > 1) line.LinePattern = LinePattern.Dashed;
        }

        plt.Title($"{methodId}: observed score against its background");
        plt.XLabel($"{methodId} score");
        plt.YLabel("share of pairs (%)");
        plt.Axes.Margins(bottom: 0);
        plt.ShowLegend(Alignment.UpperLeft);
        string caption = $"Histogram of {methodId} scores of {bg.UnrelatedLabel}"
            + (bg.Related != null ? $" and of {bg.RelatedLabel}" : "")
            + $" (each normalised to 100%), with the observed score{(finiteObserved.Count == 1 ? "" : "s")} as vertical line{(finiteObserved.Count == 1 ? "" : "s")}"
            + (finiteObserved.Count > MaxObservedLines ? $" (first {MaxObservedLines} of {finiteObserved.Count})" : "")
            + $". Source: {bg.Source}.";
        return FigureRenderer.Render(id, $"{methodId}: background", caption, plt, Width, Height);
    }

    private static void AddBars(Plot plt, IReadOnlyList<double> values, double lo, double width, Color color, string label)
    {
        var counts = new double[HistogramBins];
        foreach (double v in values)
        {
            int b = (int)Math.Floor((v - lo) / width);
            counts[Math.Clamp(b, 0, HistogramBins - 1)]++;
        }

        var bars = new List<Bar>();
        for (int b = 0; b < HistogramBins; b++)
        {
            bars.Add(new Bar
            {
                Position = lo + (b + 0.5) * width,
                Value = 100.0 * counts[b] / Math.Max(1, values.Count),
                Size = width,
                FillColor = color,
                LineWidth = 0,
            });
        }

        var plot = plt.Add.Bars(bars);
        plot.LegendText = label;
    }

    /// <summary>A layer × layer similarity matrix (rows: model A's layers, columns: model B's).</summary>
    public static RenderedFigure LayerHeatmap(string id, string methodId, double[][] matrix, string rowsLabel, string columnsLabel)
    {
        int rows = matrix.Length, cols = rows == 0 ? 0 : matrix.Max(r => r.Length);
        var data = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) data[i, j] = j < matrix[i].Length ? matrix[i][j] : double.NaN;
        }

        var plt = new Plot();
        AddHeatmap(plt, data, annotate: rows <= AnnotateCellsUpTo && cols <= AnnotateCellsUpTo);
        plt.Title($"{methodId}: layer × layer");
        plt.XLabel(columnsLabel);
        plt.YLabel(rowsLabel);
        string caption = $"{methodId} similarity of every layer of {rowsLabel.Replace("layer of ", "", StringComparison.Ordinal)} (rows, layer 0 at the top) with every layer of "
            + $"{columnsLabel.Replace("layer of ", "", StringComparison.Ordinal)} (columns): a bright diagonal localises shared layers; a shifted diagonal shows inserted or removed layers.";
        return FigureRenderer.Render(id, $"{methodId}: layer localisation", caption, plt, Width, Width);
    }

    /// <summary>Per-layer scores of a method against layer index.</summary>
    public static RenderedFigure PerLayer(string id, string methodId, IReadOnlyList<(int Layer, double Score)> points)
    {
        var finite = points.Where(p => double.IsFinite(p.Score)).ToList();
        var plt = new Plot();
        if (finite.Count > 0)
        {
            var sc = plt.Add.Scatter(finite.Select(p => (double)p.Layer).ToArray(), finite.Select(p => p.Score).ToArray(), Palette.Of(0));
            sc.LineWidth = 2;
            sc.MarkerSize = 6;
        }

        int layers = points.Count == 0 ? 0 : points.Max(p => p.Layer) + 1;
        var ticks = TickIndices(layers);
        plt.Axes.Bottom.SetTicks(ticks.Select(i => (double)i).ToArray(), ticks.Select(i => i.ToString()).ToArray());
        plt.Title($"{methodId}: score per layer");
        plt.XLabel("layer of A");
        plt.YLabel($"{methodId} score");
        return FigureRenderer.Render(id, $"{methodId}: per layer", $"The {methodId} score of each layer pair (layer of model A on the horizontal axis).", plt, Width, Height);
    }

    /// <summary>All-pairs score matrix, rows and columns in <paramref name="order"/> (e.g. clustering leaf order).</summary>
    /// <param name="similarity">True for a 0–1 similarity: the colour scale is then fixed at 0–1 (values below 0 take its
    /// lowest colour), so a single defined pair is not drawn in the darkest colour of its own range.</param>
    /// <param name="clustered">True when <paramref name="order"/> is a clustering leaf order.</param>
    public static RenderedFigure PairHeatmap(string id, string methodId, double[,] scores, IReadOnlyList<string> labels, IReadOnlyList<int> order, bool similarity = true, bool clustered = true)
    {
        int n = order.Count;
        var data = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) data[i, j] = scores[order[i], order[j]];
        }

        var plt = new Plot();
        AddHeatmap(plt, data, annotate: n <= AnnotateCellsUpTo, similarity ? new ScottPlot.Range(0, 1) : null);
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var names = order.Select(i => labels[i]).ToArray();
        plt.Axes.Bottom.SetTicks(positions, names);
        plt.Axes.Left.SetTicks(positions.Select(p => (double)(n - 1) - p).ToArray(), names);
        plt.Title($"{methodId}: all pairs");
        string caption = $"{methodId} score of every pair of models; "
            + (clustered ? "rows and columns ordered by average-linkage clustering on 1 − score, so related models sit in blocks. " : "rows and columns in input order (not clustered). ")
            + (similarity ? "Colour scale fixed at 0–1. " : "")
            + "The diagonal (a model with itself) is not computed; grey cells have no score.";
        int size = Math.Clamp(160 + 36 * n, Width, 1000);
        return FigureRenderer.Render(id, $"{methodId}: all-pairs matrix", caption, plt, size, size - 60);
    }

    /// <summary>The clustering tree: leaves in <see cref="Dendrogram.Order"/>, merge height = average distance.</summary>
    public static RenderedFigure DendrogramPlot(string id, string methodId, Dendrogram tree, IReadOnlyList<string> labels)
    {
        var plt = new Plot();
        int n = tree.Leaves;
        var x = new double[n + tree.Merges.Count];
        var y = new double[n + tree.Merges.Count];
        for (int pos = 0; pos < tree.Order.Count; pos++) x[tree.Order[pos]] = pos;
        var color = Palette.Of(0);
        for (int m = 0; m < tree.Merges.Count; m++)
        {
            var merge = tree.Merges[m];
            int node = n + m;
            x[node] = (x[merge.Left] + x[merge.Right]) / 2;
            y[node] = merge.Height;
            AddLine(plt, x[merge.Left], y[merge.Left], x[merge.Left], merge.Height, color);
            AddLine(plt, x[merge.Right], y[merge.Right], x[merge.Right], merge.Height, color);
            AddLine(plt, x[merge.Left], merge.Height, x[merge.Right], merge.Height, color);
        }

        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), tree.Order.Select(i => labels[i]).ToArray());
        double top = tree.Merges.Count == 0 ? 1 : Math.Max(tree.Merges.Max(m => m.Height), 1e-9);
        plt.Axes.SetLimits(-0.5, n - 0.5, -0.04 * top, 1.08 * top);
        plt.Title($"{methodId}: clustering");
        plt.YLabel("average distance (1 − score)");
        string caption = $"Average-linkage clustering of the models on the distance 1 − {methodId} score: models joined low in the tree are alike. Undefined scores count as the largest distance.";
        return FigureRenderer.Render(id, $"{methodId}: dendrogram", caption, plt, Width, Height);
    }

    private static void AddLine(Plot plt, double x1, double y1, double x2, double y2, Color color)
    {
        var line = plt.Add.Line(x1, y1, x2, y2);
        line.Color = color;
        line.LineWidth = 2;
    }

    /// <summary>Adds a heatmap with cell (0, 0) at the top left, cell centres at integer coordinates, a colour bar
    /// and (for small matrices) each cell's value printed on it.</summary>
    /// <param name="range">A fixed colour range (values outside take its end colours); null spans the finite values.
    /// A matrix without any finite value gets the 0–1 range, so it renders as all grey instead of failing.</param>
    private static void AddHeatmap(Plot plt, double[,] data, bool annotate, ScottPlot.Range? range = null)
    {
        int rows = data.GetLength(0), cols = data.GetLength(1);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in data)
        {
            if (!double.IsFinite(v)) continue;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }

        if (!double.IsFinite(lo))
        {
            // No defined value at all (a method not applicable to any pair): ScottPlot cannot scale an all-NaN heatmap.
            var note = plt.Add.Text("no defined values", (cols - 1) / 2.0, (rows - 1) / 2.0);
            note.LabelAlignment = Alignment.MiddleCenter;
            plt.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
            return;
        }

        var clipped = data;
        if (range is { } r)
        {
            // Clip to the fixed range so the colour map never sees values outside it.
            clipped = new double[rows, cols];
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++) clipped[i, j] = double.IsFinite(data[i, j]) ? Math.Clamp(data[i, j], r.Min, r.Max) : double.NaN;
            }
        }

        var hm = plt.Add.Heatmap(clipped);
        if (range is { } fixedRange) hm.ManualRange = fixedRange;
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.NaNCellColor = Colors.LightGray;
        hm.Rectangle = new CoordinateRect(-0.5, cols - 0.5, -0.5, rows - 0.5);
        hm.RenderStrategy = new ScottPlot.Plottables.Heatmap.RenderStrategies.Rectangles();
        plt.Add.ColorBar(hm);
        if (annotate)
        {
            double min = range?.Min ?? lo, max = range?.Max ?? hi;
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    double v = data[i, j];
                    if (!double.IsFinite(v)) continue;
                    bool dark = max > min && (v - min) / (max - min) < 0.6;
                    var t = plt.Add.Text(v.ToString("F2"), j, rows - 1 - i);
                    t.LabelAlignment = Alignment.MiddleCenter;
                    t.LabelFontSize = 11;
                    t.LabelFontColor = dark ? Colors.White : Colors.Black;
                }
            }
        }

        plt.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
        var colTicks = TickIndices(cols);
        var rowTicks = TickIndices(rows);
        plt.Axes.Bottom.SetTicks(colTicks.Select(j => (double)j).ToArray(), colTicks.Select(j => j.ToString()).ToArray());
        plt.Axes.Left.SetTicks(rowTicks.Select(i => (double)(rows - 1 - i)).ToArray(), rowTicks.Select(i => i.ToString()).ToArray());
    }

    /// <summary>Layer indices to label on a heatmap axis: every layer up to 24, else a round step.</summary>
    private static int[] TickIndices(int count)
    {
        int step = count <= 24 ? 1 : count <= 60 ? 5 : count <= 120 ? 10 : 20;
        return Enumerable.Range(0, count).Where(i => i % step == 0).ToArray();
    }
}
