using System.Text;

namespace WeightPrint.IO;

/// <summary>
/// Makes text that came from an input safe for one error line: control characters (C0, DEL, C1, line and
/// paragraph separators) and unpaired surrogates are escaped as <c>\n</c>, <c>\t</c> or <c>\uXXXX</c>, and the
/// result is cut to a bounded length with "…" at the end. Used where <see cref="InvalidModelFileException"/>
/// builds its message and by the CLI's error printer, so no input can flood or drive the terminal.
/// </summary>
internal static class ErrorText
{
    /// <summary>Longest error line, in characters (escapes included).</summary>
    public const int MaxLineChars = 500;

    /// <summary>Longest quoted input value inside a message (<see cref="Quote"/>).</summary>
    public const int MaxQuotedChars = 80;

    /// <summary>Escapes control characters and cuts to <paramref name="maxChars"/> (the last being "…" when cut).</summary>
    public static string Bound(string? text, int maxChars = MaxLineChars)
    {
        text ??= "";
        var sb = new StringBuilder(Math.Min(text.Length, maxChars) + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? piece = null;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                piece = text.Substring(i, 2);
                i++;
            }
            else if (c == '\n') piece = "\\n";
            else if (c == '\r') piece = "\\r";
            else if (c == '\t') piece = "\\t";
            else if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029') piece = $"\\u{(int)c:x4}";

            int length = piece?.Length ?? 1;
            if (sb.Length + length > maxChars - 1 && (i + 1 < text.Length || sb.Length + length > maxChars))
            {
                sb.Append('…');
                return sb.ToString();
            }

            if (piece != null) sb.Append(piece);
            else sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>An input value quoted for a message: <c>"value"</c>, escaped and cut to <see cref="MaxQuotedChars"/>.</summary>
    public static string Quote(string? value) => "\"" + Bound(value, MaxQuotedChars) + "\"";
}
