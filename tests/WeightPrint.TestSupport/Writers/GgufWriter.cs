using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.Numerics;

namespace WeightPrint.TestSupport;

/// <summary>A typed GGUF metadata value for <see cref="GgufWriter"/>: scalars, strings and (nested) arrays.</summary>
internal sealed class GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    /// <summary>The scalar, the string, or GgufValue[] for arrays.</summary>
    public object Value { get; }

    public GgufValueType ElementType { get; }

    public static GgufValue U8(byte v) => new(GgufValueType.UInt8, v);

    public static GgufValue I8(sbyte v) => new(GgufValueType.Int8, v);

    public static GgufValue U16(ushort v) => new(GgufValueType.UInt16, v);

    public static GgufValue I16(short v) => new(GgufValueType.Int16, v);

    public static GgufValue U32(uint v) => new(GgufValueType.UInt32, v);

    public static GgufValue I32(int v) => new(GgufValueType.Int32, v);

    public static GgufValue F32(float v) => new(GgufValueType.Float32, v);

    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);

    public static GgufValue Str(string v) => new(GgufValueType.String, v);

    public static GgufValue U64(ulong v) => new(GgufValueType.UInt64, v);

    public static GgufValue I64(long v) => new(GgufValueType.Int64, v);

    public static GgufValue F64(double v) => new(GgufValueType.Float64, v);

    /// <summary>An array whose elements all have <paramref name="elementType"/> (checked).</summary>
    public static GgufValue Array(GgufValueType elementType, params GgufValue[] items)
    {
        foreach (var i in items)
        {
            if (i.Type != elementType) throw new ArgumentException($"array of {elementType} holds a {i.Type}");
        }

        return new GgufValue(GgufValueType.Array, items, elementType);
    }

    public static GgufValue Strings(params string[] items) => Array(GgufValueType.String, [.. items.Select(Str)]);

    public static GgufValue Floats(params float[] items) => Array(GgufValueType.Float32, [.. items.Select(F32)]);

    public static GgufValue Ints(params int[] items) => Array(GgufValueType.Int32, [.. items.Select(I32)]);

    /// <summary>Writes the value's payload (no type tag for scalars; arrays write element type and count).</summary>
    public void WritePayload(GgufBytes b)
    {
        switch (Type)
        {
            case GgufValueType.UInt8: b.U8((byte)Value); break;
            case GgufValueType.Int8: b.U8((byte)(sbyte)Value); break;
            case GgufValueType.UInt16: b.U16((ushort)Value); break;
            case GgufValueType.Int16: b.U16((ushort)(short)Value); break;
            case GgufValueType.UInt32: b.U32((uint)Value); break;
            case GgufValueType.Int32: b.U32((uint)(int)Value); break;
            case GgufValueType.Float32: b.F32((float)Value); break;
            case GgufValueType.Bool: b.U8((bool)Value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: b.Str((string)Value); break;
            case GgufValueType.UInt64: b.U64((ulong)Value); break;
            case GgufValueType.Int64: b.U64((ulong)(long)Value); break;
            case GgufValueType.Float64: b.F64((double)Value); break;
            case GgufValueType.Array:
                var items = (GgufValue[])Value;
                b.U32((uint)ElementType);
                b.U64((ulong)items.Length);
                foreach (var i in items) i.WritePayload(b);
                break;
            default: throw new InvalidOperationException();
        }
    }
}

/// <summary>Little-endian byte building for GGUF files (the writer and the hostile-file tests use it).</summary>
internal sealed class GgufBytes
{
    private readonly ArrayBufferWriter<byte> _s = new();

    public long Length => _s.WrittenCount;

    public GgufBytes U8(byte v) => Raw([v]);

