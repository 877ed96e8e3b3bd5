namespace WeightPrint.IO;

/// <summary>
/// The one exception for a file that cannot be read as a model: wrong magic, truncated data, a header that
/// contradicts itself, an unsupported dtype, a refused pickle global. The message is one bounded line (see
/// <see cref="ErrorText"/>) and names the file.
/// </summary>
public sealed class InvalidModelFileException : Exception
{
    /// <summary>An invalid-input error with no message.</summary>
    public InvalidModelFileException()
    {
        FilePath = "";
        Problem = "";
    }

    /// <summary>An invalid-input error with a one-line message.</summary>
    public InvalidModelFileException(string message) : base(ErrorText.Bound(message))
    {
        FilePath = "";
        Problem = ErrorText.Bound(message);
    }

    /// <summary>An invalid-input error with a one-line message and its cause.</summary>
    public InvalidModelFileException(string message, Exception inner) : base(ErrorText.Bound(message), inner)
    {
        FilePath = "";
        Problem = ErrorText.Bound(message);
    }

    /// <summary>The message is <c>path: problem</c>, control characters escaped and cut to
    /// <see cref="ErrorText.MaxLineChars"/>; a long path is cut first so the problem stays readable.</summary>
    public InvalidModelFileException(string filePath, string problem, Exception? inner = null)
        : base(ErrorText.Bound($"{ErrorText.Bound(filePath, ErrorText.MaxLineChars / 3)}: {problem}"), inner)
    {
        FilePath = filePath;
        Problem = ErrorText.Bound(problem);
    }

    /// <summary>The file (or URL) that is invalid.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
