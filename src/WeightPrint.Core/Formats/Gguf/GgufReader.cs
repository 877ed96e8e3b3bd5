using WeightPrint.IO;

namespace WeightPrint.Formats.Gguf;

/// <summary>Reads GGUF v2/v3 files (placeholder until the GGUF reader lands).</summary>
public static class GgufReader
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    public static bool LooksLikeGguf(IByteSource source)
    {
        if (source.Length < 4) return false;
        Span<byte> b = stackalloc byte[4];
        source.Read(0, b);
        return BitConverter.ToUInt32(b) == Magic;
    }

    public static Checkpoint Open(IByteSource source, string? location = null)
        => throw new InvalidModelFileException(source.Name, "GGUF reading is not implemented yet");
}