    public GgufBytes U16(ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_s.GetSpan(2), v);
        _s.Advance(2);
        return this;
    }

    public GgufBytes U32(uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_s.GetSpan(4), v);
        _s.Advance(4);
        return this;
    }

    public GgufBytes U64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_s.GetSpan(8), v);
        _s.Advance(8);
        return this;
    }

    public GgufBytes F32(float v) => U32(BitConverter.SingleToUInt32Bits(v));

    public GgufBytes F64(double v) => U64(BitConverter.DoubleToUInt64Bits(v));

    /// <summary>A gguf_string: u64 byte length then UTF-8 bytes.</summary>
    public GgufBytes Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        U64((ulong)bytes.Length);
        return Raw(bytes);
    }

    public GgufBytes Raw(ReadOnlySpan<byte> bytes)
    {
        _s.Write(bytes);
        return this;
    }

    /// <summary>Zero bytes up to the next multiple of <paramref name="alignment"/>.</summary>
    public GgufBytes Pad(long alignment)
    {
        while (Length % alignment != 0) U8(0);
        return this;
    }

    /// <summary>The GGUF fixed header.</summary>
    public GgufBytes Header(uint version, ulong tensors, ulong kvs) => U32(GgufReader.Magic).U32(version).U64(tensors).U64(kvs);

    /// <summary>A metadata key/value pair.</summary>
    public GgufBytes KeyValue(string key, GgufValue v)
    {
        Str(key);
        U32((uint)v.Type);
        v.WritePayload(this);
        return this;
    }

    /// <summary>A tensor info: name, n_dims, ne[] (fastest first), ggml type, data offset.</summary>
    public GgufBytes TensorInfo(string name, ulong[] ne, uint type, ulong offset)
    {
        Str(name);
        U32((uint)ne.Length);
        foreach (var d in ne) U64(d);
        U32(type);
        return U64(offset);
    }

    public byte[] ToArray() => _s.WrittenSpan.ToArray();
}

/// <summary>
/// Writes GGUF v3 (or v2) files: metadata of every value type, tensors of any ggml type with their data laid out
/// at aligned offsets. Shapes are given outermost first (WeightPrint's order) and written as ne[] fastest first.
/// </summary>
internal sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _kvs = [];
    private readonly List<(string Name, ulong[] Ne, uint Type, byte[] Data)> _tensors = [];

    public uint Version { get; init; } = 3;

    /// <summary>Data alignment used for the layout; written as general.alignment (uint32) when not 32.</summary>
    public uint Alignment { get; init; } = GgufReader.DefaultAlignment;

    public GgufWriter Add(string key, GgufValue value)
    {
        _kvs.Add((key, value));
        return this;
    }

    /// <summary>A tensor from raw bytes with ggml dims ne[] (fastest first).</summary>
    public GgufWriter AddRaw(string name, uint ggmlType, ulong[] ne, byte[] data)
    {
        _tensors.Add((name, ne, ggmlType, data));
        return this;
    }

    /// <summary>A tensor of <paramref name="dtype"/> from raw bytes, shape outermost first.</summary>
    public GgufWriter AddTensor(string name, TensorDType dtype, long[] shape, byte[] data)
    {
        var type = GgmlTypes.FromTensorDType(dtype) ?? throw new ArgumentException($"GGUF has no {dtype}");
        return AddRaw(name, (uint)type, [.. shape.Reverse().Select(d => (ulong)d)], data);
    }

    public GgufWriter AddF32(string name, float[] values, params long[] shape)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), values[i]);
        return AddTensor(name, TensorDType.F32, shape, data);
    }

    /// <summary>Quantises <paramref name="values"/> (row-major, rows of shape[^1] elements) with <see cref="GgmlQuantizer"/>.</summary>
    public GgufWriter AddQuantized(string name, TensorDType dtype, float[] values, params long[] shape)
        => AddTensor(name, dtype, shape, GgmlQuantizer.Quantize(dtype, values));

    public byte[] ToArray()
    {
        var kvs = new List<(string Key, GgufValue Value)>(_kvs);
        if (Alignment != GgufReader.DefaultAlignment && !kvs.Any(kv => kv.Key == GgufReader.AlignmentKey))
            kvs.Add((GgufReader.AlignmentKey, GgufValue.U32(Alignment)));
        var b = new GgufBytes().Header(Version, (ulong)_tensors.Count, (ulong)kvs.Count);
        foreach (var (k, v) in kvs) b.KeyValue(k, v);
        ulong offset = 0;
        var offsets = new List<ulong>();
        foreach (var t in _tensors)
        {
            offsets.Add(offset);
            offset += (ulong)t.Data.Length;
            offset = (offset + Alignment - 1) / Alignment * Alignment;
        }

        for (int i = 0; i < _tensors.Count; i++) b.TensorInfo(_tensors[i].Name, _tensors[i].Ne, _tensors[i].Type, offsets[i]);
        b.Pad(Alignment);
        foreach (var t in _tensors)
        {
            b.Raw(t.Data);
            b.Pad(Alignment);
        }

        return b.ToArray();
    }

    public void Write(string path) => File.WriteAllBytes(path, ToArray());
}

