using WeightPrint.Comparison;
using WeightPrint.Reports.Plots;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;

namespace WeightPrint.Reports.Html;

internal static partial class HtmlReport
{
    private static readonly string[] PairLetters = ["A", "B"];

    /// <summary>The report of one comparison.</summary>
    public static ReportOutput Compare(ComparisonResult result, IEnumerable<SignalMethod> methods)
        => Compare(result, methods.Select(MethodInfo.Of).ToList());

    /// <summary>The report of one comparison: figures and method details from the typed result; every number shown
    /// names its place in the result's JSON document (<c>compare --json</c>), which is embedded.</summary>
    private static ReportOutput Compare(ComparisonResult result, IReadOnlyList<MethodInfo> infos)
    {
        // Re-parse so the page is built from exactly the text that is embedded.
        var doc = JsonText.Finite(ComparisonJson.ToJson(result))!;
        var w = new HtmlWriter();
        var figures = new List<RenderedFigure>();
        string? pathA = result.Models.ElementAtOrDefault(0)?.Path, pathB = result.Models.ElementAtOrDefault(1)?.Path;
        string nameA = ShortName(pathA), nameB = ShortName(pathB);
        Open(w, $"WeightPrint: {nameA} vs {nameB}");

        w.Raw("<header><h1>").Text(nameA).Raw(" <span class=\"sub\">vs</span> ").Text(nameB).Raw("</h1>\n<p class=\"sub\">A = <span class=\"path\">")
            .Text(pathA).Raw("</span><br>B = <span class=\"path\">").Text(pathB).Raw("</span></p></header>\n");

        // Verdict and reason first.
        string label = result.Verdict.Label;
        w.Raw("<section id=\"verdict\" class=\"verdict ").Raw(VerdictClass(label)).Raw("\">\n<div class=\"label\">").Text(label).Raw("</div>\n<p class=\"reason\">")
            .Text(result.Verdict.Reason).Raw("</p>\n");
        if (result.Identity is { } identity)
        {
            w.Raw("<p class=\"identity\">Identity check: ").Num("identity.identical_tensors", identity.Identical, CountFormat).Raw(" of ")
                .Num("identity.compared_tensors", identity.Compared, CountFormat).Raw(" canonical tensors hold identical values; ")
                .Num("identity.tensors_in_one_model_only", identity.OnlyInOne, CountFormat).Raw(" exist in one model only.</p>\n");
        }

        w.Raw("</section>\n");

        // Evidence.
        w.Raw("<section id=\"evidence\">\n<h2>Evidence</h2>\n");
        MethodsTable(w, result.Methods, "methods");
        var methods = result.Methods;
        for (int i = 0; i < methods.Count; i++)
        {
            string p = $"methods[{i}]";
            var m = methods[i];
            if (m.Status != MethodStatus.Ok) continue;
            w.Raw("<h3 id=\"evidence-").Text(Id(m.Id)).Raw("\"><code>").Text(m.Id).Raw("</code></h3>\n");
            PerCurve(w, m, p);
            MethodFigures(w, figures, m, "");
            PerLayerTable(w, m, p);
            if (m.Details is PdfDetails pdf)
            {
                var curves = new[] { CurvesOf(pdf.A, PlotLabel("A", pathA)), CurvesOf(pdf.B, PlotLabel("B", pathB)) };
                if (curves.All(c => c != null))
                {
                    w.Raw("<h3 id=\"pdf-curves\">pdf depth curves</h3>\n<p class=\"note\">Left: the z-scored curves the statistic correlates (the published figure). Right: the raw standard deviations.</p>\n");
                    Figures(w, Plots.Figures.PdfCurves(curves!), figures);
                    PdfStdTable(w, [("A", p + ".raw.a", pdf.A), ("B", p + ".raw.b", pdf.B)]);
                }
            }
        }

        w.Raw("</section>\n");
        MethodsSection(w, methods.Select(m => m.Id), infos);
        ModelsSection(w, result.Models, PairLetters);
        return new ReportOutput(Close(w, doc, result.Seed), figures);
    }

    /// <summary>The generic figures of one method result: background histogram, layer × layer heatmap, per-layer line.</summary>
    private static void MethodFigures(HtmlWriter w, List<RenderedFigure> all, MethodResult m, string idSuffix)
    {
        string id = m.Id;
        var figs = new List<RenderedFigure>();
        if (Backgrounds.For(id, m.Details) is { } bg && double.IsFinite(m.Score))
            figs.Add(Plots.Figures.BackgroundHistogram($"{Id(id)}-background{idSuffix}", id, bg, [new Observed("observed", m.Score)]));
        if (PlotMatrix(m.LayerMatrix) is { } lm)
            figs.Add(Plots.Figures.LayerHeatmap($"{Id(id)}-layers{idSuffix}", id, lm, "layer of A", "layer of B"));
        if (m.PerLayer.Count > 1)
        {
            var points = m.PerLayer.Select(l => (l.LayerA, Finite(l.Score))).ToList();
            figs.Add(Plots.Figures.PerLayer($"{Id(id)}-per-layer{idSuffix}", id, points));
        }

        if (figs.Count > 0) Figures(w, figs, all);
    }
}
