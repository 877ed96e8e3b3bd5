namespace WeightPrint.IO;

/// <summary>
/// A seekable <see cref="Stream"/> as a byte source: each read seeks and reads under a lock, so the stream is never
/// loaded whole. The caller keeps the stream open while the source is in use; disposing the source does not close it.
/// </summary>
internal sealed class StreamByteSource : IByteSource
{
    private readonly Stream _stream;
    private readonly Lock _lock = new();

    public StreamByteSource(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        _stream = stream;
        Name = name;
        Length = stream.Length;
    }

    public string Name { get; }

    public long Length { get; }

    public void Read(long offset, Span<byte> destination)
    {
        ByteRange.Check(Name, Length, offset, destination.Length);
        lock (_lock)
        {
            _stream.Position = offset;
            try
            {
                _stream.ReadExactly(destination);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidModelFileException(Name, $"the stream ended before byte {offset + destination.Length} (it was {Length} bytes long when opened)");
            }
        }
    }

    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        return false;
    }

    public void Dispose()
    {
    }
}

/// <summary>A non-seekable stream copied to a temporary file, memory-mapped, and deleted when disposed.</summary>
internal static class TemporaryFileSource
{
    /// <summary>Copies <paramref name="stream"/> to a new temporary file and opens it.</summary>
    public static async Task<IByteSource> CopyAsync(Stream stream, string name, CancellationToken cancellationToken)
    {
        string path = Path.Combine(Path.GetTempPath(), "weightprint-" + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await stream.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
            }

            return new DeletingSource(new MemoryMappedFileSource(path), path, name);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    private sealed class DeletingSource(IByteSource inner, string path, string name) : IByteSource
    {
        public string Name { get; } = name;

        public long Length => inner.Length;

        public void Read(long offset, Span<byte> destination) => inner.Read(offset, destination);

        public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span) => inner.TryGetSpan(offset, length, out span);

        public void Dispose()
        {
            inner.Dispose();
            File.Delete(path);
        }
    }
}
