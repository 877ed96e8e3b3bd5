using WeightPrint.IO.Http;

namespace WeightPrint.IO.Hub;

/// <summary>
/// Where and how Hub models are read. <see cref="FromEnvironment"/> follows the Hugging Face conventions:
/// <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c> (else the token file written by <c>huggingface-cli login</c>),
/// <c>HF_HUB_OFFLINE</c>, <c>HF_HOME</c> and <c>HF_HUB_CACHE</c>; the WeightPrint range cache lives in
/// <c>WEIGHTPRINT_CACHE</c> or <c>~/.cache/weightprint</c> (under <c>hub/</c>).
/// </summary>
public sealed record HubOptions
{
    /// <summary>The Hub used when HF_ENDPOINT is not set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Largest token file read.</summary>
    public const int MaxTokenFileBytes = 4096;

    /// <summary>The Hub's base address (a mirror may add a path).</summary>
    public Uri Endpoint { get; init; } = new(DefaultEndpoint);

    /// <summary>Bearer token, sent only to <see cref="Endpoint"/>'s host, never after a redirect elsewhere.</summary>
    public string? Token { get; init; }

    /// <summary>No network: read only the Hugging Face cache and the WeightPrint cache.</summary>
    public bool Offline { get; init; }

    /// <summary>The standard Hugging Face hub cache (<c>models--ORG--NAME/snapshots/SHA/…</c>), read only; null to ignore it.</summary>
    public string? HuggingFaceCache { get; init; }

    /// <summary>Where fetched byte ranges are kept between runs; null for no disk cache.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Size cap of <see cref="CacheDirectory"/> (<c>WEIGHTPRINT_CACHE_MAX</c>, e.g. <c>20G</c>, <c>500M</c>);
    /// least recently used blocks are evicted beyond it.</summary>
    public long CacheMaxBytes { get; init; } = BlockCacheBudget.DefaultMaxBytes;

    /// <summary>Parses a size: bytes, or a number with K, M, G or T (powers of 1024, optional trailing B).</summary>
    public static long ParseSize(string what, string text)
    {
        string t = text.Trim().ToUpperInvariant();
        if (t.EndsWith('B')) t = t[..^1];
        int shift = t.Length == 0 ? 0 : t[^1] switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) t = t[..^1];
        if (!double.TryParse(t, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double v)
            || v <= 0 || v * Math.Pow(2, shift) > long.MaxValue / 2)
            throw new InvalidModelFileException(what, $"{ErrorText.Quote(text)} is not a size (bytes, or a number with K, M, G or T)");
        return (long)(v * Math.Pow(2, shift));
    }

    /// <summary>Blocks, readahead, concurrency, retries and timeouts.</summary>
    internal HttpReadOptions Http { get; init; } = new();

    /// <summary>Receives "fetched X of Y" snapshots while a model is read.</summary>
    internal IProgress<RemoteTransferStatus>? Progress { get; init; }

    /// <summary>The variables <see cref="FromEnvironment"/> reads, for help text.</summary>
    public static IReadOnlyList<string> EnvironmentVariables { get; } =
        ["HF_ENDPOINT", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "WEIGHTPRINT_CACHE", "WEIGHTPRINT_CACHE_MAX"];

    /// <summary>Options from environment variables (<paramref name="getVariable"/> defaults to the process environment).</summary>
    public static HubOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => getVariable(name) is { Length: > 0 } v ? v.Trim() : null;

        string? home = Get("HOME") ?? NullIfEmpty(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
        string? xdgCache = Get("XDG_CACHE_HOME") ?? (home != null ? Path.Combine(home, ".cache") : null);
        string? hfHome = Get("HF_HOME") ?? (xdgCache != null ? Path.Combine(xdgCache, "huggingface") : null);
        string? hubCache = Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? (hfHome != null ? Path.Combine(hfHome, "hub") : null);
        string? wpCache = Get("WEIGHTPRINT_CACHE") ?? (xdgCache != null ? Path.Combine(xdgCache, "weightprint") : null);

        string endpointText = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/');
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            throw new InvalidModelFileException("HF_ENDPOINT", $"'{endpointText}' is not an http(s) address");

        string? token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN");
        if (token == null)
        {
            string? tokenPath = Get("HF_TOKEN_PATH") ?? (hfHome != null ? Path.Combine(hfHome, "token") : null);
            token = ReadTokenFile(tokenPath);
        }

        return new HubOptions
        {
            Endpoint = endpoint,
            Token = token,
            Offline = IsTrue(Get("HF_HUB_OFFLINE")),
            HuggingFaceCache = hubCache,
            CacheDirectory = wpCache != null ? Path.Combine(wpCache, "hub") : null,
            CacheMaxBytes = Get("WEIGHTPRINT_CACHE_MAX") is { } max ? ParseSize("WEIGHTPRINT_CACHE_MAX", max) : BlockCacheBudget.DefaultMaxBytes,
        };
    }

    /// <summary>The Hugging Face convention for boolean variables: 1, true, yes, on.</summary>
    public static bool IsTrue(string? value) =>
        value != null && (value.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON" or "Y");

    private static string? ReadTokenFile(string? path)
    {
        if (path == null) return null;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxTokenFileBytes) return null;
            string text = File.ReadAllText(path).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