/// <summary>
/// Test-side quantisers for the GGML block formats, written from the published block definitions (ggml-common.h
/// layouts): simple min/max or max-abs scaling, not ggml's search-based quantisers, so the values differ from
/// llama.cpp's but the bytes are valid blocks that any correct dequantiser decodes to the same floats.
/// </summary>
public static class GgmlQuantizer
{
    public static byte[] Quantize(TensorDType dtype, ReadOnlySpan<float> x)
    {
        int be = dtype.BlockElements(), bb = dtype.BlockBytes();
        if (be == 1 || x.Length % be != 0) throw new ArgumentException($"{x.Length} values do not fill {dtype} blocks");
        var output = new byte[x.Length / be * bb];
        for (int b = 0; b < x.Length / be; b++)
        {
            var src = x.Slice(b * be, be);
            var dst = output.AsSpan(b * bb, bb);
            switch (dtype)
            {
                case TensorDType.Q8_0: Q8_0(src, dst); break;
                case TensorDType.Q4_0: QSym32(src, dst, bits: 4); break;
                case TensorDType.Q5_0: QSym32(src, dst, bits: 5); break;
                case TensorDType.Q4_1: QAffine32(src, dst, bits: 4); break;
                case TensorDType.Q5_1: QAffine32(src, dst, bits: 5); break;
                case TensorDType.Q2_K: Q2_K(src, dst); break;
                case TensorDType.Q3_K: Q3_K(src, dst); break;
                case TensorDType.Q4_K: Q45_K(src, dst, bits: 4); break;
                case TensorDType.Q5_K: Q45_K(src, dst, bits: 5); break;
                case TensorDType.Q6_K: Q6_K(src, dst); break;
                default: throw new ArgumentException($"no quantiser for {dtype}");
            }
        }

        return output;
    }

    public static ushort ToHalfBits(float v) => BitConverter.HalfToUInt16Bits((Half)v);

    public static float HalfValue(float v) => (float)(Half)v;

    private static void PutHalf(Span<byte> dst, int at, float v) => BinaryPrimitives.WriteUInt16LittleEndian(dst[at..], ToHalfBits(v));

    private static int Clamp(double v, int lo, int hi) => (int)Math.Clamp(Math.Round(v, MidpointRounding.AwayFromZero), lo, hi);

    /// <summary>The element of largest magnitude, with its sign.</summary>
    private static float SignedMaxAbs(ReadOnlySpan<float> x)
    {
        float m = 0;
        foreach (var v in x)
        {
            if (Math.Abs(v) > Math.Abs(m)) m = v;
        }

        return m;
    }

    private static void Q8_0(ReadOnlySpan<float> x, Span<byte> dst)
    {
        float amax = 0;
        foreach (var v in x) amax = Math.Max(amax, Math.Abs(v));
        float d = HalfValue(amax / 127);
        PutHalf(dst, 0, d);
        for (int i = 0; i < 32; i++) dst[2 + i] = (byte)(sbyte)(d == 0 ? 0 : Clamp(x[i] / d, -127, 127));
    }

