using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Model;
using WeightPrint.Reports.Plots;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;

namespace WeightPrint.Reports.Html;

/// <summary>
/// The self-contained HTML report of a <c>compare</c> or <c>matrix</c> run, built from its typed result; the run's
/// JSON document (the same one <c>--json</c> prints) is embedded verbatim in <c>&lt;script type="application/json"
/// id="weightprint-data"&gt;</c>, and every number shown names its place in that document. Order: verdict and reason, evidence (tables and plots), methods (what each
/// statistic measures, its null, its failure modes), model metadata. No scripts, no external resources.
/// </summary>
internal static partial class HtmlReport
{
    public const string DataElementId = "weightprint-data";

    /// <summary>Pairs of a matrix run that get their own layer heatmaps (the rest are summarised).</summary>
    public const int MaxLayerHeatmapPairs = 12;

    private const string ScoreFormat = "F4";
    private const string PFormat = HtmlWriter.PValueFormat;
    private const string PercentileFormat = HtmlWriter.OrdinalFormat;
    private const string CountFormat = "N0";
    private const string CurveFormat = "G5";

    private static readonly string[] PdfCurveNames = ["q", "k", "v", "o"];

    private static readonly (string Key, string Name, Func<AttentionGeometry, int> Value)[] GeometryColumns =
    [
        ("hidden_size", "hidden", g => g.HiddenSize), ("heads", "heads", g => g.Heads), ("kv_heads", "kv heads", g => g.KvHeads),
        ("head_dim", "head dim", g => g.HeadDim), ("intermediate_size", "mlp", g => g.IntermediateSize), ("vocab_size", "vocab", g => g.VocabSize),
        ("experts", "experts", g => g.Experts),
    ];

    // ---------------------------------------------------------------- shared pieces

    private static void Open(HtmlWriter w, string title)
    {
        w.Raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n")
            .Raw("<meta name=\"generator\" content=\"weightprint\">\n")
            .Raw("<link rel=\"icon\" href=\"data:,\">\n<title>").Text(title).Raw("</title>\n<style>\n").Raw(ReportStyle.Css).Raw("\n</style>\n</head>\n<body>\n<main>\n");
    }

    private static string Close(HtmlWriter w, JsonNode doc, int seed)
    {
        w.Raw("<footer><p>Made by <code>weightprint</code> ").Text(ToolInfo.Version).Raw(", commit <code>").Text(ToolInfo.Commit)
            .Raw("</code> (schema version ").Num("schema_version", ComparisonJson.SchemaVersion, CountFormat).Raw(", seed ").Num("seed", seed, "0")
            .Raw("). Every number on this page is read from the JSON document embedded below (the same document <code>--json</code> prints); ")
            .Raw("select it with your browser's view-source to reuse it.</p></footer>\n</main>\n");
        // JavaScriptEncoder.Default escapes <, >, &, ' and non-ASCII, so no string in the document can close the element.
        w.Raw("<script type=\"application/json\" id=\"").Raw(DataElementId).Raw("\">").Raw(JsonText.Serialize(doc, indented: false, JavaScriptEncoder.Default)).Raw("</script>\n</body>\n</html>\n");
        return w.ToString();
    }

    private static void Figure(HtmlWriter w, RenderedFigure f, List<RenderedFigure> all)
    {
        all.Add(f);
        w.Raw("<figure id=\"fig-").Raw(f.Id).Raw("\"><img src=\"data:image/png;base64,").Raw(Convert.ToBase64String(f.Png))
            .Raw("\" width=\"").Raw(f.Width.ToString(CultureInfo.InvariantCulture)).Raw("\" height=\"").Raw(f.Height.ToString(CultureInfo.InvariantCulture))
            .Raw("\" alt=\"").Text(f.Title).Raw("\"><figcaption>").Text(f.Caption).Raw("</figcaption></figure>\n");
    }

    private static void Figures(HtmlWriter w, IEnumerable<RenderedFigure> figures, List<RenderedFigure> all)
    {
        w.Raw("<div class=\"figs\">\n");
        foreach (var f in figures) Figure(w, f, all);
        w.Raw("</div>\n");
    }

    private static string VerdictClass(string? label) => label switch
    {
        "derived" => "v-derived",
        "independent" => "v-independent",
        _ => "v-inconclusive",
    };

    /// <summary>The last meaningful segment of a path ("samples/llama2xs-hf-f32/" → "llama2xs-hf-f32").</summary>
    public static string ShortName(string? path)
    {
        if (string.IsNullOrEmpty(path)) return "?";
        string trimmed = path.TrimEnd('/', '\\');
        int slash = trimmed.LastIndexOfAny(['/', '\\']);
        string name = slash >= 0 ? trimmed[(slash + 1)..] : trimmed;
        return name.Length == 0 ? path : name;
    }

    private static string PlotLabel(string letter, string? path)
    {
        string name = ShortName(path);
        if (name.Length > 36) name = name[..35] + "…";
        return $"{letter}: {name}";
    }

