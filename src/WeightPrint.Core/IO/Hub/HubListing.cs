using System.Text;
using System.Text.Json;
using WeightPrint.IO.Http;

namespace WeightPrint.IO.Hub;

/// <summary>One file of a repository at a commit: its path, size and, for a file stored with Git LFS, the SHA-256 of its
/// content as the listing gives it (null when the listing did not say).</summary>
internal sealed record HubFile(string Name, long? Size, string? Sha256 = null);

/// <summary>
/// A repository's file list at one commit, from <c>GET {endpoint}/api/models/{ORG}/{NAME}/revision/{REVISION}</c>
/// (<c>sha</c>, <c>siblings[].rfilename</c>, <c>siblings[].size</c> and <c>siblings[].lfs.sha256</c> with <c>?blobs=True</c>;
/// <c>lfs.oid</c>, the tree API's name for the same hash, is accepted too).
/// </summary>
internal sealed record HubListing(string Sha, IReadOnlyList<HubFile> Files)
{
    /// <summary>Largest API answer accepted.</summary>
    public const long MaxListingBytes = 64L << 20;

    /// <summary>Most files accepted in one repository listing.</summary>
    public const int MaxFiles = 1_000_000;

    /// <summary>Longest file path accepted.</summary>
    public const int MaxPathLength = 1024;

    /// <summary>The revision API address for a reference.</summary>
    public static Uri ApiUrl(Uri endpoint, HubReference reference) =>
        new($"{endpoint.AbsoluteUri.TrimEnd('/')}/api/models/{reference.Repo}/revision/{Uri.EscapeDataString(reference.Revision)}?blobs=True");

    /// <summary>The download address of a file at a commit.</summary>
    public static Uri ResolveUrl(Uri endpoint, string repo, string sha, string file) =>
        new($"{endpoint.AbsoluteUri.TrimEnd('/')}/{repo}/resolve/{sha}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>Asks the Hub for the commit and file list of a reference.</summary>
    public static HubListing Fetch(HttpFetcher fetcher, Uri endpoint, HubReference reference)
    {
        var file = new RemoteFile(ApiUrl(endpoint, reference), reference.ToString())
        {
            NotFoundProblem = "no such repository or revision (404)",
        };
        var listing = Parse(reference.ToString(), fetcher.GetBytes(file, MaxListingBytes));
        if (reference.IsPinned && listing.Sha != reference.Revision)
            throw new InvalidModelFileException(reference.ToString(), $"the Hub answered commit {listing.Sha} for requested commit {reference.Revision}");
        return listing;
    }

    /// <summary>Parses an API answer (or a cached copy); every problem is an <see cref="InvalidModelFileException"/>.</summary>
    public static HubListing Parse(string source, byte[] json)
    {
        var doc = UntrustedJson.Parse(source, "the Hub's repository listing", json, maxDepth: 32);

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sha", out var shaEl) || shaEl.ValueKind != JsonValueKind.String
                || !HubReference.IsCommitSha(shaEl.GetString()!))
                throw new InvalidModelFileException(source, "the Hub's repository listing has no commit sha");
            string sha = shaEl.GetString()!.ToLowerInvariant();
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new InvalidModelFileException(source, "the Hub's repository listing has no siblings (file list)");
            if (siblings.GetArrayLength() > MaxFiles) throw new InvalidModelFileException(source, $"the repository lists more than {MaxFiles} files");
            var files = new List<HubFile>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in siblings.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Object || !s.TryGetProperty("rfilename", out var nameEl) || nameEl.ValueKind != JsonValueKind.String)
                    throw new InvalidModelFileException(source, "a sibling in the Hub's repository listing has no rfilename");
                string name = nameEl.GetString()!;
                if (PathProblem(name) is { } problem) throw new InvalidModelFileException(source, $"the repository listing holds an unsafe file name '{Shorten(name)}': {problem}");
                if (!seen.Add(name)) throw new InvalidModelFileException(source, $"the repository listing names {name} twice");
                long? size = null;
                if (s.TryGetProperty("size", out var sizeEl) && sizeEl.ValueKind != JsonValueKind.Null)
                {
                    if (sizeEl.ValueKind != JsonValueKind.Number || !sizeEl.TryGetInt64(out long v) || v < 0)
                        throw new InvalidModelFileException(source, $"the repository listing gives {name} an invalid size {sizeEl}");
                    size = v;
                }

                files.Add(new HubFile(name, size, LfsSha256(source, name, s, size)));
            }

            return new HubListing(sha, files);
        }
    }

    /// <summary>The SHA-256 of an LFS file's content from its sibling's <c>lfs</c> object (null when there is none); a
    /// hash that is not 64 hex digits, or an LFS size that contradicts the listed size, refuses the listing.</summary>
    private static string? LfsSha256(string source, string name, JsonElement sibling, long? size)
    {
        if (!sibling.TryGetProperty("lfs", out var lfs) || lfs.ValueKind == JsonValueKind.Null) return null;
        if (lfs.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(source, $"the repository listing gives {name} an lfs field that is not an object");
        if (lfs.TryGetProperty("size", out var lfsSize) && lfsSize.ValueKind != JsonValueKind.Null
            && (lfsSize.ValueKind != JsonValueKind.Number || !lfsSize.TryGetInt64(out long ls) || ls < 0 || (size is long listed && ls != listed)))
            throw new InvalidModelFileException(source, $"the repository listing gives {name} an lfs.size {Shorten(lfsSize.GetRawText())} that is not its size {size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}");
        JsonElement hash = default;
        bool found = (lfs.TryGetProperty("sha256", out hash) || lfs.TryGetProperty("oid", out hash)) && hash.ValueKind != JsonValueKind.Null;
        if (!found) return null;
        string? text = hash.ValueKind == JsonValueKind.String ? hash.GetString() : null;
        if (text is not { Length: 64 } || !text.All(char.IsAsciiHexDigit))
            throw new InvalidModelFileException(source, $"the repository listing gives {name} an lfs.sha256 '{Shorten(text ?? hash.GetRawText())}' that is not 64 hex digits");
        return text.ToLowerInvariant();
    }

    /// <summary>The listing as JSON in the API's shape (for the cache).</summary>
    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("sha", Sha);
            w.WriteStartArray("siblings");
            foreach (var f in Files)
            {
                w.WriteStartObject();
                w.WriteString("rfilename", f.Name);
                if (f.Size is long size) w.WriteNumber("size", size);
                if (f.Sha256 is { } sha256)
                {
                    w.WriteStartObject("lfs");
                    w.WriteString("sha256", sha256);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>Why a repository path is unsafe to use, or null: relative, '/'-separated, no empty, '.' or '..' parts.</summary>
    public static string? PathProblem(string name)
    {
        if (name.Length == 0 || name.Length > MaxPathLength) return $"length must be 1..{MaxPathLength}";
        if (name.Contains('\\') || name.Contains('\0') || name.Any(char.IsControl)) return "backslash or control character";
        if (name.Split('/').Any(p => p is "" or "." or "..")) return "empty, '.' or '..' path part";
        return null;
    }

    private static string Shorten(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Take(80)) sb.Append(char.IsControl(c) ? '?' : c);
        return sb.ToString();
    }
}
