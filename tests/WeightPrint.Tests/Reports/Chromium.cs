using System.Diagnostics;

namespace WeightPrint.Tests.Reports;

/// <summary>Headless Chromium for rendering tests: a screenshot and the page's console messages.</summary>
public static class Chromium
{
    /// <summary>Longest a render may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static string? Executable { get; } = Find();

    public sealed record Render(byte[] Png, IReadOnlyList<string> ConsoleMessages, string Log);

    /// <summary>Renders a local HTML file at the given window size; skips the test when Chromium is absent.</summary>
    public static Render Screenshot(string htmlPath, int width, int height, string workDir)
    {
        Skip.If(Executable == null, "chromium is not installed");
        string profile = Path.Combine(workDir, "chromium-profile-" + Guid.NewGuid().ToString("N"));
        string png = Path.Combine(workDir, $"screenshot-{width}x{height}-{Guid.NewGuid():N}.png");
        var psi = new ProcessStartInfo(Executable!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--log-level=0",
            "--user-data-dir=" + profile, "--screenshot=" + png, $"--window-size={width},{height}", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
        })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"chromium did not finish within {Timeout.TotalSeconds} s");
        }

        string log = stdout.Result + stderr.Result;
        var console = log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        Assert.True(File.Exists(png), "chromium wrote no screenshot:\n" + log);
        return new Render(File.ReadAllBytes(png), console, log);
    }

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG");
        int w = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
        int h = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
        return (w, h);
    }

    private static string? Find()
    {
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }

        return null;
    }
}
