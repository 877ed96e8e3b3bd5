using WeightPrint.IO;

namespace WeightPrint.Formats.PyTorch;

/// <summary>Reads <c>torch.save</c> zip archives (placeholder until the PyTorch reader lands).</summary>
public static class TorchArchiveReader
{
    public static bool LooksLikeZip(IByteSource source)
    {
        if (source.Length < 4) return false;
        Span<byte> b = stackalloc byte[4];
        source.Read(0, b);
        return b[0] == (byte)'P' && b[1] == (byte)'K' && b[2] == 3 && b[3] == 4;
    }

    /// <summary>True for a bare pickle stream (the legacy, pre-1.6 torch format).</summary>
    public static bool LooksLikeLegacyPickle(IByteSource source)
    {
        if (source.Length < 2) return false;
        Span<byte> b = stackalloc byte[2];
        source.Read(0, b);
        return b[0] == 0x80 && b[1] is >= 2 and <= 5;
    }

    public static List<TensorInfo> ReadTensors(IByteSource source)
        => throw new InvalidModelFileException(source.Name, "PyTorch archive reading is not implemented yet");
}
