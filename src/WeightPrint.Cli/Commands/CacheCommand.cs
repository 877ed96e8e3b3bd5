using System.CommandLine;
using System.Globalization;
using WeightPrint.IO.Http;
using WeightPrint.Loading;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint cache info|clear</c>: the Hub block cache's folder, size and cap; or empty it.</summary>
internal static class CacheCommand
{
    public static Command Create(CliContext context)
    {
        var info = new Command("info", "Show the Hub block cache's folder, its size and its cap");
        info.SetAction(_ =>
        {
            var options = HubLoader.EffectiveOptions();
            if (options.CacheDirectory is not { } root)
            {
                context.Out.WriteLine("no cache folder (set WEIGHTPRINT_CACHE or HOME)");
                return;
            }

            var (files, bytes) = BlockCacheBudget.Measure(root);
            context.Out.WriteLine($"folder  {root}");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"blocks  {files:N0} files, {bytes:N0} bytes ({bytes / (double)(1L << 30):0.00} GB)"));
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cap     {options.CacheMaxBytes:N0} bytes ({options.CacheMaxBytes / (double)(1L << 30):0.00} GB; WEIGHTPRINT_CACHE_MAX or --cache-max), least recently used blocks evicted beyond it"));
        });
        var clear = new Command("clear", "Delete the Hub block cache (the standard Hugging Face cache is never touched)");
        clear.SetAction(_ =>
        {
            var options = HubLoader.EffectiveOptions();
            if (options.CacheDirectory is not { } root || !Directory.Exists(root))
            {
                context.Out.WriteLine("the cache is empty");
                return;
            }

            var (files, bytes) = BlockCacheBudget.Measure(root);
            Directory.Delete(root, recursive: true);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"deleted {root} ({files:N0} block files, {bytes:N0} bytes)"));
        });
        return new Command("cache", "The Hub block cache: info, clear") { info, clear };
    }
}
