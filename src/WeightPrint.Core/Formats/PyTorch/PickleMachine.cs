using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.PyTorch;

/// <summary>
/// A pickle interpreter that only builds data (protocols 2–5, binary opcodes). It never imports or calls
/// anything: GLOBAL / STACK_GLOBAL resolve against a fixed allow-list (OrderedDict, torch tensor and parameter
/// rebuilders, torch storage classes and dtypes, torch.Size, set/frozenset) and any other name refuses the whole
/// file. The allow-listed callables are emulated. Every resource is capped (opcodes, stack, MARK depth, memo,
/// container sizes, total values), so hostile pickles fail fast with <see cref="InvalidModelFileException"/>.
/// </summary>
internal sealed class PickleMachine
{
    private static readonly Dictionary<string, TensorDType?> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = TensorDType.F32,
        ["HalfStorage"] = TensorDType.F16,
        ["BFloat16Storage"] = TensorDType.BF16,
        ["DoubleStorage"] = TensorDType.F64,
        ["LongStorage"] = TensorDType.I64,
        ["IntStorage"] = TensorDType.I32,
        ["ShortStorage"] = TensorDType.I16,
        ["CharStorage"] = TensorDType.I8,
        ["ByteStorage"] = TensorDType.U8,
        ["BoolStorage"] = TensorDType.Bool,
        ["UntypedStorage"] = TensorDType.U8,
        ["ComplexFloatStorage"] = null,
        ["ComplexDoubleStorage"] = null,
        ["QInt8Storage"] = null,
        ["QUInt8Storage"] = null,
        ["QInt32Storage"] = null,
        ["QUInt4x2Storage"] = null,
        ["QUInt2x4Storage"] = null,
    };

    private static readonly Dictionary<string, TensorDType?> DTypes = new(StringComparer.Ordinal)
    {
        ["float32"] = TensorDType.F32,
        ["float"] = TensorDType.F32,
        ["float16"] = TensorDType.F16,
        ["half"] = TensorDType.F16,
        ["bfloat16"] = TensorDType.BF16,
        ["float64"] = TensorDType.F64,
        ["double"] = TensorDType.F64,
        ["int64"] = TensorDType.I64,
        ["long"] = TensorDType.I64,
        ["int32"] = TensorDType.I32,
        ["int"] = TensorDType.I32,
        ["int16"] = TensorDType.I16,
        ["short"] = TensorDType.I16,
        ["int8"] = TensorDType.I8,
        ["uint8"] = TensorDType.U8,
        ["bool"] = TensorDType.Bool,
        ["float8_e4m3fn"] = TensorDType.F8_E4M3,
        ["float8_e5m2"] = TensorDType.F8_E5M2,
        ["complex32"] = null,
        ["complex64"] = null,
        ["complex128"] = null,
        ["cfloat"] = null,
        ["cdouble"] = null,
        ["chalf"] = null,
        ["uint16"] = null,
        ["uint32"] = null,
        ["uint64"] = null,
        ["qint8"] = null,
        ["quint8"] = null,
        ["qint32"] = null,
        ["float8_e4m3fnuz"] = null,
        ["float8_e5m2fnuz"] = null,
    };

    private static readonly Dictionary<string, PickleCallable> Callables = new(StringComparer.Ordinal)
    {
        ["collections.OrderedDict"] = PickleCallable.OrderedDict,
        ["torch._utils._rebuild_tensor_v2"] = PickleCallable.RebuildTensorV2,
        ["torch._utils._rebuild_tensor"] = PickleCallable.RebuildTensor,
        ["torch._utils._rebuild_parameter"] = PickleCallable.RebuildParameter,
        ["torch._utils._rebuild_parameter_with_state"] = PickleCallable.RebuildParameterWithState,
        ["torch.Size"] = PickleCallable.TorchSize,
        ["builtins.set"] = PickleCallable.Set,
        ["__builtin__.set"] = PickleCallable.Set,
        ["builtins.frozenset"] = PickleCallable.FrozenSet,
        ["__builtin__.frozenset"] = PickleCallable.FrozenSet,
    };

    private static readonly object True = true;
    private static readonly object False = false;
    private static readonly object[] SmallInts = Enumerable.Range(0, 256).Select(i => (object)(long)i).ToArray();

    private readonly string _file;
    private readonly string _what;
    private readonly byte[] _data;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<uint, object?> _memo = [];
    private int _pos;
    private int _opStart;
    private long _opcodes;
    private long _values;

    private PickleMachine(string file, string what, byte[] data)
    {
        _file = file;
        _what = what;
        _data = data;
    }

    /// <summary>Runs the pickle in <paramref name="data"/> and returns the value it builds.</summary>
    /// <param name="file">The file named in errors.</param>
    /// <param name="what">Where the pickle is inside the file (for example <c>archive/data.pkl</c>).</param>
    /// <param name="data">The pickle's bytes.</param>
    public static object? Load(string file, string what, byte[] data) => new PickleMachine(file, what, data).Run();

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Fail("pickle ends without a STOP opcode (truncated)");
            _opStart = _pos;
            if (++_opcodes > TorchArchiveReader.MaxPickleOpcodes)
                throw Fail($"pickle runs more than {TorchArchiveReader.MaxPickleOpcodes} opcodes");
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                {
                    int v = U8();
                    if (v > 5) throw Fail($"unsupported pickle protocol {v}");
                    break;
                }

                case 0x95: // FRAME: framing is transparent to a reader holding the whole pickle
                {
                    ulong n = U64();
                    if (n > (ulong)(_data.Length - _pos)) throw Fail($"pickle frame of {n} bytes runs past the end");
                    break;
                }

                case 0x2e: // STOP
                    return Pop();

                case 0x28: // MARK
                    if (_marks.Count >= TorchArchiveReader.MaxPickleMarkDepth)
                        throw Fail($"pickle nests MARKs deeper than {TorchArchiveReader.MaxPickleMarkDepth}");
                    _marks.Add(_stack.Count);
                    break;

                case 0x30: // POP
                    if (_marks.Count > 0 && _marks[^1] == _stack.Count) _marks.RemoveAt(_marks.Count - 1);
                    else Pop();
                    break;

                case 0x31: // POP_MARK
                    PopMark();
                    break;

                case 0x32: // DUP
                    Push(Peek());
                    break;

                case 0x4e: Push(null); break; // NONE
                case 0x88: Push(True); break; // NEWTRUE
                case 0x89: Push(False); break; // NEWFALSE
                case 0x4b: Push(SmallInts[U8()]); break; // BININT1
                case 0x4d: PushNew((long)U16()); break; // BININT2
                case 0x4a: PushNew((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case 0x8a: PushNew(Long(U8())); break; // LONG1
                case 0x8b: // LONG4
                {
                    int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                    if (n < 0 || n > TorchArchiveReader.MaxPickleLongBytes) throw Fail($"pickle integer of {n} bytes exceeds the {TorchArchiveReader.MaxPickleLongBytes}-byte limit");
                    PushNew(Long(n));
                    break;
                }

                case 0x47: PushNew(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case 0x58: PushNew(Utf8(U32())); break; // BINUNICODE
                case 0x8c: PushNew(Utf8((ulong)U8())); break; // SHORT_BINUNICODE
                case 0x8d: PushNew(Utf8(U64())); break; // BINUNICODE8
                case 0x42: PushNew(Bytes(U32())); break; // BINBYTES
                case 0x43: PushNew(Bytes((ulong)U8())); break; // SHORT_BINBYTES
                case 0x8e: PushNew(Bytes(U64())); break; // BINBYTES8
                case 0x96: PushNew(Bytes(U64())); break; // BYTEARRAY8
                case 0x54: PushNew(Latin1(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))); break; // BINSTRING
                case 0x55: PushNew(Latin1(U8())); break; // SHORT_BINSTRING

                case 0x7d: PushNew(new PickleDict()); break; // EMPTY_DICT
                case 0x5d: PushNew(new PickleList([])); break; // EMPTY_LIST
                case 0x8f: PushNew(new PickleList([])); break; // EMPTY_SET
                case 0x29: Push(PickleTuple.Empty); break; // EMPTY_TUPLE
                case 0x85: PushNew(new PickleTuple(PopN(1))); break; // TUPLE1
                case 0x86: PushNew(new PickleTuple(PopN(2))); break; // TUPLE2
                case 0x87: PushNew(new PickleTuple(PopN(3))); break; // TUPLE3
                case 0x74: PushNew(new PickleTuple(PopMark())); break; // TUPLE
                case 0x91: PushNew(new PickleList([.. PopMark()])); break; // FROZENSET

                case 0x6c: // LIST
                {
                    var items = PopMark();
                    Charge(items.Length);
                    PushNew(new PickleList([.. items]));
                    break;
                }

                case 0x64: // DICT
                {
                    var items = PopMark();
                    var dict = new PickleDict();
                    SetItems(dict, items);
                    PushNew(dict);
                    break;
                }

                case 0x61: // APPEND
                {
                    object? item = Pop();
                    Append(Peek(), [item]);
                    break;
                }

                case 0x65: // APPENDS
                case 0x90: // ADDITEMS
                {
                    var items = PopMark();
                    Append(Peek(), items);
                    break;
                }

                case 0x73: // SETITEM
                {
                    object? value = Pop();
                    object? key = Pop();
                    SetItems(Peek(), [key, value]);
                    break;
                }

                case 0x75: // SETITEMS
                {
                    var items = PopMark();
                    SetItems(Peek(), items);
                    break;
                }

                case 0x71: Put((uint)U8()); break; // BINPUT
                case 0x72: Put(U32()); break; // LONG_BINPUT
                case 0x94: Put((uint)_memo.Count); break; // MEMOIZE
                case 0x68: Get((uint)U8()); break; // BINGET
                case 0x6a: Get(U32()); break; // LONG_BINGET

                case 0x63: // GLOBAL module\nname\n
                {
                    string module = Line();
                    string name = Line();
                    PushNew(Resolve(module, name));
                    break;
                }

                case 0x93: // STACK_GLOBAL
                {
                    object? name = Pop();
                    object? module = Pop();
                    if (module is not string m || name is not string n) throw Fail("STACK_GLOBAL needs two strings");
                    PushNew(Resolve(m, n));
                    break;
                }

                case 0x52: // REDUCE
                {
                    object? args = Pop();
                    object? callable = Pop();
                    PushNew(Call(callable, args));
                    break;
                }

                case 0x81: // NEWOBJ
                {
                    object? args = Pop();
                    object? cls = Pop();
                    PushNew(Call(cls, args));
                    break;
                }

                case 0x92: // NEWOBJ_EX
                {
                    object? kwargs = Pop();
                    object? args = Pop();
                    object? cls = Pop();
                    if (kwargs is not PickleDict { Items.Count: 0 }) throw Fail("NEWOBJ_EX with keyword arguments is not supported");
                    PushNew(Call(cls, args));
                    break;
                }

                case 0x62: // BUILD: the state (an OrderedDict's _metadata, a parameter's attributes) is ignored
                    Pop();
                    Peek();
                    break;

                case 0x51: // BINPERSID
                    PushNew(PersistentLoad(Pop()));
                    break;

                case 0x97 or 0x98:
                    throw Fail("out-of-band pickle buffers are not supported");
                case 0x82 or 0x83 or 0x84:
                    throw Fail("pickle extension-registry opcodes (EXT1/2/4) are not supported");
                case 0x69 or 0x6f:
                    throw Fail("protocol-0 object opcodes (INST, OBJ) are not supported");
                default:
                    if (op is >= 0x20 and < 0x7f)
                        throw Fail($"pickle opcode '{(char)op}' (0x{op:x2}, a protocol-0 text opcode) is not supported");
                    throw Fail($"unknown pickle opcode 0x{op:x2}");
            }
        }
    }

    private object Resolve(string module, string name)
    {
        string qualified = module + "." + name;
        if (Callables.TryGetValue(qualified, out var kind)) return new PickleFunction(qualified, kind);
        if (module == "torch" || (module == "torch.storage" && name == "UntypedStorage"))
        {
            if (StorageTypes.TryGetValue(name, out var storage)) return new TorchTypeValue(qualified, storage, IsStorage: true);
            if (module == "torch" && DTypes.TryGetValue(name, out var dtype)) return new TorchTypeValue(qualified, dtype, IsStorage: false);
        }

        throw Fail($"pickle global {ZipDirectory.Quote(qualified).Trim('\'')} is not allowed (pickles are data and are never executed)");
    }

    private object? Call(object? callable, object? args)
    {
        if (callable is not PickleFunction f) throw Fail($"pickle calls a {TypeName(callable)}, which is not an allowed function");
        if (args is not PickleTuple t) throw Fail($"pickle calls {f.QualifiedName} with {TypeName(args)} arguments instead of a tuple");
        var a = t.Items;
        switch (f.Kind)
        {
            case PickleCallable.OrderedDict:
            {
                var dict = new PickleDict();
                if (a.Length == 0) return dict;
                if (a.Length == 1 && a[0] is PickleList or PickleTuple)
                {
                    foreach (var pair in Items(a[0]))
                    {
                        if (pair is not PickleTuple { Items.Length: 2 } p) throw Fail("OrderedDict argument is not a list of pairs");
                        SetItems(dict, p.Items);
                    }

                    return dict;
                }

                throw Fail("unsupported OrderedDict arguments");
            }

            case PickleCallable.RebuildTensorV2:
                if (a.Length is < 6 or > 7) throw Fail($"{f.QualifiedName} takes 6 or 7 arguments, got {a.Length}");
                return Tensor(f, a);
            case PickleCallable.RebuildTensor:
                if (a.Length != 4) throw Fail($"{f.QualifiedName} takes 4 arguments, got {a.Length}");
                return Tensor(f, a);
            case PickleCallable.RebuildParameter:
            case PickleCallable.RebuildParameterWithState:
                if (a.Length != (f.Kind == PickleCallable.RebuildParameter ? 3 : 4) || a[0] is not TorchTensorValue)
                    throw Fail($"{f.QualifiedName} needs a tensor and {(f.Kind == PickleCallable.RebuildParameter ? 2 : 3)} more arguments");
                return a[0];
            case PickleCallable.TorchSize:
                if (a.Length == 0) return PickleTuple.Empty;
                if (a.Length == 1 && a[0] is PickleTuple size) return size;
                if (a.Length == 1 && a[0] is PickleList list)
                {
                    Charge(list.Items.Count);
                    return new PickleTuple([.. list.Items]);
                }

                throw Fail("torch.Size needs a tuple of integers");
            case PickleCallable.Set:
            case PickleCallable.FrozenSet:
            {
                if (a.Length == 0) return new PickleList([]);
                if (a.Length != 1 || a[0] is not (PickleList or PickleTuple)) throw Fail($"{f.QualifiedName} needs one list argument");
                var items = Items(a[0]);
                Charge(items.Count);
                return new PickleList([.. items]);
            }

            default:
                throw Fail($"{f.QualifiedName} cannot be called");
        }
    }

    /// <summary><c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])</c>.</summary>
    private TorchTensorValue Tensor(PickleFunction f, object?[] a)
    {
        if (a[0] is not TorchStorageRef storage) throw Fail($"{f.QualifiedName}: first argument is a {TypeName(a[0])}, not a storage");
        if (a[1] is not long offset || offset < 0) throw Fail($"{f.QualifiedName}: storage offset must be a non-negative integer");
        long[] shape = Ints(f, a[2], "size");
        long[] strides = Ints(f, a[3], "stride");
        if (shape.Length != strides.Length) throw Fail($"{f.QualifiedName}: size has {shape.Length} dimensions but stride has {strides.Length}");
        if (shape.Length > TorchArchiveReader.MaxTensorRank) throw Fail($"tensor has {shape.Length} dimensions, more than {TorchArchiveReader.MaxTensorRank}");
        try
        {
            checked
            {
                long last = offset; // index of the last element addressed, when the view is not empty
                bool empty = false;
                for (int d = 0; d < shape.Length; d++)
                {
                    if (shape[d] < 0) throw Fail($"tensor size has a negative dimension {shape[d]}");
                    if (strides[d] < 0) throw Fail($"tensor stride has a negative value {strides[d]}");
                    if (shape[d] == 0) empty = true;
                    else last += (shape[d] - 1) * strides[d];
                }

                long count = 1;
                foreach (long d in shape) count *= d;
                _ = count * 8; // the element count and its byte length must be representable (stride-0 views can be huge)
                if (empty ? offset > storage.Numel : last >= storage.Numel)
                    throw Fail($"tensor view (offset {offset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}]) does not fit in storage {ZipDirectory.Quote(storage.Key)} of {storage.Numel} elements");
            }
        }
        catch (OverflowException)
        {
            throw Fail($"tensor view (offset {offset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}]) overflows");
        }

        return new TorchTensorValue(storage, offset, shape, strides);
    }

    private long[] Ints(PickleFunction f, object? value, string what)
    {
        if (value is not PickleTuple t) throw Fail($"{f.QualifiedName}: {what} is a {TypeName(value)}, not a tuple");
        var result = new long[t.Items.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = t.Items[i] as long? ?? throw Fail($"{f.QualifiedName}: {what} holds a {TypeName(t.Items[i])}, not an integer");
        return result;
    }

    /// <summary>torch's persistent id for a storage: ('storage', storage type or dtype, key, location, numel).</summary>
    private TorchStorageRef PersistentLoad(object? pid)
    {
        if (pid is not PickleTuple { Items.Length: 5 } t || t.Items[0] is not "storage")
            throw Fail($"persistent id is not a torch storage reference ('storage', type, key, location, numel)");
        if (t.Items[1] is not TorchTypeValue type) throw Fail($"storage type is a {TypeName(t.Items[1])}, not a torch storage class or dtype");
        if (type.DType is not { } dtype) throw Fail($"storage type {type.QualifiedName} is not supported");
        string key = t.Items[2] switch
        {
            string s => s,
            long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw Fail("storage key is not a string"),
        };
        string location = t.Items[3] as string ?? throw Fail("storage location is not a string");
        if (t.Items[4] is not long numel || numel < 0) throw Fail("storage element count is not a non-negative integer");
        return new TorchStorageRef(key, dtype, location, numel);
    }

    private void SetItems(object? target, object?[] keyValues)
    {
        if (target is not PickleDict dict) throw Fail($"SETITEM(S) on a {TypeName(target)}");
        if (keyValues.Length % 2 != 0) throw Fail("SETITEMS with an odd number of items");
        if (dict.Items.Count + keyValues.Length / 2 > TorchArchiveReader.MaxPickleContainerItems)
            throw Fail($"pickle dict holds more than {TorchArchiveReader.MaxPickleContainerItems} items");
        Charge(keyValues.Length / 2);
        for (int i = 0; i < keyValues.Length; i += 2)
        {
            object? key = keyValues[i];
            // Hashing is linear in a string's length: very long keys are kept but not indexed, so a hostile pickle
            // cannot make every SETITEM cost a multi-megabyte hash.
            if (key is string s && s.Length > TorchArchiveReader.MaxNameLength) dict.Items.Add(new(key, keyValues[i + 1]));
            else dict.Set(key, keyValues[i + 1]);
        }
    }

    private void Append(object? target, object?[] items)
    {
        if (target is not PickleList list) throw Fail($"APPEND(S) on a {TypeName(target)}");
        if (list.Items.Count + items.Length > TorchArchiveReader.MaxPickleContainerItems)
            throw Fail($"pickle list holds more than {TorchArchiveReader.MaxPickleContainerItems} items");
        Charge(items.Length);
        list.Items.AddRange(items);
    }

    private static IReadOnlyList<object?> Items(object? sequence) => sequence switch
    {
        PickleList l => l.Items,
        PickleTuple t => t.Items,
        _ => [],
    };

    private void Put(uint index)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count)) throw Fail("memo PUT with an empty stack");
        if (!_memo.ContainsKey(index) && _memo.Count >= TorchArchiveReader.MaxPickleMemo)
            throw Fail($"pickle memo holds more than {TorchArchiveReader.MaxPickleMemo} entries");
        _memo[index] = _stack[^1];
    }

    private void Get(uint index)
    {
        if (!_memo.TryGetValue(index, out object? value)) throw Fail($"memo GET of missing entry {index}");
        Push(value);
    }

    private void Push(object? value)
    {
        if (_stack.Count >= TorchArchiveReader.MaxPickleStack)
            throw Fail($"pickle stack grows beyond {TorchArchiveReader.MaxPickleStack} items");
        _stack.Add(value);
    }

    /// <summary>Pushes a newly built value, charging it to the value budget.</summary>
    private void PushNew(object? value)
    {
        Charge(1);
        Push(value);
    }

    private void Charge(long n)
    {
        _values += n;
        if (_values > TorchArchiveReader.MaxPickleValues)
            throw Fail($"pickle builds more than {TorchArchiveReader.MaxPickleValues} values");
    }

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Fail("pickle stack underflow");
        object? v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Fail("pickle stack underflow");
        return _stack[^1];
    }

    private object?[] PopN(int n)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - floor < n) throw Fail("pickle stack underflow");
        var items = _stack.GetRange(_stack.Count - n, n).ToArray();
        _stack.RemoveRange(_stack.Count - n, n);
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Fail("pickle opcode needs a MARK but there is none");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        int n = _stack.Count - mark;
        if (n > TorchArchiveReader.MaxPickleContainerItems)
            throw Fail($"pickle container holds more than {TorchArchiveReader.MaxPickleContainerItems} items");
        var items = _stack.GetRange(mark, n).ToArray();
        _stack.RemoveRange(mark, n);
        return items;
    }

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Fail($"pickle argument of {n} bytes runs past the end (truncated)");
        var span = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return span;
    }

    private int U8() => Take(1)[0];

    private int U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    private uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    private ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    private string Utf8(ulong n)
    {
        var bytes = Take(n > int.MaxValue ? -1 : (long)n);
        try
        {
            return ByteCursor.Utf8Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // Python writes lone surrogates with 'surrogatepass'; such a string is not a tensor name: keep it readable.
            return Encoding.UTF8.GetString(bytes);
        }
    }

    private byte[] Bytes(ulong n) => Take(n > int.MaxValue ? -1 : (long)n).ToArray();

    private string Latin1(long n) => Encoding.Latin1.GetString(Take(n));

    private object Long(int n)
    {
        var bytes = Take(n);
        if (n == 0) return 0L;
        if (n <= 8)
        {
            long v = 0;
            for (int i = n - 1; i >= 0; i--) v = (v << 8) | bytes[i];
            int shift = 64 - 8 * n;
            return shift == 0 ? v : (v << shift) >> shift; // sign-extend
        }

        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(_data.Length - _pos, 1024));
        if (end < 0) throw Fail("GLOBAL name is not terminated by a newline within 1024 bytes");
        string s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private static string TypeName(object? v) => v switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PickleList => "list",
        PickleTuple => "tuple",
        PickleDict => "dict",
        PickleFunction f => f.QualifiedName,
        TorchTypeValue t => t.QualifiedName,
        TorchStorageRef => "storage",
        TorchTensorValue => "tensor",
        _ => "value",
    };

    private InvalidModelFileException Fail(string problem) => new(_file, $"{_what} at byte {_opStart}: {problem}");
}