    /// <summary>The methods table of one comparison: one row per result, each number traced to its place under
    /// <paramref name="methodsPath"/> (the JSON array of the results).</summary>
    private static void MethodsTable(HtmlWriter w, IReadOnlyList<MethodResult> methods, string methodsPath)
    {
        w.Raw("<div class=\"scroll\"><table class=\"methods stack\">\n<thead><tr><th>method</th><th class=\"n\">score</th><th class=\"n\">p-value</th>")
            .Raw("<th class=\"n\">background percentile</th><th>verdict contribution</th><th>summary</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < methods.Count; i++)
        {
            string p = $"{methodsPath}[{i}]";
            var m = methods[i];
            bool ok = m.Status == MethodStatus.Ok;
            w.Raw("<tr id=\"method-").Text(m.Id).Raw("\"><td><code>").Text(m.Id).Raw("</code></td>");
            w.Raw("<td class=\"n\" data-label=\"score\">").Num(p + ".score", m.Score, ScoreFormat, ok ? "undefined" : "n/a").Raw("</td>");
            // The null of each method is described once, in the Methods section; a method without a p-value shows "—".
            w.Raw("<td class=\"n\" data-label=\"p-value\">").Num(p + ".p_value", m.PValue, PFormat).Raw("</td>");
            w.Raw("<td class=\"n\" data-label=\"background percentile\">").Num(p + ".background_percentile", m.BackgroundPercentile, PercentileFormat).Raw("</td>");
            w.Raw("<td data-label=\"verdict contribution\">").Text(EvidenceText(m.Evidence)).Raw("</td>");
            w.Raw("<td class=\"wide\" data-label=\"summary\">").Text(ok ? m.Summary : "not applicable: " + m.Reason).Raw("</td></tr>\n");
        }

        w.Raw("</tbody></table></div>\n");
    }

    private static string EvidenceText(Evidence evidence) => evidence switch
    {
        Evidence.Derived => "points to derived",
        Evidence.Independent => "points to independent",
        Evidence.Unclear => "unclear",
        _ => "none (descriptive or not applicable)",
    };

    private static void MethodsSection(HtmlWriter w, IEnumerable<string> ids, IReadOnlyList<MethodInfo> infos)
    {
        w.Raw("<section id=\"methods\">\n<h2>Methods</h2>\n");
        foreach (string id in ids)
        {
            var info = infos.FirstOrDefault(m => m.Id == id);
            w.Raw("<h3 id=\"about-").Text(id).Raw("\"><code>").Text(id).Raw("</code></h3>\n<dl class=\"method\">");
            w.Raw("<dt>What it measures</dt><dd>").Text(info?.Description ?? "No description is available for this method in this version of weightprint.").Raw("</dd>");
            w.Raw("<dt>Null distribution</dt><dd>").Text(info?.NullDescription ?? "unknown").Raw("</dd>");
            w.Raw("<dt>Known failure modes</dt><dd>").Text(string.IsNullOrWhiteSpace(info?.FailureModes) ? "none documented" : info.FailureModes).Raw("</dd></dl>\n");
        }

        w.Raw("</section>\n");
    }

    private static void ModelsSection(HtmlWriter w, IReadOnlyList<ModelSummary> models, IReadOnlyList<string> letters)
    {
        w.Raw("<section id=\"models\">\n<h2>Models</h2>\n<div class=\"scroll\"><table class=\"models stack\">\n<thead><tr><th></th><th>path</th><th>source</th><th>format</th>")
            .Raw("<th>architecture</th><th class=\"n\">layers</th><th class=\"n\">parameters</th><th class=\"n\">bytes</th><th>revision</th>")
            .Raw("<th class=\"n\">hidden</th><th class=\"n\">heads</th><th class=\"n\">kv heads</th><th class=\"n\">head dim</th><th class=\"n\">mlp</th><th class=\"n\">vocab</th><th class=\"n\">experts</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < models.Count; i++)
        {
            string p = $"models[{i}]";
            var m = models[i];
            w.Raw("<tr><th>").Text(i < letters.Count ? letters[i] : (i + 1).ToString(CultureInfo.InvariantCulture)).Raw("</th>");
            w.Raw("<td class=\"path\" data-label=\"path\">").Text(m.Path).Raw("</td><td data-label=\"source\">").Text(m.Source)
                .Raw("</td><td data-label=\"format\">").Text(m.Format).Raw("</td><td data-label=\"architecture\">").Text(m.Architecture).Raw("</td>");
            w.Raw("<td class=\"n\" data-label=\"layers\">").Num(p + ".layers", m.Layers, CountFormat).Raw("</td><td class=\"n\" data-label=\"parameters\">").Num(p + ".parameters", m.Parameters, CountFormat)
                .Raw("</td><td class=\"n\" data-label=\"bytes\">").Num(p + ".bytes", m.Bytes, CountFormat).Raw("</td>");
            w.Raw("<td data-label=\"revision\"><code>").Text(m.Revision ?? "—").Raw("</code></td>");
            foreach (var (g, name, value) in GeometryColumns)
                w.Raw("<td class=\"n\" data-label=\"").Raw(name).Raw("\">").Num($"{p}.geometry.{g}", m.Geometry is { } geometry ? value(geometry) : null, CountFormat).Raw("</td>");
            w.Raw("</tr>\n");
        }

        w.Raw("</tbody></table></div>\n<p class=\"note\">Revision: the commit of the hub repository the weights were read from, when known. Geometry is blank for fingerprint files.</p>\n</section>\n");
    }

    /// <summary>Per-curve scores (pdf: Q, K, V, O) as an inline list.</summary>
    private static void PerCurve(HtmlWriter w, MethodResult m, string methodPath)
    {
        if (m.PerCurve.Count == 0) return;
        w.Raw("<p>Per curve: ");
        bool first = true;
        foreach (var (k, v) in m.PerCurve)
        {
            if (!first) w.Raw(" · ");
            first = false;
            w.Raw("<strong>").Text(k.ToUpperInvariant()).Raw("</strong> ").Num($"{methodPath}.per_curve.{k}", v, ScoreFormat, "undefined");
        }

        w.Raw("</p>\n");
    }

    /// <summary>Per-layer scores as a collapsible table.</summary>
    private static void PerLayerTable(HtmlWriter w, MethodResult m, string methodPath)
    {
        var layers = m.PerLayer;
        if (layers.Count == 0) return;
        w.Raw("<details><summary>Per-layer scores (").Raw(layers.Count.ToString(CultureInfo.InvariantCulture)).Raw(" rows)</summary><div class=\"scroll\"><table>")
            .Raw("<thead><tr><th class=\"n\">layer of A</th><th class=\"n\">layer of B</th><th class=\"n\">score</th><th class=\"n\">p-value</th></tr></thead><tbody>\n");
        for (int i = 0; i < layers.Count; i++)
        {
            string p = $"{methodPath}.per_layer[{i}]";
            var l = layers[i];
            w.Raw("<tr><td class=\"n\">").Num(p + ".layer_a", l.LayerA, "0").Raw("</td><td class=\"n\">").Num(p + ".layer_b", l.LayerB, "0").Raw("</td><td class=\"n\">")
                .Num(p + ".score", l.Score, ScoreFormat, "undefined").Raw("</td><td class=\"n\">").Num(p + ".p_value", l.PValue, PFormat).Raw("</td></tr>\n");
        }

        w.Raw("</tbody></table></div></details>\n");
    }

    /// <summary>The raw per-layer standard deviations behind the pdf curves, as a collapsible table (each model's
    /// curves, and their path in the document).</summary>
    private static void PdfStdTable(HtmlWriter w, IReadOnlyList<(string Letter, string Path, PdfCurves Curves)> models)
    {
        w.Raw("<details><summary>Raw standard deviations per layer (z-scoring hides absolute differences)</summary><div class=\"scroll\"><table><thead><tr><th class=\"n\">layer</th>");
        foreach (var c in PdfCurveNames)
        {
            foreach (var (letter, _, _) in models) w.Raw("<th class=\"n\">").Text($"{c.ToUpperInvariant()} {letter}").Raw("</th>");
        }

        w.Raw("</tr></thead><tbody>\n");
        int rows = models.Max(m => m.Curves.Std?.GetValueOrDefault("q")?.Length ?? 0);
        for (int l = 0; l < rows; l++)
        {
            w.Raw("<tr><td class=\"n\">").Raw(l.ToString(CultureInfo.InvariantCulture)).Raw("</td>");
            foreach (var c in PdfCurveNames)
            {
                foreach (var (_, path, curves) in models)
                {
                    var values = curves.Std?.GetValueOrDefault(c);
                    w.Raw("<td class=\"n\">");
                    if (values != null && l < values.Length) w.Num($"{path}.std.{c}[{l}]", values[l], CurveFormat, "undefined");
                    w.Raw("</td>");
                }
            }

            w.Raw("</tr>\n");
        }

        w.Raw("</tbody></table></div></details>\n");
    }

    /// <summary>A model's pdf curves for the plots (null when the normalised or raw curves are missing).</summary>
    private static ModelCurves? CurvesOf(PdfCurves side, string label)
    {
        if (side.Normalised is not { } norm || side.Std is not { } std) return null;
        var n = new Dictionary<string, double[]>();
        var s = new Dictionary<string, double[]>();
        foreach (var c in PdfCurveNames)
        {
            if (norm.TryGetValue(c, out var na)) n[c] = [.. na.Select(Finite)];
            if (std.TryGetValue(c, out var sa)) s[c] = [.. sa.Select(Finite)];
        }

        return new ModelCurves(label, n, s);
    }

    /// <summary>The value, or NaN when it is not finite (as the JSON document holds it: null).</summary>
    private static double Finite(double v) => double.IsFinite(v) ? v : double.NaN;

    /// <summary>A layer × layer matrix for plotting (null when absent or empty), non-finite entries as NaN.</summary>
    private static double[][]? PlotMatrix(double[][]? m) => m is { Length: > 0 } ? [.. m.Select(r => r.Select(Finite).ToArray())] : null;

    private static string Id(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-').ToArray());
}
