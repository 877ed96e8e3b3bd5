using System.Buffers.Binary;
using System.Text;
using WeightPrint.IO;

namespace WeightPrint.Formats.PyTorch;

/// <summary>One member of a zip archive, located and validated: where its (possibly compressed) bytes are.</summary>
internal sealed record ZipEntry(string Name, int Method, ushort Flags, long CompressedSize, long UncompressedSize, uint Crc32,
    long LocalHeaderOffset, long DataOffset)
{
    public const int Stored = 0;
    public const int Deflated = 8;

    public long DataEnd => DataOffset + CompressedSize;
}

/// <summary>
/// Parses a zip archive's central directory (APPNOTE 6.3): the end-of-central-directory record, the zip64
/// locator and record, zip64 extra fields, and every local header (to find where each member's data starts).
/// Refuses multi-volume and encrypted archives, unsafe member names, duplicate names, sizes that contradict
/// each other and members that overlap or lie outside the file. Never reads member data.
/// </summary>
internal static class ZipDirectory
{
    private const uint EocdSignature = 0x06054b50;
    private const uint Zip64EocdSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private const int EocdBytes = 22;
    private const int Zip64LocatorBytes = 20;
    private const int Zip64EocdBytes = 56;
    private const int CentralHeaderBytes = 46;
    private const int LocalHeaderBytes = 30;
    private const int MaxCommentBytes = ushort.MaxValue;

