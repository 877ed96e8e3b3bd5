namespace WeightPrint.IO;

/// <summary>
/// The one exception for a file that cannot be read as a model: wrong magic, truncated data, a header that
/// contradicts itself, an unsupported dtype, a refused pickle global. The message is one line and names the file.
/// </summary>
public sealed class InvalidModelFileException : Exception
{
    public InvalidModelFileException()
    {
        FilePath = "";
        Problem = "";
    }

    public InvalidModelFileException(string message) : base(message)
    {
        FilePath = "";
        Problem = message;
    }

    public InvalidModelFileException(string message, Exception inner) : base(message, inner)
    {
        FilePath = "";
        Problem = message;
    }

    public InvalidModelFileException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or URL) that is invalid.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
