using System.Text.Json.Nodes;
using System.Xml.Linq;
using WeightPrint.Comparison;
using WeightPrint.Reports.Html;
using WeightPrint.Signals;
using WeightPrint.Signals.Pdf;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Reports;

public class HtmlReportTests
{
    private static readonly string SampleA = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin");
    private static readonly string SampleB = Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32");

    private static readonly string[] SectionOrder = ["verdict", "evidence", "methods", "models"];

    [Fact]
    public void Compare_report_puts_the_verdict_first_and_shows_exactly_the_json_numbers()
    {
        using var dir = new TempDir();
        string html = dir.File("report.html"), svg = dir.File("svg");
        var run = CliRunner.Run("compare", SampleA, SampleB, "--methods", "pdf", "--report", html, "--svg", svg);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("wrote " + html, run.Stderr);
        var json = JsonNode.Parse(CliRunner.Run("compare", SampleA, SampleB, "--methods", "pdf", "--json").Stdout)!;

        string page = File.ReadAllText(html);
        Assert.Equal(SectionOrder, ReportHtml.SectionIds(page));
        Assert.True(JsonNode.DeepEquals(json, ReportHtml.EmbeddedJson(page)), "the embedded JSON differs from compare --json");
        int numbers = ReportHtml.AssertNumbersMatchJson(page);
        Assert.True(numbers >= 40, $"only {numbers} numbers are traced to the JSON");
        ReportHtml.AssertSelfContained(page);

        // The headline numbers are there, formatted from the JSON values.
        double score = (double)json["methods"]![0]!["score"]!;
        Assert.Contains($">{score:F4}</span>", page);
        string label = (string)json["verdict"]!["label"]!;
        Assert.Contains($"<div class=\"label\">{label}</div>", page);
        Assert.Contains(HtmlWriter.Escape((string)json["verdict"]!["reason"]!), page);

        // Methods section from SignalMethod; model metadata.
        var pdf = MethodRegistry.All.Single(m => m.Id == "pdf");
        Assert.Contains(HtmlWriter.Escape(pdf.Description), page);
        Assert.Contains(HtmlWriter.Escape(pdf.FailureModes), page);
        Assert.Contains(HtmlWriter.Escape(SampleB), page);

        // Figures: 8 pdf curve plots + the background histogram, PNG in the page, SVG on disk, well-formed.
        var svgs = Directory.GetFiles(svg, "*.svg").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(9, svgs.Count);
        Assert.Contains("pdf-background.svg", svgs);
        Assert.Contains("pdf-normalised-q.svg", svgs);
        Assert.Contains("pdf-std-o.svg", svgs);
        foreach (var f in Directory.GetFiles(svg)) Assert.Equal("svg", XDocument.Parse(File.ReadAllText(f)).Root!.Name.LocalName);
        Assert.Equal(9, CountOf(page, "src=\"data:image/png;base64,"));
    }

    [Fact]
    public void Hostile_strings_from_model_files_are_escaped_everywhere()
    {
        var result = HostileResult();
        var report = HtmlReport.Compare(result, [new FakeMethod()]);
        string page = report.Html;

        Assert.DoesNotContain("<script>alert", page);
        Assert.DoesNotContain("<img src=x", page);
        Assert.DoesNotContain("<b>", page);
        Assert.DoesNotContain("<i>", page);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page);
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt;", page);
        ReportHtml.AssertSelfContained(page);
        Assert.Equal(SectionOrder, ReportHtml.SectionIds(page));
        Assert.True(JsonNode.DeepEquals(ComparisonJson.ToJson(result), ReportHtml.EmbeddedJson(page)));
        ReportHtml.AssertNumbersMatchJson(page);

        // Generic figures for a method that has a layer matrix, per-layer scores and a raw background.
        var ids = report.Figures.Select(f => f.Id).ToList();
        Assert.Contains("fake-background", ids);
        Assert.Contains("fake-layers", ids);
        Assert.Contains("fake-per-layer", ids);
        Assert.Contains("pdf-normalised-q", ids);
        Assert.Contains("pdf-background", ids);
        foreach (var f in report.Figures) Assert.Equal("svg", XDocument.Parse(f.Svg).Root!.Name.LocalName);