    public static List<ZipEntry> Read(IByteSource source)
    {
        string file = source.Name;
        long length = source.Length;
        if (length < EocdBytes) throw Bad(file, $"file of {length} bytes is too small to be a zip archive (truncated?)");

        // 1. End of central directory: the last signature whose comment reaches exactly the end of the file.
        int tailLength = (int)Math.Min(length, EocdBytes + MaxCommentBytes);
        long tailStart = length - tailLength;
        var tail = new byte[tailLength];
        source.Read(tailStart, tail);
        int eocdInTail = -1;
        for (int i = tailLength - EocdBytes; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) != EocdSignature) continue;
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20));
            if (i + EocdBytes + commentLength == tailLength)
            {
                eocdInTail = i;
                break;
            }
        }

        if (eocdInTail < 0)
            throw Bad(file, "no zip end-of-central-directory record at the end of the file (truncated or not a complete zip archive)");
        long eocd = tailStart + eocdInTail;
        var e = tail.AsSpan(eocdInTail);
        uint diskNumber = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]);
        uint cdDisk = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
        ulong entriesOnDisk = BinaryPrimitives.ReadUInt16LittleEndian(e[8..]);
        ulong totalEntries = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        ulong cdSize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        ulong cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
        long directoryLimit = eocd; // the central directory must end before this offset

        // 2. Zip64: a locator right before the EOCD points at the zip64 EOCD record.
        bool hasLocator = false;
        if (eocd >= Zip64LocatorBytes)
        {
            Span<byte> loc = stackalloc byte[Zip64LocatorBytes];
            source.Read(eocd - Zip64LocatorBytes, loc);
            hasLocator = BinaryPrimitives.ReadUInt32LittleEndian(loc) == Zip64LocatorSignature;
            if (hasLocator)
            {
                uint recordDisk = BinaryPrimitives.ReadUInt32LittleEndian(loc[4..]);
                ulong recordOffset = BinaryPrimitives.ReadUInt64LittleEndian(loc[8..]);
                uint totalDisks = BinaryPrimitives.ReadUInt32LittleEndian(loc[16..]);
                if (recordDisk != 0 || totalDisks > 1) throw Bad(file, "multi-volume zip archives are not supported");
                long locator = eocd - Zip64LocatorBytes;
                if (recordOffset > (ulong)(locator - Zip64EocdBytes) || locator < Zip64EocdBytes)
                    throw Bad(file, $"zip64 end-of-central-directory offset {recordOffset} lies outside the file");
                Span<byte> r = stackalloc byte[Zip64EocdBytes];
                source.Read((long)recordOffset, r);
                if (BinaryPrimitives.ReadUInt32LittleEndian(r) != Zip64EocdSignature)
                    throw Bad(file, $"no zip64 end-of-central-directory record at offset {recordOffset}");
                ulong recordSize = BinaryPrimitives.ReadUInt64LittleEndian(r[4..]);
                if (recordSize < Zip64EocdBytes - 12 || recordSize > (ulong)locator - recordOffset - 12)
                    throw Bad(file, $"zip64 end-of-central-directory record size {recordSize} is inconsistent with the file");
                uint disk64 = BinaryPrimitives.ReadUInt32LittleEndian(r[16..]);
                uint cdDisk64 = BinaryPrimitives.ReadUInt32LittleEndian(r[20..]);
                ulong onDisk64 = BinaryPrimitives.ReadUInt64LittleEndian(r[24..]);
                ulong total64 = BinaryPrimitives.ReadUInt64LittleEndian(r[32..]);
                ulong size64 = BinaryPrimitives.ReadUInt64LittleEndian(r[40..]);
                ulong offset64 = BinaryPrimitives.ReadUInt64LittleEndian(r[48..]);
                if (disk64 != 0 || cdDisk64 != 0) throw Bad(file, "multi-volume zip archives are not supported");
                entriesOnDisk = Merge(file, "entry count", entriesOnDisk, ushort.MaxValue, onDisk64);
                totalEntries = Merge(file, "entry count", totalEntries, ushort.MaxValue, total64);
                cdSize = Merge(file, "central directory size", cdSize, uint.MaxValue, size64);
                cdOffset = Merge(file, "central directory offset", cdOffset, uint.MaxValue, offset64);
                directoryLimit = (long)recordOffset;
            }
        }

        if (!hasLocator)
        {
            if (diskNumber != 0 || cdDisk != 0) throw Bad(file, "multi-volume zip archives are not supported");
            if (totalEntries == ushort.MaxValue || cdSize == uint.MaxValue || cdOffset == uint.MaxValue)
                throw Bad(file, "zip end-of-central-directory record needs zip64 values but there is no zip64 locator");
        }

        if (entriesOnDisk != totalEntries) throw Bad(file, "multi-volume zip archives are not supported");
        if (totalEntries > TorchArchiveReader.MaxZipEntries)
            throw Bad(file, $"zip archive lists {totalEntries} entries, more than the limit of {TorchArchiveReader.MaxZipEntries}");
        if (cdOffset > (ulong)directoryLimit || cdSize > (ulong)directoryLimit - cdOffset)
            throw Bad(file, $"zip central directory ({cdSize} bytes at offset {cdOffset}) lies outside the file ({length} bytes; truncated?)");
        if (cdSize < totalEntries * CentralHeaderBytes)
            throw Bad(file, $"zip central directory of {cdSize} bytes is too small for {totalEntries} entries");

        // 3. Central directory headers.
        var entries = new List<ZipEntry>((int)totalEntries);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var nameBytes = new List<byte[]>((int)totalEntries);
        long pos = (long)cdOffset;
        long cdEnd = (long)(cdOffset + cdSize);
        Span<byte> h = stackalloc byte[CentralHeaderBytes];
        for (ulong i = 0; i < totalEntries; i++)
        {
            if (cdEnd - pos < CentralHeaderBytes) throw Bad(file, $"zip central directory ends inside entry {i}");
            source.Read(pos, h);
            if (BinaryPrimitives.ReadUInt32LittleEndian(h) != CentralSignature)
                throw Bad(file, $"zip central directory entry {i} at offset {pos} has a bad signature");
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            ulong compressed = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            ulong uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            uint diskStart = BinaryPrimitives.ReadUInt16LittleEndian(h[34..]);
            ulong localOffset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            long variable = (long)nameLength + extraLength + commentLength;
            if (cdEnd - pos - CentralHeaderBytes < variable) throw Bad(file, $"zip central directory ends inside entry {i}");
            var raw = new byte[nameLength];
            source.Read(pos + CentralHeaderBytes, raw);
            string name = DecodeName(file, raw, i);
            var extra = new byte[extraLength];
            source.Read(pos + CentralHeaderBytes + nameLength, extra);
            pos += CentralHeaderBytes + variable;

            if ((flags & 0x0041) != 0) throw Bad(file, $"zip entry {name} is encrypted");
            if ((flags & 0x2000) != 0) throw Bad(file, $"zip entry {name} has an encrypted central directory");
            CheckName(file, name);
            if (!names.Add(name)) throw Bad(file, $"zip archive holds two entries named {name}");

            // Zip64 extra field: the 64-bit values of the saturated 32-bit fields, in this order.
            bool needUncompressed = uncompressed == uint.MaxValue, needCompressed = compressed == uint.MaxValue;
            bool needOffset = localOffset == uint.MaxValue, needDisk = diskStart == ushort.MaxValue;
            for (int x = 0; x + 4 <= extra.Length;)
            {
                int id = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(x));
                int size = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(x + 2));
                if (size > extra.Length - x - 4) throw Bad(file, $"zip entry {name} has a malformed extra field");
                if (id == 0x0001)
                {
                    var z = extra.AsSpan(x + 4, size);
                    int at = 0;
                    int needed = 8 * ((needUncompressed ? 1 : 0) + (needCompressed ? 1 : 0) + (needOffset ? 1 : 0));
                    if (needed > z.Length) throw Bad(file, $"zip entry {name} has a truncated zip64 extra field");
                    if (needUncompressed) { uncompressed = BinaryPrimitives.ReadUInt64LittleEndian(z[at..]); at += 8; needUncompressed = false; }
                    if (needCompressed) { compressed = BinaryPrimitives.ReadUInt64LittleEndian(z[at..]); at += 8; needCompressed = false; }
                    if (needOffset) { localOffset = BinaryPrimitives.ReadUInt64LittleEndian(z[at..]); at += 8; needOffset = false; }
                    if (needDisk)
                    {
                        if (at + 4 > z.Length) throw Bad(file, $"zip entry {name} has a truncated zip64 extra field");
                        diskStart = BinaryPrimitives.ReadUInt32LittleEndian(z[at..]);
                        needDisk = false;
                    }
                }

                x += 4 + size;
            }

            if (needUncompressed || needCompressed || needOffset || needDisk)
                throw Bad(file, $"zip entry {name} needs zip64 values but has no zip64 extra field");
            if (diskStart != 0) throw Bad(file, "multi-volume zip archives are not supported");
            if (localOffset >= cdOffset || compressed > cdOffset || uncompressed > long.MaxValue)
                throw Bad(file, $"zip entry {name}: offset {localOffset} or size {compressed} lies outside the archive data");
            if (method == ZipEntry.Stored && compressed != uncompressed)
                throw Bad(file, $"zip entry {name} is stored but its sizes disagree ({compressed} vs {uncompressed} bytes)");

            entries.Add(new ZipEntry(name, method, flags, (long)compressed, (long)uncompressed, crc, (long)localOffset, 0));
            nameBytes.Add(raw);
        }

        if (pos != cdEnd) throw Bad(file, $"zip central directory size {cdSize} does not match its {totalEntries} entries");

        // 4. Local headers: where each member's data starts, checked against the central directory.
        Span<byte> l = stackalloc byte[LocalHeaderBytes];
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            long at = entry.LocalHeaderOffset;
            if ((long)cdOffset - at < LocalHeaderBytes) throw Bad(file, $"zip entry {entry.Name}: local header at {at} runs into the central directory");
            source.Read(at, l);
            if (BinaryPrimitives.ReadUInt32LittleEndian(l) != LocalSignature)
                throw Bad(file, $"zip entry {entry.Name}: no local header at offset {at}");
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(l[6..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(l[8..]);
            uint compressed = BinaryPrimitives.ReadUInt32LittleEndian(l[18..]);
            uint uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(l[22..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(l[26..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(l[28..]);
            if ((flags & 0x0041) != 0) throw Bad(file, $"zip entry {entry.Name} is encrypted");
            if (method != entry.Method) throw Bad(file, $"zip entry {entry.Name}: local header says method {method}, central directory says {entry.Method}");
            long dataOffset = at + LocalHeaderBytes + nameLength + extraLength;
            if (dataOffset > (long)cdOffset || entry.CompressedSize > (long)cdOffset - dataOffset)
                throw Bad(file, $"zip entry {entry.Name}: data ({entry.CompressedSize} bytes at offset {dataOffset}) runs into the central directory or past the end of the file");
            var localName = new byte[nameLength];
            source.Read(at + LocalHeaderBytes, localName);
            if (!localName.AsSpan().SequenceEqual(nameBytes[i]))
                throw Bad(file, $"zip entry {entry.Name}: local header names a different file");
            if ((flags & 0x0008) == 0)
            {
                // Sizes are in the local header (no data descriptor): they must agree unless zip64 saturates them.
                if ((compressed != uint.MaxValue && compressed != entry.CompressedSize) || (uncompressed != uint.MaxValue && uncompressed != entry.UncompressedSize))
                    throw Bad(file, $"zip entry {entry.Name}: local header sizes ({compressed}/{uncompressed}) contradict the central directory ({entry.CompressedSize}/{entry.UncompressedSize})");
            }

            entries[i] = entry with { DataOffset = dataOffset };
        }

        // 5. No two members may share bytes.
        var byOffset = entries.OrderBy(x => x.LocalHeaderOffset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            if (byOffset[i - 1].DataEnd > byOffset[i].LocalHeaderOffset)
                throw Bad(file, $"zip entries {byOffset[i - 1].Name} and {byOffset[i].Name} overlap");
        }

        return entries;
    }

    /// <summary>Member names are data, but a name that could escape a folder marks a hostile or broken archive.</summary>
    private static void CheckName(string file, string name)
    {
        if (name.Length == 0) throw Bad(file, "zip archive holds an entry with an empty name");
        if (name[0] == '/' || name.Contains('\\') || name.Contains('\0') || (name.Length >= 2 && name[1] == ':')
            || name.Split('/').Any(s => s == ".."))
            throw Bad(file, $"zip entry name {Quote(name)} is absolute or escapes the archive (refused)");
    }

    private static string DecodeName(string file, byte[] raw, ulong index)
    {
        try
        {
            return ByteCursor.Utf8Strict.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw Bad(file, $"zip entry {index} has a name that is not valid UTF-8");
        }
    }

    /// <summary>Shows a name safely in a one-line message (control characters escaped, long names cut).</summary>
    internal static string Quote(string s)
    {
        var b = new StringBuilder("'");
        foreach (char c in s.Length > 200 ? s[..200] + "…" : s)
        {
            if (char.IsControl(c)) b.Append($"\\x{(int)c:x2}");
            else b.Append(c);
        }

        return b.Append('\'').ToString();
    }

    private static ulong Merge(string file, string what, ulong value32, ulong saturated, ulong value64)
    {
        if (value32 != saturated && value32 != value64)
            throw Bad(file, $"zip {what} differs between the end-of-central-directory record ({value32}) and its zip64 record ({value64})");
        return value64;
    }

    private static InvalidModelFileException Bad(string file, string problem) => new(file, problem);
}