    /// <summary>Q4_0 / Q5_0: q = x/d + 2^(bits−1), d = −maxabs / 2^(bits−1); low nibbles hold elements 0..15, high 16..31.</summary>
    private static void QSym32(ReadOnlySpan<float> x, Span<byte> dst, int bits)
    {
        int offset = 1 << (bits - 1);
        float d = HalfValue(SignedMaxAbs(x) / -offset);
        PutHalf(dst, 0, d);
        var q = new int[32];
        for (int i = 0; i < 32; i++) q[i] = d == 0 ? offset : Clamp((x[i] / d) + offset, 0, (1 << bits) - 1);
        Pack32(q, dst, bits == 4 ? 2 : 6, bits == 5 ? 2 : -1);
    }

    /// <summary>Q4_1 / Q5_1: q = (x − min)/d, d = (max − min)/(2^bits − 1).</summary>
    private static void QAffine32(ReadOnlySpan<float> x, Span<byte> dst, int bits)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        int levels = (1 << bits) - 1;
        float d = HalfValue((max - min) / levels), m = HalfValue(min);
        PutHalf(dst, 0, d);
        PutHalf(dst, 2, m);
        var q = new int[32];
        for (int i = 0; i < 32; i++) q[i] = d == 0 ? 0 : Clamp((x[i] - m) / d, 0, levels);
        Pack32(q, dst, bits == 4 ? 4 : 8, bits == 5 ? 4 : -1);
    }

    /// <summary>Low nibbles of elements j and j+16 share byte j of qs; the fifth bits go to a little-endian u32 (bit j for element j).</summary>
    private static void Pack32(int[] q, Span<byte> dst, int qsAt, int qhAt)
    {
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            dst[qsAt + j] = (byte)((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
            qh |= (uint)((q[j] >> 4) & 1) << j;
            qh |= (uint)((q[j + 16] >> 4) & 1) << (j + 16);
        }

        if (qhAt >= 0) BinaryPrimitives.WriteUInt32LittleEndian(dst[qhAt..], qh);
    }

    /// <summary>Q2_K: 16 sub-blocks of 16 with a 4-bit scale and 4-bit min each; x ≈ (d·sc)·q − dmin·m, q in 0..3.</summary>
    private static void Q2_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        var (scales, mins, q) = AffineSubBlocks(x, 16, 3, 15);
        for (int j = 0; j < 16; j++) dst[j] = (byte)(scales.Codes[j] | (mins.Codes[j] << 4));
        for (int e = 0; e < 256; e++) dst[16 + (32 * (e / 128)) + (e % 32)] |= (byte)(q[e] << (2 * (e % 128 / 32)));
        PutHalf(dst, 80, scales.Super);
        PutHalf(dst, 82, mins.Super);
    }

    /// <summary>Q3_K: 16 sub-blocks of 16 with signed 6-bit scales (stored +32); q in −4..3 stored as q+4 split
    /// into two low bits (qs) and a high bit (hmask).</summary>
    private static void Q3_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        var sub = new float[16];
        for (int j = 0; j < 16; j++) sub[j] = SignedMaxAbs(x.Slice(16 * j, 16)) / -4f;
        float maxScale = SignedMaxAbs(sub);
        float d = HalfValue(maxScale / -32f);
        var codes = new int[16];
        for (int j = 0; j < 16; j++) codes[j] = d == 0 ? 0 : Clamp(sub[j] / d, -32, 31);
        for (int e = 0; e < 256; e++)
        {
            float s = d * codes[e / 16];
            int q = s == 0 ? 0 : Clamp(x[e] / s, -4, 3);
            int l = q + 4;
            dst[32 + (32 * (e / 128)) + (e % 32)] |= (byte)((l & 3) << (2 * (e % 128 / 32)));
            if ((l & 4) != 0) dst[e % 32] |= (byte)(1 << (e / 32));
        }

        for (int j = 0; j < 16; j++)
        {
            int l = codes[j] + 32;
            if (j < 8) dst[96 + j] |= (byte)(l & 0xF);
            else dst[96 + j - 8] |= (byte)((l & 0xF) << 4);
            dst[96 + 8 + (j % 4)] |= (byte)((l >> 4) << (2 * (j / 4)));
        }

        PutHalf(dst, 108, d);
    }

    /// <summary>Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes.</summary>
    private static void Q45_K(ReadOnlySpan<float> x, Span<byte> dst, int bits)
    {
        int levels = (1 << bits) - 1;
        var (scales, mins, q) = AffineSubBlocks(x, 32, levels, 63);
        PutHalf(dst, 0, scales.Super);
        PutHalf(dst, 2, mins.Super);
        for (int j = 0; j < 8; j++)
        {
            int sc = scales.Codes[j], m = mins.Codes[j];
            if (j < 4)
            {
                dst[4 + j] |= (byte)sc;
                dst[4 + j + 4] |= (byte)m;
            }
            else
            {
                dst[4 + j + 4] |= (byte)((sc & 0xF) | ((m & 0xF) << 4));
                dst[4 + j - 4] |= (byte)((sc >> 4) << 6);
                dst[4 + j] |= (byte)((m >> 4) << 6);
            }
        }

        int qsAt = bits == 4 ? 16 : 48;
        for (int e = 0; e < 256; e++)
        {
            int c = e / 64, half = e % 64 / 32, l = e % 32;
            dst[qsAt + (32 * c) + l] |= (byte)((q[e] & 0xF) << (4 * half));
            if (bits == 5 && (q[e] & 16) != 0) dst[16 + l] |= (byte)(1 << (e / 32));
        }
    }

    /// <summary>Q6_K: 16 sub-blocks of 16 with int8 scales; q in −32..31 stored as q+32 in four low bits (ql) and
    /// two high bits (qh).</summary>
    private static void Q6_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        var sub = new float[16];
        for (int j = 0; j < 16; j++) sub[j] = SignedMaxAbs(x.Slice(16 * j, 16)) / -32f;
        float d = HalfValue(Math.Abs(SignedMaxAbs(sub)) / 127f);
        var codes = new int[16];
        for (int j = 0; j < 16; j++) codes[j] = d == 0 ? 0 : Clamp(sub[j] / d, -128, 127);
        for (int e = 0; e < 256; e++)
        {
            float s = d * codes[e / 16];
            int l = (s == 0 ? 0 : Clamp(x[e] / s, -32, 31)) + 32;
            int n = e / 128, k = e % 128 / 32, i = e % 32;
            dst[(64 * n) + i + (32 * (k % 2))] |= (byte)((l & 0xF) << (k < 2 ? 0 : 4));
            dst[128 + (32 * n) + i] |= (byte)((l >> 4) << (2 * k));
        }

        for (int j = 0; j < 16; j++) dst[192 + j] = (byte)(sbyte)codes[j];
        PutHalf(dst, 208, d);
    }

    private sealed record SuperScale(float Super, int[] Codes);

    /// <summary>Splits a 256-block into sub-blocks of <paramref name="size"/>, fits x ≈ s·q − m per sub-block with
    /// q in 0..levels and m ≥ 0, then quantises s and m against two fp16 super-scales with codes in 0..codeMax.</summary>
    private static (SuperScale Scales, SuperScale Mins, int[] Q) AffineSubBlocks(ReadOnlySpan<float> x, int size, int levels, int codeMax)
    {
        int count = 256 / size;
        var s = new float[count];
        var m = new float[count];
        for (int j = 0; j < count; j++)
        {
            float lo = 0, hi = float.MinValue;
            foreach (var v in x.Slice(j * size, size))
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }

            s[j] = Math.Max(0, hi - lo) / levels;
            m[j] = -lo;
        }

        float d = HalfValue(s.Max() / codeMax), dmin = HalfValue(m.Max() / codeMax);
        var sc = new int[count];
        var mc = new int[count];
        for (int j = 0; j < count; j++)
        {
            sc[j] = d == 0 ? 0 : Clamp(s[j] / d, 0, codeMax);
            mc[j] = dmin == 0 ? 0 : Clamp(m[j] / dmin, 0, codeMax);
        }

        var q = new int[256];
        for (int e = 0; e < 256; e++)
        {
            float step = d * sc[e / size], offset = dmin * mc[e / size];
            q[e] = step == 0 ? 0 : Clamp((x[e] + offset) / step, 0, levels);
        }

        return (new SuperScale(d, sc), new SuperScale(dmin, mc), q);
    }
}
