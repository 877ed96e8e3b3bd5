using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.TestSupport;

/// <summary>A Python dict (or, with <see cref="Ordered"/>, a collections.OrderedDict such as a state_dict).</summary>
public sealed class PyDict : IEnumerable<KeyValuePair<object, object?>>
{
    public List<KeyValuePair<object, object?>> Items { get; } = [];

    /// <summary>Pickled as collections.OrderedDict() (REDUCE) instead of EMPTY_DICT.</summary>
    public bool Ordered { get; init; }

    /// <summary>Adds the BUILD with a <c>_metadata</c> state that <c>nn.Module.state_dict()</c> results carry.</summary>
    public bool WithMetadata { get; init; }

    public void Add(object key, object? value) => Items.Add(new(key, value));

    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => Items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A tensor view of a storage, pickled with torch._utils._rebuild_tensor_v2 (or _rebuild_parameter).</summary>
public sealed record TorchTensor(string StorageKey, long Offset, long[] Shape, long[]? Strides = null, bool Parameter = false)
{
    public long[] EffectiveStrides
    {
        get
        {
            if (Strides != null) return Strides;
            var s = new long[Shape.Length];
            long step = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                s[i] = step;
                step *= Shape[i];
            }

            return s;
        }
    }
}

/// <summary>One member of a test zip archive. <paramref name="RawDeflated"/> supplies ready-made deflate data
/// (then <paramref name="Data"/> is ignored and <paramref name="DeclaredSize"/> is the size the headers claim).</summary>
public sealed record ZipMember(string Name, byte[] Data, bool Deflate = false, byte[]? RawDeflated = null, long DeclaredSize = -1);

/// <summary>Where the zip writer put things, so hostile tests can patch exact bytes.</summary>
public sealed class ZipLayout
{
    public List<long> LocalHeaders { get; } = [];

    public List<long> DataOffsets { get; } = [];

    public List<long> CentralHeaders { get; } = [];

    public long CentralDirectoryOffset { get; set; }

    public long CentralDirectorySize { get; set; }

    public long Zip64EocdOffset { get; set; } = -1;

    public long EocdOffset { get; set; }
}

/// <summary>
/// Writes torch.save-style zip archives the way PyTorch's writer does: a folder prefix, data.pkl (protocol 2),
/// byteorder, stored storages under data/ with their data aligned to 64 bytes by a padding extra field, data
/// descriptors (flag bit 3), a version record and, on request, zip64 records with every size saturated.
/// </summary>
public sealed class TorchZipWriter
{
    private readonly List<(string Key, TensorDType DType, byte[] Bytes)> _storages = [];

    public string Prefix { get; init; } = "archive";

    public string Location { get; init; } = "cpu";

    public TorchZipWriter AddStorage(string key, TensorDType dtype, byte[] bytes)
    {
        _storages.Add((key, dtype, bytes));
        return this;
    }

    /// <summary>Encodes values little-endian in the given dtype (F32, F16, BF16 by truncation, F64, I64, I32, I16, I8, U8, Bool).</summary>
    public static byte[] Encode(TensorDType dtype, IReadOnlyList<double> values)
    {
        int size = dtype.BlockBytes();
        var bytes = new byte[values.Count * size];
        for (int i = 0; i < values.Count; i++)
        {
            var s = bytes.AsSpan(i * size, size);
            double v = values[i];
            switch (dtype)
            {
                case TensorDType.F32: BinaryPrimitives.WriteSingleLittleEndian(s, (float)v); break;
                case TensorDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(s, v); break;
                case TensorDType.F16: BinaryPrimitives.WriteHalfLittleEndian(s, (Half)v); break;
                case TensorDType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(BitConverter.SingleToUInt32Bits((float)v) >> 16)); break;
                case TensorDType.I64: BinaryPrimitives.WriteInt64LittleEndian(s, (long)v); break;
                case TensorDType.I32: BinaryPrimitives.WriteInt32LittleEndian(s, (int)v); break;
                case TensorDType.I16: BinaryPrimitives.WriteInt16LittleEndian(s, (short)v); break;
                case TensorDType.I8: s[0] = (byte)(sbyte)v; break;
                case TensorDType.U8 or TensorDType.Bool: s[0] = (byte)v; break;
                default: throw new ArgumentOutOfRangeException(nameof(dtype));
            }
        }

