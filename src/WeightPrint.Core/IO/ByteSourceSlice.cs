
namespace WeightPrint.IO;

/// <summary>A window [offset, offset+length) of another source: a stored zip member, for example.</summary>
public sealed class ByteSourceSlice : IByteSource, IPageAdvice
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

    /// <summary>Forwards the hint to the parent when it takes hints (offsets shifted into the parent).</summary>
    public void WillNeed(long offset, long length)
    {
        if (_inner is IPageAdvice advice && offset >= 0 && offset < Length) advice.WillNeed(_offset + offset, Math.Min(length, Length - offset));
    }

    /// <summary>Forwards the hint to the parent when it takes hints (offsets shifted into the parent).</summary>
    public void DontNeed(long offset, long length)
    {
        if (_inner is IPageAdvice advice && offset >= 0 && offset < Length) advice.DontNeed(_offset + offset, Math.Min(length, Length - offset));
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
