using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace WeightPrint.TestSupport;

/// <summary>
/// A test-side pickler that emits opcodes one call at a time, the way CPython's protocol-2 pickler does for
/// torch state dicts (BINPUT after every memoisable object, BINGET for a repeated string or global).
/// Also used to build hostile pickles opcode by opcode.
/// </summary>
public sealed class PickleWriter
{
    private readonly ArrayBufferWriter<byte> _out = new();
    private readonly Dictionary<string, int> _memoByKey = new(StringComparer.Ordinal);
    private int _memo;

    /// <summary>When false no BINPUT is written (for hand-built hostile pickles).</summary>
    public bool Memoize { get; init; } = true;

    public long Length => _out.WrittenCount;

    public byte[] ToArray() => _out.WrittenSpan.ToArray();

    public PickleWriter Raw(params byte[] bytes)
    {
        _out.Write(bytes);
        return this;
    }

    public PickleWriter Proto(int version = 2) => Raw(0x80, (byte)version);

    public PickleWriter Stop() => Raw((byte)'.');

    public PickleWriter Mark() => Raw((byte)'(');

    public PickleWriter EmptyDict() => Raw((byte)'}').Put();

    public PickleWriter EmptyList() => Raw((byte)']').Put();

    public PickleWriter EmptyTuple() => Raw((byte)')');

    public PickleWriter SetItem() => Raw((byte)'s');

    public PickleWriter SetItems() => Raw((byte)'u');

    public PickleWriter Append() => Raw((byte)'a');

    public PickleWriter Appends() => Raw((byte)'e');

    public PickleWriter Reduce() => Raw((byte)'R').Put();

    public PickleWriter Build() => Raw((byte)'b');

    public PickleWriter BinPersId() => Raw((byte)'Q');

    public PickleWriter None() => Raw((byte)'N');

    public PickleWriter Bool(bool value) => Raw(value ? (byte)0x88 : (byte)0x89);

    /// <summary>TUPLE1/2/3 for 1–3 items already on the stack (CPython's choice in protocol 2).</summary>
    public PickleWriter Tuple(int n) => n switch
    {
        1 => Raw(0x85).Put(),
        2 => Raw(0x86).Put(),
        3 => Raw(0x87).Put(),
        _ => throw new ArgumentOutOfRangeException(nameof(n)),
    };

    /// <summary>TUPLE: all items since the last MARK.</summary>
    public PickleWriter TupleFromMark() => Raw((byte)'t').Put();

    /// <summary>Writes a tuple of integers as CPython does (EMPTY_TUPLE, TUPLE1-3, or MARK … TUPLE).</summary>
    public PickleWriter IntTuple(IReadOnlyList<long> values)
    {
        if (values.Count == 0) return EmptyTuple();
        if (values.Count > 3) Mark();
        foreach (long v in values) Int(v);
        return values.Count > 3 ? TupleFromMark() : Tuple(values.Count);
    }

    /// <summary>BININT1, BININT2, BININT or LONG1, whichever is shortest (CPython's choice).</summary>
    public PickleWriter Int(long v)
    {
        if (v is >= 0 and <= 0xff) return Raw((byte)'K', (byte)v);
        if (v is >= 0 and <= 0xffff)
        {
            Raw((byte)'M');
            return Raw(BitConverter.GetBytes((ushort)v));
        }

        if (v is >= int.MinValue and <= int.MaxValue)
        {
            Raw((byte)'J');
            return Raw(BitConverter.GetBytes((int)v));
        }

        var bytes = new List<byte>(BitConverter.GetBytes(v));
        while (bytes.Count > 1 && ((bytes[^1] == 0 && (bytes[^2] & 0x80) == 0) || (bytes[^1] == 0xff && (bytes[^2] & 0x80) != 0)))
            bytes.RemoveAt(bytes.Count - 1);
        Raw(0x8a, (byte)bytes.Count);
        return Raw([.. bytes]);
    }

    public PickleWriter Float(double v)
    {
        var b = new byte[9];
        b[0] = (byte)'G';
        BinaryPrimitives.WriteDoubleBigEndian(b.AsSpan(1), v);
        return Raw(b);
    }

    /// <summary>BINUNICODE, or BINGET when the same string was written before (memoised by value).</summary>
    public PickleWriter Str(string s)
    {
        if (Memoize && _memoByKey.TryGetValue("s:" + s, out int at)) return Get(at);
        var bytes = Encoding.UTF8.GetBytes(s);
        Raw((byte)'X');
        Raw(BitConverter.GetBytes((uint)bytes.Length));
        Raw(bytes);
        if (Memoize) _memoByKey["s:" + s] = _memo;
        return Put();
    }

    /// <summary>SHORT_BINUNICODE (protocol 4).</summary>
    public PickleWriter ShortStr(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Raw(0x8c, (byte)bytes.Length);
        return Raw(bytes);
    }

    /// <summary>GLOBAL 'module\nname\n', or BINGET when written before.</summary>
    public PickleWriter Global(string module, string name)
    {
        if (Memoize && _memoByKey.TryGetValue("g:" + module + "." + name, out int at)) return Get(at);
        Raw((byte)'c');
        Raw(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));
        if (Memoize) _memoByKey["g:" + module + "." + name] = _memo;
        return Put();
    }

    /// <summary>STACK_GLOBAL with the two names pushed as SHORT_BINUNICODE (protocol 4 style).</summary>
    public PickleWriter StackGlobal(string module, string name) => ShortStr(module).ShortStr(name).Raw(0x93);

    /// <summary>BINPUT / LONG_BINPUT of the top of the stack into the next memo slot.</summary>
    public PickleWriter Put()
    {
        if (!Memoize) return this;
        int index = _memo++;
        if (index < 256) return Raw((byte)'q', (byte)index);
        Raw((byte)'r');
        return Raw(BitConverter.GetBytes((uint)index));
    }

    public PickleWriter Get(int index)
    {
        if (index < 256) return Raw((byte)'h', (byte)index);
        Raw((byte)'j');
        return Raw(BitConverter.GetBytes((uint)index));
    }
}
