using System.Globalization;

namespace WeightPrint.IO.Http;

/// <summary>
/// A parsed <c>Content-Range</c> header (RFC 9110 §14.4): <c>bytes FIRST-LAST/COMPLETE</c> where LAST is inclusive
/// (a request for <c>bytes=a-b</c> is answered with b − a + 1 bytes), COMPLETE may be <c>*</c> (unknown), and an
/// unsatisfied range is <c>bytes */COMPLETE</c>.
/// </summary>
internal readonly record struct ContentRange(long First, long Last, long? Complete, bool Unsatisfied)
{
    /// <summary>Bytes in the range (Last − First + 1), 0 when unsatisfied.</summary>
    public long Length => Unsatisfied ? 0 : Last - First + 1;

    /// <summary>Parses the header value; false for anything malformed or contradictory.</summary>
    public static bool TryParse(string? value, out ContentRange range)
    {
        range = default;
        if (string.IsNullOrEmpty(value)) return false;
        var s = value.AsSpan().Trim();
        if (!s.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase)) return false;
        s = s[6..].TrimStart();
        int slash = s.IndexOf('/');
        if (slash < 0) return false;
        var left = s[..slash];
        var right = s[(slash + 1)..];
        long? complete = null;
        if (right.SequenceEqual("*")) complete = null;
        else if (TryNumber(right, out long c)) complete = c;
        else return false;

        if (left.SequenceEqual("*"))
        {
            if (complete == null) return false;
            range = new ContentRange(0, -1, complete, Unsatisfied: true);
            return true;
        }

        int dash = left.IndexOf('-');
        if (dash <= 0) return false;
        if (!TryNumber(left[..dash], out long first) || !TryNumber(left[(dash + 1)..], out long last)) return false;
        if (last < first) return false;
        if (complete != null && last >= complete) return false;
        range = new ContentRange(first, last, complete, Unsatisfied: false);
        return true;
    }

    private static bool TryNumber(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 19) return false;
        foreach (char ch in s)
        {
            if (ch < '0' || ch > '9') return false;
        }

        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public override string ToString() => Unsatisfied
        ? $"bytes */{Complete}"
        : $"bytes {First}-{Last}/{(Complete?.ToString(CultureInfo.InvariantCulture) ?? "*")}";
}
