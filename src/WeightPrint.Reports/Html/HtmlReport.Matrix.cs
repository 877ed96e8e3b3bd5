using System.Globalization;
using WeightPrint.Reports.Plots;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;
using WeightPrint.Statistics;
using WeightPrint.Comparison;

namespace WeightPrint.Reports.Html;

internal static partial class HtmlReport
{
    /// <summary>The report of a matrix run.</summary>
    public static ReportOutput Matrix(MatrixResult result, IEnumerable<SignalMethod> methods)
        => Matrix(result, methods.Select(MethodInfo.Of).ToList());

    /// <summary>Model labels of a matrix: M1, M2, …</summary>
    public static string MatrixLabel(int index) => "M" + (index + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The report of a matrix run: figures and method details from the typed result; every number shown
    /// names its place in the run's JSON document (<c>matrix --json</c>), which is embedded.</summary>
    private static ReportOutput Matrix(MatrixResult result, IReadOnlyList<MethodInfo> infos)
    {
        var doc = JsonText.Finite(MatrixJson.ToJson(result))!;
        var w = new HtmlWriter();
        var figures = new List<RenderedFigure>();
        var models = result.Models;
        var pairs = result.Pairs;
        var letters = Enumerable.Range(0, models.Count).Select(MatrixLabel).ToList();
        var methodIds = result.MethodIds;
        Open(w, $"WeightPrint: {models.Count} models compared pairwise");

        w.Raw("<header><h1>").Text($"{models.Count} models, {pairs.Count} pairs").Raw("</h1>\n<p class=\"sub\">");
        for (int i = 0; i < models.Count; i++)
        {
            if (i > 0) w.Raw("<br>");
            w.Text(letters[i]).Raw(" = <span class=\"path\">").Text(models[i].Path).Raw("</span>");
        }

        w.Raw("</p></header>\n");

        // Verdicts first.
        var labels = pairs.Select(p => p.Result.Verdict.Label).ToList();
        int derived = labels.Count(l => l == "derived"), independent = labels.Count(l => l == "independent");
        string overall = derived > 0 ? "derived" : independent == labels.Count && labels.Count > 0 ? "independent" : "inconclusive";
        w.Raw("<section id=\"verdict\" class=\"verdict ").Raw(VerdictClass(overall)).Raw("\">\n<div class=\"label\">")
            .Text($"{derived} derived · {independent} independent · {labels.Count - derived - independent} inconclusive").Raw("</div>\n")
            .Raw("<div class=\"scroll\"><table class=\"pairs stack\"><thead><tr><th>pair</th><th>verdict</th><th>reason</th></tr></thead><tbody>\n");
        for (int i = 0; i < pairs.Count; i++)
        {
            string pair = PairName(result, letters, i);
            w.Raw("<tr><td data-label=\"pair\">").Text(pair).Raw("</td><td data-label=\"verdict\" class=\"").Raw(VerdictClass(labels[i])).Raw("\">").Text(labels[i]).Raw("</td><td data-label=\"reason\">")
                .Text(pairs[i].Result.Verdict.Reason).Raw("</td></tr>\n");
        }

        w.Raw("</tbody></table></div>\n</section>\n");

        // Evidence.
        w.Raw("<section id=\"evidence\">\n<h2>Evidence</h2>\n<div class=\"scroll\"><table class=\"pair-scores\"><thead><tr><th>pair</th>");
        foreach (var id in methodIds) w.Raw("<th class=\"n\">").Text(id).Raw(" score</th><th class=\"n\">").Text(id).Raw(" p</th>");
        w.Raw("</tr></thead><tbody>\n");
        for (int i = 0; i < pairs.Count; i++)
        {
            w.Raw("<tr><td>").Text(PairName(result, letters, i)).Raw("</td>");
            foreach (var id in methodIds)
            {
                var methods = result.Pairs[i].Result.Methods;
                int k = methods.ToList().FindIndex(m => m.Id == id);
                string mp = $"pairs[{i}].methods[{k}]";
                var m = k < 0 ? null : methods[k];
                w.Raw("<td class=\"n\">").Num(mp + ".score", m?.Score, ScoreFormat, k < 0 ? "—" : "n/a").Raw("</td><td class=\"n\">").Num(mp + ".p_value", m?.PValue, PFormat).Raw("</td>");
            }

            w.Raw("</tr>\n");
        }

        w.Raw("</tbody></table></div>\n");

        foreach (var id in methodIds)
        {
            string mp = $"matrices.{id}";
            w.Raw("<h3 id=\"evidence-").Text(Id(id)).Raw("\"><code>").Text(id).Raw("</code></h3>\n");
            var matrix = MatrixJson.Matrix(result, id);
            var scores = matrix.Scores;
            for (int i = 0; i < scores.GetLength(0); i++)
            {
                for (int j = 0; j < scores.GetLength(1); j++) scores[i, j] = Finite(scores[i, j]);
            }

            var (order, tree, similarity) = (matrix.Order, matrix.Tree, matrix.Similarity);
            bool anyScore = false;
            foreach (double v in scores) anyScore |= double.IsFinite(v);
            var figs = new List<RenderedFigure>();
            if (anyScore)
                figs.Add(Plots.Figures.PairHeatmap($"{Id(id)}-matrix", id, scores, letters, order, similarity, clustered: tree is { Merges.Count: > 0 }));
            else w.Raw("<p class=\"note\">").Text($"{id} is not applicable to any pair: no matrix to draw.").Raw("</p>\n");
            if (tree is { Merges.Count: > 0 } && models.Count > 1) figs.Add(Plots.Figures.DendrogramPlot($"{Id(id)}-dendrogram", id, tree, letters));
            else if (anyScore && matrix.NotClusteredReason is { } why) w.Raw("<p class=\"note\">").Text($"No dendrogram: {why}.").Raw("</p>\n");
            if (Backgrounds.For(id, FirstDetails(result, id)) is { } bg)
            {
                var observed = new List<Observed>();
                for (int i = 0; i < pairs.Count; i++)
                {
                    if (MethodOf(result, i, id) is { } m) observed.Add(new Observed(PairName(result, letters, i), Finite(m.Score)));
                }

                if (observed.Any(o => double.IsFinite(o.Score))) figs.Add(Plots.Figures.BackgroundHistogram($"{Id(id)}-background", id, bg, observed));
            }

            Figures(w, figs, figures);

            // The matrix as numbers, in clustering order.
            w.Raw("<details><summary>Score matrix (clustering order)</summary><div class=\"scroll\"><table><thead><tr><th></th>");
            foreach (int j in order) w.Raw("<th class=\"n\">").Text(letters[j]).Raw("</th>");
            w.Raw("</tr></thead><tbody>\n");
            foreach (int i in order)
            {
                w.Raw("<tr><th>").Text(letters[i]).Raw("</th>");
                foreach (int j in order) w.Raw("<td class=\"n\">").Num($"{mp}.scores[{i}][{j}]", scores[i, j], ScoreFormat, i == j ? "" : "—").Raw("</td>");
                w.Raw("</tr>\n");
            }

            w.Raw("</tbody></table></div></details>\n");
            LayerHeatmaps(w, figures, result, letters, id);
        }

        PdfOverlay(w, figures, result, letters);
        w.Raw("</section>\n");
        MethodsSection(w, methodIds, infos);
        ModelsSection(w, models, letters);
        return new ReportOutput(Close(w, doc, result.Seed), figures);
    }

    private static string PairName(MatrixResult result, List<string> letters, int pair)
        => $"{Letter(letters, result.Pairs[pair].A)} × {Letter(letters, result.Pairs[pair].B)}";

    private static string Letter(List<string> letters, int i) => i >= 0 && i < letters.Count ? letters[i] : "?";

    /// <summary>The result of method <paramref name="id"/> in pair <paramref name="pair"/>, or null.</summary>
    private static MethodResult? MethodOf(MatrixResult result, int pair, string id)
        => pair < result.Pairs.Count ? result.Pairs[pair].Result.Methods.FirstOrDefault(m => m.Id == id) : null;

    /// <summary>The details of the first pair where method <paramref name="id"/> ran.</summary>
    private static MethodDetails? FirstDetails(MatrixResult result, string id)
        => result.Pairs.SelectMany(p => p.Result.Methods).FirstOrDefault(m => m.Id == id && m.Status == MethodStatus.Ok)?.Details;

    private static void LayerHeatmaps(HtmlWriter w, List<RenderedFigure> all, MatrixResult result, List<string> letters, string id)
    {
        var figs = new List<RenderedFigure>();
        int withMatrix = 0;
        for (int i = 0; i < result.Pairs.Count; i++)
        {
            if (PlotMatrix(MethodOf(result, i, id)?.LayerMatrix) is not { } lm) continue;
            withMatrix++;
            if (figs.Count >= MaxLayerHeatmapPairs) continue;
            var (a, b) = (result.Pairs[i].A, result.Pairs[i].B);
            figs.Add(Plots.Figures.LayerHeatmap($"{Id(id)}-layers-{letters[a]}-{letters[b]}", $"{id} {letters[a]} × {letters[b]}", lm, $"layer of {letters[a]}", $"layer of {letters[b]}"));
        }

        if (figs.Count == 0) return;
        w.Raw("<details><summary>Layer × layer localisation (").Raw(figs.Count.ToString(CultureInfo.InvariantCulture)).Raw(" pairs")
            .Raw(withMatrix > figs.Count ? $" of {withMatrix.ToString(CultureInfo.InvariantCulture)}" : "").Raw(")</summary>\n");
        Figures(w, figs, all);
        w.Raw("</details>\n");
    }

    /// <summary>The pdf depth curves of every model, overlaid (each model's curves from the first pair it is in).</summary>
    private static void PdfOverlay(HtmlWriter w, List<RenderedFigure> all, MatrixResult result, List<string> letters)
    {
        var sides = new (string Path, PdfCurves Curves)?[letters.Count];
        for (int i = 0; i < result.Pairs.Count; i++)
        {
            var methods = result.Pairs[i].Result.Methods;
            int k = methods.ToList().FindIndex(m => m.Id == "pdf");
            if (k < 0 || methods[k].Status != MethodStatus.Ok || methods[k].Details is not PdfDetails pdf) continue;
            var (a, b) = (result.Pairs[i].A, result.Pairs[i].B);
            if (a >= 0 && a < sides.Length) sides[a] ??= ($"pairs[{i}].methods[{k}].raw.a", pdf.A);
            if (b >= 0 && b < sides.Length) sides[b] ??= ($"pairs[{i}].methods[{k}].raw.b", pdf.B);
        }

        var curves = new List<ModelCurves>();
        var table = new List<(string, string, PdfCurves)>();
        for (int m = 0; m < sides.Length; m++)
        {
            if (sides[m] is not { } side || CurvesOf(side.Curves, PlotLabel(letters[m], result.Models[m].Path)) is not { } c) continue;
            curves.Add(c);
            table.Add((letters[m], side.Path, side.Curves));
        }

        if (curves.Count == 0) return;
        w.Raw("<h3 id=\"pdf-curves\">pdf depth curves, all models</h3>\n<p class=\"note\">Left: the z-scored curves the statistic correlates (the published figure). Right: the raw standard deviations.</p>\n");
        Figures(w, Plots.Figures.PdfCurves(curves), all);
        PdfStdTable(w, table);
    }
}