        // The legend of the curve plots carries the hostile model name; the SVG must still be well-formed and escaped.
        var curves = report.Figures.Single(f => f.Id == "pdf-normalised-q").Svg;
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt;", curves);
        Assert.DoesNotContain(XDocument.Parse(curves).Descendants(), e => e.Name.LocalName is "img" or "script");
    }

    [Fact]
    public void A_method_without_a_background_gets_no_histogram_and_a_not_applicable_one_no_figures()
    {
        var r = new ComparisonResult(
            [Summary("a"), Summary("b")], null,
            [
                new MethodResult { Id = "plain", Score = 0.5, NullDescription = "none", Summary = "plain" },
                new MethodResult { Id = "skipped", Status = MethodStatus.NotApplicable, Reason = "needs <weights>", NullDescription = "n" },
            ],
            new WeightPrint.Verdict.Verdict("inconclusive", "because"), 1);
        var report = HtmlReport.Compare(r, []);
        Assert.Empty(report.Figures);
        Assert.Contains("not applicable: needs &lt;weights&gt;", report.Html);
        Assert.Contains("No description is available", report.Html);
        ReportHtml.AssertNumbersMatchJson(report.Html);
    }

    [SkippableFact]
    public void Report_renders_in_headless_chromium_on_desktop_and_phone_without_console_errors()
    {
        using var dir = new TempDir();
        string html = dir.File("report.html");
        Assert.Equal(0, CliRunner.Run("compare", SampleA, SampleB, "--methods", "pdf", "--report", html, "--quiet").ExitCode);
        string hostile = dir.File("hostile.html");
        HtmlReport.Compare(HostileResult(), [new FakeMethod()]).WriteHtml(hostile);

        foreach (var (page, width) in new[] { (html, 1280), (html, 390), (hostile, 1280) })
        {
            var render = Chromium.Screenshot(page, width, 2000, dir.Path);
            Assert.Equal((width, 2000), Chromium.PngSize(render.Png));
            Assert.True(render.Png.Length > 20_000, $"the {width}px screenshot looks blank ({render.Png.Length} bytes)");
            // The page has no script and a CSP that blocks fetches: any console message (a CSP violation, an injected
            // script being blocked, a failed load) is a bug.
            Assert.True(render.ConsoleMessages.Count == 0, "console messages:\n" + string.Join("\n", render.ConsoleMessages));
        }
    }

    internal static ComparisonResult HostileResult()
    {
        var a = new ModelSummary("/models/<script>alert(1)</script>", "weights", "safe<tensors>", "llama", 3, 1234, 5678, null, "rev'\"<b>x</b>");
        var b = new ModelSummary("/models/\"><img src=x onerror=alert(2)>", "weights", "gguf", "llama & co", 3, 99, 100, null);
        double[] curve = [0.1, 0.3, 0.2];
        PdfCurves Side()
        {
            var c = new Dictionary<string, double[]> { ["q"] = curve, ["k"] = curve, ["v"] = curve, ["o"] = curve };
            return new PdfCurves(c, c);
        }

        var pdf = new MethodResult
        {
            Id = "pdf",
            Score = 0.75,
            NullDescription = "none <i>descriptive</i>",
            BackgroundPercentile = 12.5,
            PerCurve = new Dictionary<string, double> { ["q"] = 0.5, ["k"] = double.NaN, ["v"] = 1, ["o"] = 0.25 },
            Details = new PdfDetails(3, 3, false, 0.875, [], Side(), Side(), new PdfBackgroundPosition("</script><script>alert(3)</script>", 5, 12.5, 50, 0.93)),
            Summary = "<b>bold</b> summary",
        };
        var fake = new MethodResult
        {
            Id = "fake",
            Score = 0.9,
            PValue = 0.001,
            NullDescription = "permutation <i>null</i>",
            PerLayer = [new LayerScore(0, 0, 0.8, 0.01), new LayerScore(1, 1, 0.9), new LayerScore(2, 2, double.NaN)],
            LayerMatrix = [[0.9, 0.1, 0.2], [0.1, 0.8, 0.3], [0.2, 0.3, double.NaN]],
            Details = new FakeDetails { BackgroundScores = [0.1, 0.2, 0.25, 0.3, 0.5], BackgroundSource = "<i>permutations</i>" },
            Evidence = Evidence.Derived,
            Summary = "fake says <i>derived</i>",
        };
        return new ComparisonResult([a, b], new IdentityCheck.Result(10, 2, 1), [pdf, fake],
            new WeightPrint.Verdict.Verdict("derived", "<script>alert(4)</script> decided it"), 7);
    }

    private static ModelSummary Summary(string path) => new(path, "weights", "safetensors", "llama", 2, 10, 40, null);

    private static int CountOf(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Details of a method outside the registry: only the background a method may report.</summary>
    internal sealed record FakeDetails : MethodDetails;

    /// <summary>A method whose texts contain markup, for the methods section.</summary>
    internal sealed class FakeMethod : SignalMethod
    {
        public override string Id => "fake";

        public override string Description => "measures <i>nothing</i> & more";

        public override string NullDescription => "permutation <i>null</i>";

        public override string FailureModes => "fails on <script>alert(5)</script>";

        public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context) => NotApplicable("fake");
    }
}
