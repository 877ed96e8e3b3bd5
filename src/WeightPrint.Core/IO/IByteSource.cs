namespace WeightPrint.IO;

/// <summary>
/// Random-access bytes of one file: a memory-mapped local file, or (later) a remote file read with
/// HTTP ranges. Format readers only ever see this interface.
/// </summary>
internal interface IByteSource : IDisposable
{
    /// <summary>A human-readable name (the path or URL) used in error messages.</summary>
    string Name { get; }

    /// <summary>Total length in bytes.</summary>
    long Length { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>.
    /// Throws <see cref="IO.InvalidModelFileException"/> when the range lies outside the file.
    /// </summary>
    void Read(long offset, Span<byte> destination);

    /// <summary>
    /// Returns the bytes in place when the source can expose them without a copy (a memory map);
    /// false when the caller must use <see cref="Read"/>.
    /// </summary>
    bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span);

    /// <summary>
    /// Tells the source that exactly the bytes [<paramref name="offset"/>, +<paramref name="length"/>) are about to be
    /// read, in order (a block of sampled rows): a remote source fetches them and reads nothing ahead while the reads
    /// stay inside them. A hint only; the default ignores it.
    /// </summary>
    void PlanRead(long offset, long length)
    {
    }
}
