namespace WeightPrint.IO;

/// <summary>The one bounds check of every byte source: a read must lie inside the file.</summary>
internal static class ByteRange
{
    /// <summary>Throws <see cref="InvalidModelFileException"/> naming <paramref name="name"/> when
    /// [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) is not inside a file of
    /// <paramref name="fileLength"/> bytes (a null length is unknown and accepts any non-negative range).</summary>
    public static void Check(string name, long? fileLength, long offset, long length)
    {
        if (offset < 0 || length < 0 || (fileLength is { } total && (offset > total || length > total - offset)))
            throw new InvalidModelFileException(name, $"read of {length} bytes at offset {offset} is past the end of the file ({(fileLength is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown")} bytes): the file is truncated or its header is wrong");
    }
}
