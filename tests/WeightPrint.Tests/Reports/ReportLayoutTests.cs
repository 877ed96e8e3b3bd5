using System.Text.Json.Nodes;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Reports;

/// <summary>
/// The HTML reports laid out by headless Chromium at 1280 px (issue 14, item 7). A copy of the report gets a measuring
/// script (the report itself carries none) that logs the layout to the console; the test reads it from Chromium's log.
/// </summary>
public class ReportLayoutTests
{
    private const int DesktopWidth = 1280;

    private static string Sample(string name) => Path.Combine(SharedModels.RepoRoot, "samples", name);

    private const string Probe = """
        <script>
        addEventListener('load', () => {
          const over = [...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => (e.querySelector('table') || e).className);
          const paths = [...document.querySelectorAll('.path')].map(e => e.getClientRects().length);
          const figs = [...document.querySelectorAll('figure')].filter(f => !f.querySelector('img')).length;
          const firstFig = document.querySelector('#evidence figure');
          console.log('LAYOUT ' + JSON.stringify({ page: document.documentElement.scrollWidth, over, maxPathLines: Math.max(0, ...paths), emptyFigures: figs,
            firstFigureTop: firstFig ? Math.round(firstFig.getBoundingClientRect().top) : -1 }));
        });
        </script>
        """;

    private static JsonNode Layout(string html, TempDir dir)
    {
        string probed = dir.File("probed.html");
        // The report's Content-Security-Policy forbids scripts; the measuring copy drops it (the original is untouched).
        string page = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(html), "<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "");
        File.WriteAllText(probed, page.Replace("</body>", Probe + "</body>", StringComparison.Ordinal));
        var render = Chromium.Screenshot(probed, DesktopWidth, 1000, dir.Path);
        string? line = render.ConsoleMessages.FirstOrDefault(m => m.Contains("LAYOUT ", StringComparison.Ordinal));
        Assert.True(line != null, "the measuring script logged nothing:\n" + render.Log);
        string json = line![(line.IndexOf("LAYOUT ", StringComparison.Ordinal) + 7)..];
        json = json[..(json.LastIndexOf('}') + 1)];
        return JsonNode.Parse(json)!;
    }

    [SkippableFact]
    public void Compare_report_fits_1280_px_with_paths_whole_and_no_empty_plot_cards()
    {
        using var dir = new TempDir();
        string html = dir.File("r.html");
        var r = CliRunner.Run("compare", Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")), Sample("llama2xs-hf-f32"), "--report", html, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var layout = Layout(html, dir);
        Assert.True((int)layout["page"]! <= DesktopWidth, $"page is {(int)layout["page"]!} px wide");
        Assert.DoesNotContain("methods stack", layout["over"]!.AsArray().Select(o => (string?)o));
        Assert.True((int)layout["maxPathLines"]! <= 2, $"a model path wraps over {(int)layout["maxPathLines"]!} lines");
        Assert.Equal(0, (int)layout["emptyFigures"]!);
        Assert.InRange((int)layout["firstFigureTop"]!, 0, 1400);
    }

    [SkippableFact]
    public void Matrix_report_fits_1280_px()
    {
        using var dir = new TempDir();
        string html = dir.File("m.html");
        var r = CliRunner.Run("matrix", Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")), Sample("stories260K-hf-bf16"), Sample("llama2xs-hf-f32"),
            "--methods", "pdf,pcs,cka,layers", "--report", html, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var layout = Layout(html, dir);
        Assert.True((int)layout["page"]! <= DesktopWidth, $"page is {(int)layout["page"]!} px wide");
        Assert.DoesNotContain("pair-scores", layout["over"]!.AsArray().Select(o => (string?)o));
        Assert.True((int)layout["maxPathLines"]! <= 2);
    }

    [Fact]
    public void Report_shows_floored_p_values_as_a_bound_and_percentiles_as_ordinals()
    {
        using var dir = new TempDir();
        string html = dir.File("r.html");
        Assert.Equal(0, CliRunner.Run("compare", Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")), Sample("stories260K-hf-bf16"), "--methods", "pdf,pcs", "--report", html, "--quiet").ExitCode);
        string page = File.ReadAllText(html);
        Assert.Contains("&lt; 1e-300</span>", page);
        Assert.DoesNotContain(">1E-300<", page);
        Assert.Matches(@">\d+\.\d(st|nd|rd|th)</span>", page);
        Assert.DoesNotContain(">NaN<", page);
        Assert.DoesNotContain("<th>null</th>", page);
        ReportHtml.AssertNumbersMatchJson(page);
    }

    [Fact]
    public void Json_flags_a_floored_p_value_as_a_bound()
    {
        var json = JsonNode.Parse(CliRunner.Run("compare", Sample(Path.Combine("stories260K-llama2c", "stories260K.bin")), Sample("stories260K-hf-bf16"), "--methods", "pdf,pcs", "--json", "--quiet").Stdout)!;
        var pcs = json["methods"]!.AsArray().Single(m => (string)m!["id"]! == "pcs")!;
        Assert.True((bool)pcs["p_value_is_bound"]!);
        var pdf = json["methods"]!.AsArray().Single(m => (string)m!["id"]! == "pdf")!;
        Assert.False((bool)pdf["p_value_is_bound"]!);
        // Per layer and per part too: every floored p-value carries the flag, every other one says false.
        var entries = pcs["per_layer"]!.AsArray().Concat(pcs["parts"]!.AsArray()).ToList();
        Assert.NotEmpty(entries);
        foreach (var e in entries)
            Assert.Equal((double)e!["p_value"]! <= 1e-300, (bool)e["p_value_is_bound"]!);
        Assert.Contains(entries, e => (bool)e!["p_value_is_bound"]!);
    }

    [Theory]
    [InlineData(2.26e-95, "2.3e-95")]
    [InlineData(1e-300, "< 1e-300")]
    [InlineData(0.02876, "0.0288")]
    [InlineData(double.NaN, "—")]
    public void One_p_value_format(double p, string shown) => Assert.Equal(shown, WeightPrint.Statistics.NumberText.P(p));

    [Theory]
    [InlineData(25.2, "25.2nd")]
    [InlineData(100, "100.0th")]
    [InlineData(0.1, "0.1st")]
    [InlineData(3.03, "3.0th")]
    [InlineData(12.3, "12.3rd")]
    public void Percentiles_read_as_ordinals(double pct, string shown) => Assert.Equal(shown, WeightPrint.Statistics.NumberText.Ordinal(pct));

    [Fact]
    public void Counts_take_their_plural()
    {
        Assert.Equal("1 layer", WeightPrint.Statistics.NumberText.Count(1, "layer"));
        Assert.Equal("5 layers", WeightPrint.Statistics.NumberText.Count(5, "layer"));
        Assert.Equal("p = 2.3e-95", WeightPrint.Statistics.PValueText.Equation(2.26e-95));
    }
}
