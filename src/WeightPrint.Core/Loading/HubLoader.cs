using System.Runtime.CompilerServices;
using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO;

namespace WeightPrint.Loading;

using WeightPrint.IO.Hub;

/// <summary>
/// Opens <c>hf:ORG/NAME[@REVISION]</c> without downloading the model: the revision is resolved to a commit
/// SHA through the Hub API, then the loader reads headers and, on demand, tensor data with ranged requests.
/// Order of preference: a snapshot already in the standard Hugging Face cache (no network at all), then the
/// WeightPrint range cache, then the network. The checkpoint's metadata carries <c>hub.repo</c>,
/// <c>hub.revision</c>, <c>hub.commit</c>, <c>hub.source</c> and, per LFS file, <c>hub.sha256.PATH</c> (the listing's hash
/// of its content); <see cref="TransferOf"/> gives the byte counter.
/// </summary>
internal static class HubLoader
{
    private static readonly ConditionalWeakTable<Checkpoint, RemoteTransfer> Transfers = [];

    /// <summary>Metadata key prefix of an LFS file's SHA-256 (followed by its repository path).</summary>
    public const string Sha256Key = "hub.sha256.";

    /// <summary>Options used by <see cref="CheckpointLoader.Open"/>; null reads the environment at each open.</summary>
    public static HubOptions? DefaultOptions { get; set; }

    /// <summary>The options an open without explicit options uses: <see cref="DefaultOptions"/>, else the environment.</summary>
    public static HubOptions EffectiveOptions() => DefaultOptions ?? HubOptions.FromEnvironment();

    public static bool IsHubReference(string path) => HubReference.IsHubReference(path);

    /// <summary>The transfer counter of a checkpoint opened from the Hub (null for local checkpoints).</summary>
    public static RemoteTransfer? TransferOf(Checkpoint checkpoint) => Transfers.TryGetValue(checkpoint, out var t) ? t : null;

    /// <summary>Opens a Hub model. Every failure is an <see cref="InvalidModelFileException"/> with a one-line reason.</summary>
    public static Checkpoint Open(string text, HubOptions? options = null)
    {
        options ??= EffectiveOptions();
        var reference = HubReference.Parse(text);
        try
        {
            options.Http.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelFileException(text, "invalid Hub read options: " + e.Message);
        }

        if (options.Token != null && options.Token.Any(c => c <= ' ' || c > '~'))
            throw new InvalidModelFileException("HF_TOKEN", "the token contains spaces or characters that cannot be sent in a header");

        var transfer = new RemoteTransfer(reference.Repo + "@" + reference.Revision, options.Progress);
        var hf = options.HuggingFaceCache != null ? new HuggingFaceCacheRepo(options.HuggingFaceCache, reference) : null;

        // 1. A snapshot in the standard Hugging Face cache: no network at all.
        if (hf?.ResolveCommit(reference.Revision) is { } cachedSha)
        {
            var local = hf.ListSnapshot(cachedSha);
            if (local.Count > 0 && (options.Offline || HuggingFaceCacheRepo.HasWeights(local.Keys)))
            {
                var folder = new HubModelFolder(reference, cachedSha, options.Endpoint, [], local, null, null, options.Http, transfer, OfflineReason(options));
                try
                {
                    return Finish(CheckpointLoader.OpenFolder(folder), folder, null, transfer, "hf-cache");
                }
                catch (InvalidModelFileException) when (!options.Offline)
                {
                    // A partial snapshot (a shard missing): read what is missing from the Hub below.
                }
            }
        }

        var cache = options.CacheDirectory != null ? new HubRangeCache(options.CacheDirectory, reference) { MaxBytes = options.CacheMaxBytes } : null;
        HubListing listing;
        HttpFetcher? fetcher = null;
        string source;
        if (options.Offline)
        {
            string? sha = reference.IsPinned ? reference.Revision : cache?.ReadRef(reference.Revision);
            listing = (sha != null ? cache?.ReadListing(sha) : null)
                ?? throw new InvalidModelFileException(text, $"{OfflineReason(options)} and this model is not cached: no snapshot in the Hugging Face cache ({hf?.RepoFolder ?? "none configured"}) and no listing in the WeightPrint cache ({cache?.RepoFolder ?? "none configured"}); run once online first");
            source = "cache";
        }
        else
        {
            fetcher = new HttpFetcher(options.Http, transfer, options.Endpoint, options.Token);
            try
            {
                var cached = reference.IsPinned ? cache?.ReadListing(reference.Revision) : null;
                listing = cached ?? HubListing.Fetch(fetcher, options.Endpoint, reference);
                if (cached == null) cache?.WriteListing(listing);
                cache?.WriteRef(reference.Revision, listing.Sha);
            }
            catch
            {
                fetcher.Dispose();
                throw;
            }

            source = "remote";
        }

        var snapshot = hf?.ListSnapshot(listing.Sha) ?? [];
        var hubFolder = new HubModelFolder(reference, listing.Sha, options.Endpoint, listing.Files, snapshot, fetcher, cache, options.Http, transfer, OfflineReason(options));
        if (!hubFolder.HasRemoteFiles) source = "hf-cache";
        try
        {
            return Finish(CheckpointLoader.OpenFolder(hubFolder), hubFolder, fetcher, transfer, source);
        }
        catch
        {
            fetcher?.Dispose();
            throw;
        }
    }

    private static string OfflineReason(HubOptions options) => options.Offline ? "offline (HF_HUB_OFFLINE=1)" : "not available";

    /// <summary>Re-wraps the folder's checkpoint with the hub metadata; the result owns the sources and the fetcher.</summary>
    private static Checkpoint Finish(Checkpoint inner, HubModelFolder folder, HttpFetcher? fetcher, RemoteTransfer transfer, string source)
    {
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in inner.Metadata) metadata[k] = v;
        metadata["hub.repo"] = folder.Reference.Repo;
        metadata["hub.revision"] = folder.Reference.Revision;
        metadata["hub.commit"] = folder.Commit;
        metadata["hub.source"] = source;
        foreach (var (name, sha256) in folder.Sha256) metadata[Sha256Key + name] = sha256;
        Checkpoint result;
        try
        {
            result = new Checkpoint(folder.Location, inner.Format, inner.Tensors, metadata) { Config = inner.Config, Vocabulary = inner.Vocabulary };
        }
        catch
        {
            inner.Dispose();
            throw;
        }

        foreach (var f in inner.Files) result.Own(f);
        foreach (var group in result.Tensors.GroupBy(t => t.Source))
        {
            if (group.Key is HttpRangeByteSource remote)
                remote.SetTensorExtents(group.Where(t => t.IsContiguous).Select(t => (t.DataOffset, t.DataOffset + t.ByteLength)));
        }

        result.Own(inner); // disposing twice is harmless for byte sources; this also releases anything else it owns
        if (fetcher != null) result.Own(fetcher);
        transfer.TotalBytes = result.TotalBytes;
        transfer.Report();
        Transfers.AddOrUpdate(result, transfer);
        return result;
    }
}
