using System.Globalization;
using System.Text.Json.Nodes;
using WeightPrint.Reports.Plots;
using WeightPrint.Signals;
using WeightPrint.Statistics;
using WeightPrint.Comparison;

namespace WeightPrint.Reports.Html;

internal static partial class HtmlReport
{
    /// <summary>The report of a matrix run.</summary>
    public static ReportOutput Matrix(MatrixResult result, IEnumerable<SignalMethod> methods)
        => Matrix(MatrixJson.ToJson(result), methods.Select(MethodInfo.Of).ToList());

    /// <summary>Model labels of a matrix: M1, M2, …</summary>
    public static string MatrixLabel(int index) => "M" + (index + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The report of a matrix run from its JSON document (<c>matrix --json</c>).</summary>
    public static ReportOutput Matrix(JsonObject document, IReadOnlyList<MethodInfo> infos)
    {
        var doc = JsonText.Finite(document)!;
        var w = new HtmlWriter(doc);
        var figures = new List<RenderedFigure>();
        var models = doc["models"] as JsonArray ?? [];
        var pairs = doc["pairs"] as JsonArray ?? [];
        var matrices = doc["matrices"] as JsonObject ?? [];
        var letters = Enumerable.Range(0, models.Count).Select(MatrixLabel).ToList();
        var methodIds = matrices.Select(kv => kv.Key).ToList();
        Open(w, $"WeightPrint: {models.Count} models compared pairwise");

        w.Raw("<header><h1>").Text($"{models.Count} models, {pairs.Count} pairs").Raw("</h1>\n<p class=\"sub\">");
        for (int i = 0; i < models.Count; i++)
        {
            if (i > 0) w.Raw("<br>");
            w.Text(letters[i]).Raw(" = <span class=\"path\">").Text(w.Str($"models[{i}].path")).Raw("</span>");
        }

        w.Raw("</p></header>\n");

        // Verdicts first.
        var labels = Enumerable.Range(0, pairs.Count).Select(i => w.Str($"pairs[{i}].verdict.label") ?? "?").ToList();
        int derived = labels.Count(l => l == "derived"), independent = labels.Count(l => l == "independent");
        string overall = derived > 0 ? "derived" : independent == labels.Count && labels.Count > 0 ? "independent" : "inconclusive";
        w.Raw("<section id=\"verdict\" class=\"verdict ").Raw(VerdictClass(overall)).Raw("\">\n<div class=\"label\">")
            .Text($"{derived} derived · {independent} independent · {labels.Count - derived - independent} inconclusive").Raw("</div>\n")
            .Raw("<div class=\"scroll\"><table class=\"pairs stack\"><thead><tr><th>pair</th><th>verdict</th><th>reason</th></tr></thead><tbody>\n");
        for (int i = 0; i < pairs.Count; i++)
        {
            string pair = PairName(w, letters, i);
            w.Raw("<tr><td data-label=\"pair\">").Text(pair).Raw("</td><td data-label=\"verdict\" class=\"").Raw(VerdictClass(labels[i])).Raw("\">").Text(labels[i]).Raw("</td><td data-label=\"reason\">")
                .Text(w.Str($"pairs[{i}].verdict.reason")).Raw("</td></tr>\n");
        }

        w.Raw("</tbody></table></div>\n</section>\n");

        // Evidence.
        w.Raw("<section id=\"evidence\">\n<h2>Evidence</h2>\n<div class=\"scroll\"><table class=\"pair-scores\"><thead><tr><th>pair</th>");
        foreach (var id in methodIds) w.Raw("<th class=\"n\">").Text(id).Raw(" score</th><th class=\"n\">").Text(id).Raw(" p</th>");
        w.Raw("</tr></thead><tbody>\n");
        for (int i = 0; i < pairs.Count; i++)
        {
            w.Raw("<tr><td>").Text(PairName(w, letters, i)).Raw("</td>");
            foreach (var id in methodIds)
            {
                int k = MethodIndex(doc, i, id);
                string mp = $"pairs[{i}].methods[{k}]";
                w.Raw("<td class=\"n\">").Num(mp + ".score", ScoreFormat, k < 0 ? "—" : "n/a").Raw("</td><td class=\"n\">").Num(mp + ".p_value", PFormat).Raw("</td>");
            }

            w.Raw("</tr>\n");
        }

        w.Raw("</tbody></table></div>\n");

        foreach (var id in methodIds)
        {
            string mp = $"matrices.{id}";
            w.Raw("<h3 id=\"evidence-").Text(Id(id)).Raw("\"><code>").Text(id).Raw("</code></h3>\n");
            var scores = MatrixJson.ScoresFromJson(doc, id);
            var order = (doc["matrices"]![id]!["order"] as JsonArray ?? []).Select(o => (int)Number(o)).ToList();
            var tree = TreeFromJson(doc, id, models.Count);
            bool similarity = doc["matrices"]![id]!["similarity"] is not JsonValue sv || !sv.TryGetValue(out bool s) || s;
            bool anyScore = false;
            foreach (double v in scores) anyScore |= double.IsFinite(v);
            var figs = new List<RenderedFigure>();
            if (anyScore)
                figs.Add(Plots.Figures.PairHeatmap($"{Id(id)}-matrix", id, scores, letters, order, similarity, clustered: tree is { Merges.Count: > 0 }));
            else w.Raw("<p class=\"note\">").Text($"{id} is not applicable to any pair: no matrix to draw.").Raw("</p>\n");
            if (tree is { Merges.Count: > 0 } && models.Count > 1) figs.Add(Plots.Figures.DendrogramPlot($"{Id(id)}-dendrogram", id, tree, letters));
            else if (anyScore && w.Str($"matrices.{id}.not_clustered_reason") is { } why) w.Raw("<p class=\"note\">").Text($"No dendrogram: {why}.").Raw("</p>\n");
            if (Backgrounds.For(id, FirstRaw(doc, id)) is { } bg)
            {
                var observed = new List<Observed>();
                for (int i = 0; i < pairs.Count; i++)
                {
                    int k = MethodIndex(doc, i, id);
                    if (k >= 0) observed.Add(new Observed(PairName(w, letters, i), Number(pairs[i]!["methods"]![k]!["score"])));
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
                foreach (int j in order) w.Raw("<td class=\"n\">").Num($"{mp}.scores[{i}][{j}]", ScoreFormat, i == j ? "" : "—").Raw("</td>");
                w.Raw("</tr>\n");
            }

            w.Raw("</tbody></table></div></details>\n");
            LayerHeatmaps(w, figures, letters, id);
        }

        PdfOverlay(w, figures, letters);
        w.Raw("</section>\n");
        MethodsSection(w, methodIds, infos);
        ModelsSection(w, letters);
        return new ReportOutput(Close(w, doc), figures);
    }

    private static string PairName(HtmlWriter w, List<string> letters, int pair)
    {
        int a = (int)Number(JsonPath.Resolve(w.Document, $"pairs[{pair}].a")), b = (int)Number(JsonPath.Resolve(w.Document, $"pairs[{pair}].b"));
        return $"{Letter(letters, a)} × {Letter(letters, b)}";
    }

    private static string Letter(List<string> letters, int i) => i >= 0 && i < letters.Count ? letters[i] : "?";

    private static int MethodIndex(JsonNode doc, int pair, string id)
    {
        if (doc["pairs"]?[pair]?["methods"] is not JsonArray methods) return -1;
        for (int k = 0; k < methods.Count; k++)
        {
            if ((string?)methods[k]?["id"] == id) return k;
        }

        return -1;
    }

    private static JsonObject? FirstRaw(JsonNode doc, string id)
    {
        foreach (var pair in doc["pairs"] as JsonArray ?? [])
        {
            foreach (var m in pair?["methods"] as JsonArray ?? [])
            {
                if ((string?)m?["id"] == id && (string?)m?["status"] == "ok") return m?["raw"] as JsonObject;
            }
        }

        return null;
    }

    private static Dendrogram? TreeFromJson(JsonNode doc, string id, int leaves)
    {
        if (doc["matrices"]?[id] is not JsonObject m || m["merges"] is not JsonArray merges || m["order"] is not JsonArray order) return null;
        var list = merges.Select(x => new Merge((int)Number(x?["left"]), (int)Number(x?["right"]), Number(x?["height"]), (int)Number(x?["size"]))).ToList();
        return new Dendrogram(leaves, list, order.Select(o => (int)Number(o)).ToList());
    }

    private static void LayerHeatmaps(HtmlWriter w, List<RenderedFigure> all, List<string> letters, string id)
    {
        var pairs = w.Document["pairs"] as JsonArray ?? [];
        var figs = new List<RenderedFigure>();
        int withMatrix = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            int k = MethodIndex(w.Document, i, id);
            if (k < 0 || Matrix(pairs[i]!["methods"]![k]!["layer_matrix"]) is not { } lm) continue;
            withMatrix++;
            if (figs.Count >= MaxLayerHeatmapPairs) continue;
            int a = (int)Number(pairs[i]!["a"]), b = (int)Number(pairs[i]!["b"]);
            figs.Add(Plots.Figures.LayerHeatmap($"{Id(id)}-layers-{letters[a]}-{letters[b]}", $"{id} {letters[a]} × {letters[b]}", lm, $"layer of {letters[a]}", $"layer of {letters[b]}"));
        }

        if (figs.Count == 0) return;
        w.Raw("<details><summary>Layer × layer localisation (").Raw(figs.Count.ToString(CultureInfo.InvariantCulture)).Raw(" pairs")
            .Raw(withMatrix > figs.Count ? $" of {withMatrix.ToString(CultureInfo.InvariantCulture)}" : "").Raw(")</summary>\n");
        Figures(w, figs, all);
        w.Raw("</details>\n");
    }

    /// <summary>The pdf depth curves of every model, overlaid (each model's curves from the first pair it is in).</summary>
    private static void PdfOverlay(HtmlWriter w, List<RenderedFigure> all, List<string> letters)
    {
        var pairs = w.Document["pairs"] as JsonArray ?? [];
        var paths = new string?[letters.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            int k = MethodIndex(w.Document, i, "pdf");
            if (k < 0 || w.Str($"pairs[{i}].methods[{k}].status") != "ok") continue;
            int a = (int)Number(pairs[i]!["a"]), b = (int)Number(pairs[i]!["b"]);
            if (a >= 0 && a < paths.Length) paths[a] ??= $"pairs[{i}].methods[{k}].raw.a";
            if (b >= 0 && b < paths.Length) paths[b] ??= $"pairs[{i}].methods[{k}].raw.b";
        }

        var curves = new List<ModelCurves>();
        var table = new List<(string, string)>();
        for (int m = 0; m < paths.Length; m++)
        {
            if (paths[m] is not { } path || CurvesOf(JsonPath.Resolve(w.Document, path), PlotLabel(letters[m], w.Str($"models[{m}].path"))) is not { } c) continue;
            curves.Add(c);
            table.Add((letters[m], path));
        }

        if (curves.Count == 0) return;
        w.Raw("<h3 id=\"pdf-curves\">pdf depth curves, all models</h3>\n<p class=\"note\">Left: the z-scored curves the statistic correlates (the published figure). Right: the raw standard deviations.</p>\n");
        Figures(w, Plots.Figures.PdfCurves(curves), all);
        PdfStdTable(w, table);
    }
}
