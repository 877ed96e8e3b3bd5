using System.Collections.Concurrent;
using WeightPrint.Comparison;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.Loading;

namespace WeightPrint.Cli.Progress;

/// <summary>
/// Shows what reading Hub models costs: while a command runs, every progress line ends with "fetched 1.2 GB of
/// 28.9 GB" per Hub model (from <see cref="HubOptions.Progress"/>, given to each Hub model as it opens: nothing
/// process-global changes); when the command ends, <see cref="WriteSummary"/> says per model how much was fetched,
/// against the model's size, and the commit read.
/// </summary>
internal sealed class HubTransferDisplay : IProgress<RemoteTransferStatus>
{
    private readonly ProgressReporter _progress;
    private readonly ConcurrentDictionary<string, RemoteTransferStatus> _latest = new(StringComparer.Ordinal);

    private readonly TextWriter? _notes;

    /// <param name="progress">The progress bars.</param>
    /// <param name="notes">Where "retrying (2/8)…" lines go (stderr), or null when quiet.</param>
    public HubTransferDisplay(ProgressReporter progress, TextWriter? notes = null)
    {
        _progress = progress;
        _notes = notes;
        progress.Status = Status;
    }

    /// <summary>The Hub cache's size cap from <c>--cache-max</c>; null keeps the environment's (or the default).</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary>Opens a model path as <see cref="OpenedInput.Open"/> does, with a bar while a Hub model's listing
    /// and headers are fetched.</summary>
    public OpenedInput Open(string path, string? basePath = null)
    {
        if (!HubLoader.IsHubReference(path) && (basePath == null || !HubLoader.IsHubReference(basePath))) return OpenedInput.Open(path, basePath);
        var options = HubLoader.EffectiveOptions() with { Progress = this };
        if (CacheMaxBytes is { } max) options = options with { CacheMaxBytes = max };
        if (_notes is { } notes) options = options with { Http = options.Http with { Retrying = line => { lock (notes) notes.WriteLine(line); } } };
        using var task = _progress.Start("opening " + path, 0);
        return OpenedInput.Open(path, basePath, options);
    }

    public void Report(RemoteTransferStatus value)
    {
        _latest[value.Name] = value;
        _progress.Refresh();
    }

    /// <summary>"fetched 1.2 GB of 28.9 GB" for each Hub model seen so far; null when none.</summary>
    public string? Status()
    {
        if (_latest.IsEmpty) return null;
        var parts = _latest.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s =>
            (_latest.Count > 1 ? s.Name + " " : "") + "fetched " + ProgressReporter.Bytes(s.BytesFetched)
            + (s.TotalBytes > 0 ? " of " + ProgressReporter.Bytes(s.TotalBytes) : ""));
        return string.Join("; ", parts);
    }

    /// <summary>One line per Hub model among <paramref name="inputs"/>: bytes fetched and from the cache against the
    /// model's size, requests and retries, and the commit.</summary>
    public static void WriteSummary(TextWriter err, IEnumerable<OpenedInput> inputs)
    {
        foreach (var input in inputs)
        {
            if (input.Transfer is not { } t || input.Checkpoint is not { } c) continue;
            string commit = c.Metadata.TryGetValue("hub.commit", out var sha) ? sha.ToString()! : "?";
            long total = t.TotalBytes;
            string share = total > 0 ? $" ({100.0 * t.BytesFetched / total:0.0}%)" : "";
            err.WriteLine($"{input.Summary.Path} @ {commit}: fetched {ProgressReporter.Bytes(t.BytesFetched)} of {ProgressReporter.Bytes(total)}{share}"
                + $" in {t.Requests} requests ({t.Retries} retried), {ProgressReporter.Bytes(t.BytesFromCache)} from the local cache");
        }
    }
}
