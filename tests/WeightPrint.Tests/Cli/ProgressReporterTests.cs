using WeightPrint.Cli.Progress;

namespace WeightPrint.Tests.Cli;

public class ProgressReporterTests
{
    [Fact]
    public void A_forced_bar_on_a_log_ends_each_task_with_a_newline_and_shows_the_largest_value()
    {
        var err = new StringWriter();
        var progress = new ProgressReporter(err, enabled: true, terminal: false, color: false);
        using (var task = progress.Start("reading A (pdf)", 2_000_000))
        {
            task.Report(1_500_000);
            task.Report(500_000); // out of order from another worker: the bar never goes back
            Assert.Equal(1_500_000, task.Done);
        }

        string text = err.ToString();
        Assert.EndsWith("\n", text);
        Assert.Contains("reading A (pdf)", text);
        Assert.Contains("100%  2.00 MB / 2.00 MB", text);
        Assert.Contains("[########################]", text);
        Assert.DoesNotContain("\u001b[", text);
    }

    [Fact]
    public void A_disabled_reporter_writes_nothing()
    {
        var err = new StringWriter();
        using (var task = new ProgressReporter(err, enabled: false, terminal: true, color: true).Start("x", 10)) task.Report(5);
        Assert.Equal("", err.ToString());
        Assert.False(ProgressReporter.For(new StringWriter(), quiet: false, force: false).Enabled);
        Assert.True(ProgressReporter.For(new StringWriter(), quiet: false, force: true).Enabled);
        Assert.False(ProgressReporter.For(new StringWriter(), quiet: true, force: true).Enabled);
    }

    [Fact]
    public void Terminal_bars_are_coloured_and_erased_when_done()
    {
        var err = new StringWriter();
        var progress = new ProgressReporter(err, enabled: true, terminal: true, color: true);
        using (progress.Start("comparing 3 pairs", 3, "pairs"))
        {
        }

        string text = err.ToString();
        Assert.Contains("\u001b[36m", text);
        Assert.Contains("3 / 3 pairs", text);
        Assert.EndsWith("\r", text);
        Assert.DoesNotContain("\n", text);
    }

    [Fact]
    public void A_task_redraws_after_the_interval_with_the_status_text()
    {
        var err = new StringWriter();
        var progress = new ProgressReporter(err, enabled: true, terminal: false, color: false);
        string status = "fetched 1.00 MB of 9.00 MB";
        progress.Status = () => status;
        using (var task = progress.Start("reading A (pdf)", 1000))
        {
            Thread.Sleep(ProgressReporter.RedrawInterval * 2);
            task.Report(400);
            Assert.Contains(" 40%  400 B / 1.00 kB  · fetched 1.00 MB of 9.00 MB", err.ToString());
            status = "fetched 2.00 MB of 9.00 MB";
            Thread.Sleep(ProgressReporter.RedrawInterval * 2);
            progress.Refresh(); // the status changed while the count stood still
            Assert.Contains(" 40%  400 B / 1.00 kB  · fetched 2.00 MB of 9.00 MB", err.ToString());
        }

        int before = err.ToString().Length;
        progress.Refresh(); // no task in progress: nothing to redraw
        Assert.Equal(before, err.ToString().Length);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(999, "999 B")]
    [InlineData(1_000, "1.00 kB")]
    [InlineData(12_345_678, "12.3 MB")]
    [InlineData(123_456_789_012, "123 GB")]
    public void Bytes_are_shown_in_decimal_units(long bytes, string expected) => Assert.Equal(expected, ProgressReporter.Bytes(bytes));
}
