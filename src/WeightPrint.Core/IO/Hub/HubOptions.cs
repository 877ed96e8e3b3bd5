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

    /// <summary>Blocks, readahead, concurrency, retries and timeouts.</summary>
    public HttpReadOptions Http { get; init; } = new();

    /// <summary>Receives "fetched X of Y" snapshots while a model is read.</summary>
    public IProgress<RemoteTransferStatus>? Progress { get; init; }

    /// <summary>The variables <see cref="FromEnvironment"/> reads, for help text.</summary>
    public static IReadOnlyList<string> EnvironmentVariables { get; } =
        ["HF_ENDPOINT", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "WEIGHTPRINT_CACHE"];

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
