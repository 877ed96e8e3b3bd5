
namespace WeightPrint.IO.Hub;

/// <summary>
/// A model on the Hugging Face Hub as the user names it: <c>hf:ORG/NAME</c> or <c>hf:ORG/NAME@REVISION</c>
/// (a branch, tag or commit SHA; <c>main</c> when omitted). <c>hf://ORG/NAME</c> and a name without an
/// organisation (<c>hf:gpt2</c>) are accepted too.
/// </summary>
internal sealed record HubReference
{
    public const string Prefix = "hf:";

    public const string DefaultRevision = "main";

    /// <summary>Longest organisation or model name accepted (the Hub's limit).</summary>
    public const int MaxNameLength = 96;

    public const int MaxRevisionLength = 256;

    private HubReference(string text, string repo, string revision, bool revisionGiven)
    {
        Text = text;
        Repo = repo;
        Revision = revision;
        RevisionGiven = revisionGiven;
    }

    /// <summary>What the user wrote.</summary>
    public string Text { get; }

    /// <summary><c>ORG/NAME</c> (or <c>NAME</c>).</summary>
    public string Repo { get; }

    /// <summary>The branch, tag or commit SHA to read.</summary>
    public string Revision { get; }

    /// <summary>False when the revision defaulted to <c>main</c>.</summary>
    public bool RevisionGiven { get; }

    /// <summary>True when the revision is a full 40-hex commit SHA (immutable).</summary>
    public bool IsPinned => IsCommitSha(Revision);

    /// <summary>The repository's folder name in the Hugging Face cache layout: <c>models--ORG--NAME</c>.</summary>
    public string CacheFolderName => "models--" + Repo.Replace("/", "--", StringComparison.Ordinal);

    public static bool IsHubReference(string text) => text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>True for text shaped like a Hub repository id without the prefix ("karpathy/tinyllamas"): two
    /// names of letters, digits, '-', '_' or '.', joined by one '/', not starting with '.' (a relative path).</summary>
    public static bool LooksLikeBareRepoId(string text)
    {
        var parts = text.Split('/');
        return parts.Length == 2 && parts.All(p => p.Length > 0 && p[0] != '.' && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }

    /// <summary>Parses <c>hf:ORG/NAME[@REVISION]</c>; throws <see cref="InvalidModelFileException"/> naming what is wrong.</summary>
    public static HubReference Parse(string text)
    {
        if (!IsHubReference(text)) throw Bad(text, "does not start with hf:");
        string body = text[Prefix.Length..];
        if (body.StartsWith("//", StringComparison.Ordinal)) body = body[2..];
        string revision = DefaultRevision;
        bool given = false;
        int at = body.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            revision = body[(at + 1)..];
            body = body[..at];
            given = true;
            string? problem = RevisionProblem(revision);
            if (problem != null) throw Bad(text, problem);
            if (IsCommitSha(revision)) revision = revision.ToLowerInvariant();
        }

        var parts = body.Split('/');
        if (parts.Length is < 1 or > 2) throw Bad(text, "expected hf:ORG/NAME or hf:ORG/NAME@REVISION");
        foreach (var p in parts)
        {
            string? problem = NameProblem(p);
            if (problem != null) throw Bad(text, problem);
        }

        return new HubReference(text, body, revision, given);
    }

    /// <summary>A full commit SHA: 40 hexadecimal digits.</summary>
    public static bool IsCommitSha(string s) => s.Length == 40 && s.All(char.IsAsciiHexDigit);

    private static string? NameProblem(string name)
    {
        if (name.Length == 0) return "expected hf:ORG/NAME or hf:ORG/NAME@REVISION (a part is empty)";
        if (name.Length > MaxNameLength) return $"name '{name[..20]}…' is longer than {MaxNameLength} characters";
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
                return $"'{name}' may hold only letters, digits, '-', '_' and '.'";
        }

        if (name.Contains("--", StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal)) return $"'{name}' may not contain '--' or '..'";
        if (name[0] is '-' or '.' || name[^1] is '-' or '.') return $"'{name}' may not start or end with '-' or '.'";
        return null;
    }

    /// <summary>Checks a branch or tag name: printable, no spaces, no empty, '.' or '..' path segments.</summary>
    internal static string? RevisionProblem(string revision)
    {
        if (revision.Length == 0) return "the revision after '@' is empty";
        if (revision.Length > MaxRevisionLength) return $"the revision is longer than {MaxRevisionLength} characters";
        foreach (char c in revision)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or '/' or '+'))
                return $"the revision '{revision}' may hold only letters, digits, '-', '_', '.', '+' and '/'";
        }

        if (revision.Split('/').Any(s => s is "" or "." or "..")) return $"the revision '{revision}' has an empty, '.' or '..' part";
        return null;
    }

    private static InvalidModelFileException Bad(string text, string problem) =>
        new(text, "not a Hub model reference: " + problem);

    public override string ToString() => Prefix + Repo + (RevisionGiven ? "@" + Revision : "");
}
