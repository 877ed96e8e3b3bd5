using WeightPrint.Formats;

namespace WeightPrint.IO;

/// <summary>A window [offset, offset+length) of another source: a stored zip member, for example.</summary>
public sealed class ByteSourceSlice : IByteSource
{
    private readonly IByteSource _inner;
    private readonly long _offset;

    public ByteSourceSlice(IByteSource inner, long offset, long length, string name)
    {
        if (offset < 0 || length < 0 || offset > inner.Length || length > inner.Length - offset)
            throw new InvalidModelFileException(inner.Name, $"{name}: range of {length} bytes at {offset} lies outside the file ({inner.Length} bytes)");
        _inner = inner;
        _offset = offset;
        Length = length;
        Name = name;
    }

    public string Name { get; }

    public long Length { get; }

    public void Read(long offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        _inner.Read(_offset + offset, destination);
    }

    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        Check(offset, length);
        return _inner.TryGetSpan(_offset + offset, length, out span);
    }

    private void Check(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new InvalidModelFileException(Name, $"read of {length} bytes at offset {offset} is past the end ({Length} bytes)");
    }

    /// <summary>The slice does not own its parent.</summary>
    public void Dispose()
    {
    }
}