        return bytes;
    }

    public static string StorageClass(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "FloatStorage",
        TensorDType.F16 => "HalfStorage",
        TensorDType.BF16 => "BFloat16Storage",
        TensorDType.F64 => "DoubleStorage",
        TensorDType.I64 => "LongStorage",
        TensorDType.I32 => "IntStorage",
        TensorDType.I16 => "ShortStorage",
        TensorDType.I8 => "CharStorage",
        TensorDType.U8 => "ByteStorage",
        TensorDType.Bool => "BoolStorage",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Pickles <paramref name="root"/> (PyDict, TorchTensor, List, scalars) as torch.save does.</summary>
    public byte[] Pickle(object? root)
    {
        var w = new PickleWriter();
        w.Proto(2);
        Write(w, root);
        return w.Stop().ToArray();
    }

    /// <summary>The whole archive for <paramref name="root"/>.</summary>
    public byte[] Build(object? root, bool deflatePickle = false, bool zip64 = false) => BuildWithPickle(Pickle(root), out _, deflatePickle, zip64);

    /// <summary>The archive around an arbitrary pickle (hostile pickles use this).</summary>
    public byte[] BuildWithPickle(byte[] pickle, out ZipLayout layout, bool deflatePickle = false, bool zip64 = false)
    {
        var members = new List<ZipMember>
        {
            new(Prefix + "/data.pkl", pickle, deflatePickle),
            new(Prefix + "/byteorder", "little"u8.ToArray()),
        };
        foreach (var (key, _, bytes) in _storages) members.Add(new(Prefix + "/data/" + key, bytes));
        members.Add(new(Prefix + "/version", "3\n"u8.ToArray()));
        return BuildZip(members, out layout, zip64);
    }

    public void Save(string path, object? root, bool deflatePickle = false, bool zip64 = false) => File.WriteAllBytes(path, Build(root, deflatePickle, zip64));

    private void Write(PickleWriter w, object? v)
    {
        switch (v)
        {
            case null: w.None(); break;
            case bool b: w.Bool(b); break;
            case int i: w.Int(i); break;
            case long l: w.Int(l); break;
            case double d: w.Float(d); break;
            case string s: w.Str(s); break;
            case TorchTensor t: WriteTensor(w, t); break;
            case PyDict d: WriteDict(w, d); break;
            case System.Collections.IList list:
                w.EmptyList();
                if (list.Count > 0)
                {
                    w.Mark();
                    foreach (object? item in list) Write(w, item);
                    w.Appends();
                }

                break;
            default: throw new ArgumentException($"cannot pickle {v.GetType().Name}");
        }
    }

    private void WriteDict(PickleWriter w, PyDict d)
    {
        if (d.Ordered) w.Global("collections", "OrderedDict").EmptyTuple().Reduce();
        else w.EmptyDict();
        // CPython batches SETITEMS by 1000 and uses SETITEM for a batch of one.
        for (int start = 0; start < d.Items.Count; start += 1000)
        {
            int n = Math.Min(1000, d.Items.Count - start);
            if (n > 1) w.Mark();
            for (int i = start; i < start + n; i++)
            {
                Write(w, d.Items[i].Key);
                Write(w, d.Items[i].Value);
            }

            if (n > 1) w.SetItems();
            else w.SetItem();
        }

        if (d.WithMetadata)
        {
            w.EmptyDict().Str("_metadata");
            w.Global("collections", "OrderedDict").EmptyTuple().Reduce();
            w.Str("").EmptyDict().Str("version").Int(1).SetItem().SetItem();
            w.SetItem().Build();
        }
    }

    private void WriteTensor(PickleWriter w, TorchTensor t)
    {
        var storage = _storages.First(s => s.Key == t.StorageKey);
        if (t.Parameter) w.Global("torch._utils", "_rebuild_parameter").Mark();
        w.Global("torch._utils", "_rebuild_tensor_v2");
        w.Mark();
        w.Mark().Str("storage").Global("torch", StorageClass(storage.DType)).Str(storage.Key).Str(Location)
            .Int(storage.Bytes.Length / storage.DType.BlockBytes()).TupleFromMark();
        w.BinPersId();
        w.Int(t.Offset);
        w.IntTuple(t.Shape);
        w.IntTuple(t.EffectiveStrides);
        w.Bool(false);
        w.Global("collections", "OrderedDict").EmptyTuple().Reduce();
        w.TupleFromMark().Reduce();
        if (t.Parameter)
        {
            w.Bool(true).Global("collections", "OrderedDict").EmptyTuple().Reduce();
            w.TupleFromMark().Reduce();
        }
    }

    /// <summary>Writes a zip archive like PyTorch's writer (see the class summary).</summary>
    public static byte[] BuildZip(IReadOnlyList<ZipMember> members, out ZipLayout layout, bool zip64 = false, int align = 64)
    {
        layout = new ZipLayout();
        var o = new MemoryStream();
        var central = new List<(byte[] Name, ushort Method, uint Crc, long Comp, long Uncomp, long Offset)>();
        foreach (var m in members)
        {
            byte[] name = System.Text.Encoding.UTF8.GetBytes(m.Name);
            byte[] data = m.Data;
            ushort method = 0;
            long declared = m.DeclaredSize >= 0 ? m.DeclaredSize : m.Data.Length;
            if (m.RawDeflated != null)
            {
                data = m.RawDeflated;
                method = 8;
            }
            else if (m.Deflate)
            {
                var c = new MemoryStream();
                using (var d = new DeflateStream(c, CompressionLevel.Optimal, leaveOpen: true)) d.Write(m.Data);
                data = c.ToArray();
                method = 8;
            }

            uint crc = Crc32.HashToUInt32(m.Data);
            long offset = o.Position;
            layout.LocalHeaders.Add(offset);
            int extraLength = 0;
            if (align > 1)
            {
                long start = offset + 30 + name.Length + 4;
                extraLength = 4 + (int)((align - start % align) % align);
            }

            var h = new byte[30];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(4), zip64 ? (ushort)45 : (ushort)20);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), 0x0808);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), method);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(26), (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(28), (ushort)extraLength);
            o.Write(h);
            o.Write(name);
            if (extraLength > 0)
            {
                var pad = new byte[extraLength];
                BinaryPrimitives.WriteUInt16LittleEndian(pad, 0x4746);
                BinaryPrimitives.WriteUInt16LittleEndian(pad.AsSpan(2), (ushort)(extraLength - 4));
                o.Write(pad);
            }

            layout.DataOffsets.Add(o.Position);
            o.Write(data);
            var dd = new byte[zip64 ? 24 : 16];
            BinaryPrimitives.WriteUInt32LittleEndian(dd, 0x08074b50);
            BinaryPrimitives.WriteUInt32LittleEndian(dd.AsSpan(4), crc);
            if (zip64)
            {
                BinaryPrimitives.WriteInt64LittleEndian(dd.AsSpan(8), data.Length);
                BinaryPrimitives.WriteInt64LittleEndian(dd.AsSpan(16), declared);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(dd.AsSpan(8), (uint)data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(dd.AsSpan(12), (uint)declared);
            }

            o.Write(dd);
            central.Add((name, method, crc, data.Length, declared, offset));
        }

        long cdOffset = o.Position;
        layout.CentralDirectoryOffset = cdOffset;
        foreach (var c in central)
        {
            layout.CentralHeaders.Add(o.Position);
            var h = new byte[46];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(4), 0x031e);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), zip64 ? (ushort)45 : (ushort)20);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), 0x0808);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(10), c.Method);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), c.Crc);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), zip64 ? uint.MaxValue : (uint)c.Comp);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), zip64 ? uint.MaxValue : (uint)c.Uncomp);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(28), (ushort)c.Name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(30), zip64 ? (ushort)28 : (ushort)0);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(42), zip64 ? uint.MaxValue : (uint)c.Offset);
            o.Write(h);
            o.Write(c.Name);
            if (zip64)
            {
                var x = new byte[28];
                BinaryPrimitives.WriteUInt16LittleEndian(x, 1);
                BinaryPrimitives.WriteUInt16LittleEndian(x.AsSpan(2), 24);
                BinaryPrimitives.WriteInt64LittleEndian(x.AsSpan(4), c.Uncomp);
                BinaryPrimitives.WriteInt64LittleEndian(x.AsSpan(12), c.Comp);
                BinaryPrimitives.WriteInt64LittleEndian(x.AsSpan(20), c.Offset);
                o.Write(x);
            }
        }

        long cdSize = o.Position - cdOffset;
        layout.CentralDirectorySize = cdSize;
        if (zip64)
        {
            long record = o.Position;
            layout.Zip64EocdOffset = record;
            var r = new byte[56];
            BinaryPrimitives.WriteUInt32LittleEndian(r, 0x06064b50);
            BinaryPrimitives.WriteInt64LittleEndian(r.AsSpan(4), 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(12), 0x031e);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(14), 45);
            BinaryPrimitives.WriteInt64LittleEndian(r.AsSpan(24), central.Count);
            BinaryPrimitives.WriteInt64LittleEndian(r.AsSpan(32), central.Count);
            BinaryPrimitives.WriteInt64LittleEndian(r.AsSpan(40), cdSize);
            BinaryPrimitives.WriteInt64LittleEndian(r.AsSpan(48), cdOffset);
            o.Write(r);
            var l = new byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(l, 0x07064b50);
            BinaryPrimitives.WriteInt64LittleEndian(l.AsSpan(8), record);
            BinaryPrimitives.WriteUInt32LittleEndian(l.AsSpan(16), 1);
            o.Write(l);
        }

        layout.EocdOffset = o.Position;
        var e = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(8), zip64 ? ushort.MaxValue : (ushort)central.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(10), zip64 ? ushort.MaxValue : (ushort)central.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(12), zip64 ? uint.MaxValue : (uint)cdSize);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(16), zip64 ? uint.MaxValue : (uint)cdOffset);
        o.Write(e);
        return o.ToArray();
    }
}
