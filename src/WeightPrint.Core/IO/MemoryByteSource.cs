
namespace WeightPrint.IO;

/// <summary>Bytes held in memory: for tests, for small embedded files and for decoded headers.</summary>
internal sealed class MemoryByteSource(string name, ReadOnlyMemory<byte> bytes) : IByteSource
{
    public string Name { get; } = name;

    public long Length => bytes.Length;

    public void Read(long offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        bytes.Span.Slice((int)offset, destination.Length).CopyTo(destination);
    }

    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        Check(offset, length);
        span = bytes.Span.Slice((int)offset, length);
        return true;
    }

    private void Check(long offset, long length)
    {
        ByteRange.Check(Name, Length, offset, length);
    }

    public void Dispose()
    {
    }
}
