using System.Buffers.Binary;
using System.Text;

namespace WeightPrint.IO;

/// <summary>
/// Sequential little-endian reader over a byte source for parsing headers. Every read is bounds-checked
/// and failures raise <see cref="InvalidModelFileException"/> naming the file.
/// </summary>
internal sealed class ByteCursor(IByteSource source, long position = 0)
{
    public IByteSource Source { get; } = source;

    public long Position { get; set; } = position;

    public long Remaining => Source.Length - Position;

    public byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Fill(b);
        return b[0];
    }

    public ushort ReadUInt16() { Span<byte> b = stackalloc byte[2]; Fill(b); return BinaryPrimitives.ReadUInt16LittleEndian(b); }

    public short ReadInt16() { Span<byte> b = stackalloc byte[2]; Fill(b); return BinaryPrimitives.ReadInt16LittleEndian(b); }

    public uint ReadUInt32() { Span<byte> b = stackalloc byte[4]; Fill(b); return BinaryPrimitives.ReadUInt32LittleEndian(b); }

    public int ReadInt32() { Span<byte> b = stackalloc byte[4]; Fill(b); return BinaryPrimitives.ReadInt32LittleEndian(b); }

    public ulong ReadUInt64() { Span<byte> b = stackalloc byte[8]; Fill(b); return BinaryPrimitives.ReadUInt64LittleEndian(b); }

    public long ReadInt64() { Span<byte> b = stackalloc byte[8]; Fill(b); return BinaryPrimitives.ReadInt64LittleEndian(b); }

    public float ReadSingle() => BitConverter.Int32BitsToSingle(ReadInt32());

    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>Reads <paramref name="count"/> bytes, refusing counts above <paramref name="limit"/>.</summary>
    public byte[] ReadBytes(long count, long limit, string what)
    {
        if (count < 0 || count > limit)
            throw new InvalidModelFileException(Source.Name, $"{what} length {count} exceeds the limit of {limit} bytes");
        if (count > Remaining)
            throw new InvalidModelFileException(Source.Name, $"{what} of {count} bytes at offset {Position} runs past the end of the file");
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>Reads a UTF-8 string of <paramref name="count"/> bytes, validating the encoding.</summary>
    public string ReadUtf8(long count, long limit, string what)
    {
        var bytes = ReadBytes(count, limit, what);
        try
        {
            return Utf8Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidModelFileException(Source.Name, $"{what} is not valid UTF-8");
        }
    }

    public void Skip(long count)
    {
        if (count < 0 || count > Remaining)
            throw new InvalidModelFileException(Source.Name, $"skip of {count} bytes at offset {Position} runs past the end of the file");
        Position += count;
    }

    private void Fill(Span<byte> destination)
    {
        if (destination.Length > Remaining)
            throw new InvalidModelFileException(Source.Name, $"unexpected end of file at offset {Position} (needed {destination.Length} more bytes)");
        Source.Read(Position, destination);
        Position += destination.Length;
    }

    /// <summary>UTF-8 that throws on invalid bytes instead of substituting.</summary>
    public static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
