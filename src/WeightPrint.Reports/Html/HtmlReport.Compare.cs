using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Reports.Plots;
using WeightPrint.Signals;

namespace WeightPrint.Reports.Html;

internal static partial class HtmlReport
{
    private static readonly string[] PairLetters = ["A", "B"];

    /// <summary>The report of one comparison.</summary>
    public static ReportOutput Compare(ComparisonResult result, IEnumerable<SignalMethod> methods)
        => Compare(ComparisonJson.ToJson(result), methods.Select(MethodInfo.Of).ToList());

    /// <summary>The report of one comparison from its JSON document (<c>compare --json</c>).</summary>
    public static ReportOutput Compare(JsonObject document, IReadOnlyList<MethodInfo> infos)
    {
        // Re-parse so the page is built from exactly the text that is embedded.
        var doc = JsonText.Finite(document)!;
        var w = new HtmlWriter(doc);
        var figures = new List<RenderedFigure>();
        string nameA = ShortName(w.Str("models[0].path")), nameB = ShortName(w.Str("models[1].path"));
        Open(w, $"WeightPrint: {nameA} vs {nameB}");

        w.Raw("<header><h1>").Text(nameA).Raw(" <span class=\"sub\">vs</span> ").Text(nameB).Raw("</h1>\n<p class=\"sub\">A = <span class=\"path\">")
            .Text(w.Str("models[0].path")).Raw("</span><br>B = <span class=\"path\">").Text(w.Str("models[1].path")).Raw("</span></p></header>\n");

        // Verdict and reason first.
        string? label = w.Str("verdict.label");
        w.Raw("<section id=\"verdict\" class=\"verdict ").Raw(VerdictClass(label)).Raw("\">\n<div class=\"label\">").Text(label).Raw("</div>\n<p class=\"reason\">")
            .Text(w.Str("verdict.reason")).Raw("</p>\n");
        if (doc["identity"] is JsonObject)
        {
            w.Raw("<p class=\"identity\">Identity check: ").Num("identity.identical_tensors", CountFormat).Raw(" of ").Num("identity.compared_tensors", CountFormat)
                .Raw(" canonical tensors hold identical values; ").Num("identity.tensors_in_one_model_only", CountFormat).Raw(" exist in one model only.</p>\n");
        }

        w.Raw("</section>\n");

        // Evidence.
        w.Raw("<section id=\"evidence\">\n<h2>Evidence</h2>\n");
        MethodsTable(w, "methods");
        var methods = doc["methods"] as JsonArray ?? [];
        for (int i = 0; i < methods.Count; i++)
        {
            string p = $"methods[{i}]";
            string id = w.Str(p + ".id") ?? "?";
            if (w.Str(p + ".status") != "ok") continue;
            w.Raw("<h3 id=\"evidence-").Text(Id(id)).Raw("\"><code>").Text(id).Raw("</code></h3>\n");
            PerCurve(w, p);
            MethodFigures(w, figures, p, id, "");
            PerLayerTable(w, p);
            if (id == "pdf" && doc["methods"]![i]!["raw"] is JsonObject raw)
            {
                var curves = new[] { CurvesOf(raw["a"], PlotLabel("A", w.Str("models[0].path"))), CurvesOf(raw["b"], PlotLabel("B", w.Str("models[1].path"))) };
                if (curves.All(c => c != null))
                {
                    w.Raw("<h3 id=\"pdf-curves\">pdf depth curves</h3>\n<p class=\"note\">Left: the z-scored curves the statistic correlates (the published figure). Right: the raw standard deviations.</p>\n");
                    Figures(w, Plots.Figures.PdfCurves(curves!), figures);
                    PdfStdTable(w, [("A", p + ".raw.a"), ("B", p + ".raw.b")]);
                }
            }
        }

        w.Raw("</section>\n");
        MethodsSection(w, methods.Select(m => (string?)m?["id"] ?? "?"), infos);
        ModelsSection(w, PairLetters);
        return new ReportOutput(Close(w, doc), figures);
    }

    /// <summary>The generic figures of one method result: background histogram, layer × layer heatmap, per-layer line.</summary>
    private static void MethodFigures(HtmlWriter w, List<RenderedFigure> all, string p, string id, string idSuffix)
    {
        var method = JsonPath.Resolve(w.Document, p);
        var figs = new List<RenderedFigure>();
        double score = Number(method?["score"]);
        if (Backgrounds.For(id, method?["raw"] as JsonObject) is { } bg && double.IsFinite(score))
            figs.Add(Plots.Figures.BackgroundHistogram($"{Id(id)}-background{idSuffix}", id, bg, [new Observed("observed", score)]));
        if (Matrix(method?["layer_matrix"]) is { } lm)
            figs.Add(Plots.Figures.LayerHeatmap($"{Id(id)}-layers{idSuffix}", id, lm, "layer of A", "layer of B"));
        if (method?["per_layer"] is JsonArray perLayer && perLayer.Count > 1)
        {
            var points = perLayer.Select(l => ((int)Number(l?["layer_a"]), Number(l?["score"]))).ToList();
            figs.Add(Plots.Figures.PerLayer($"{Id(id)}-per-layer{idSuffix}", id, points));
        }

        if (figs.Count > 0) Figures(w, figs, all);
    }
}
