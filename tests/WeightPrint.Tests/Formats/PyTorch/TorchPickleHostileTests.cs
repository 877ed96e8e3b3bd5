using System.Diagnostics;
using WeightPrint.Formats;
using WeightPrint.Formats.PyTorch;
using WeightPrint.IO;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.PyTorch;

/// <summary>Hostile pickles inside otherwise valid torch archives, built opcode by opcode.</summary>
public class TorchPickleHostileTests
{
    private static InvalidModelFileException Load(byte[] pickle, TorchZipWriter? writer = null)
    {
        writer ??= new TorchZipWriter().AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, [1, 2, 3, 4]));
        using var source = new MemoryByteSource("evil.pt", writer.BuildWithPickle(pickle, out _));
        return Assert.Throws<InvalidModelFileException>(() => TorchArchiveReader.ReadTensors(source));
    }

    /// <summary>Loads a hostile pickle; a generous wall-clock guard catches hangs (the machine may be loaded),
    /// and <paramref name="failsBeforeByte"/>, when given, checks deterministically that the machine stopped early.</summary>
    private static InvalidModelFileException LoadFast(byte[] pickle, long failsBeforeByte = -1)
    {
        var watch = Stopwatch.StartNew();
        var e = Load(pickle);
        Assert.True(watch.ElapsedMilliseconds < 60_000, $"took {watch.ElapsedMilliseconds} ms");
        if (failsBeforeByte >= 0)
        {
            var m = System.Text.RegularExpressions.Regex.Match(e.Message, @"at byte (\d+):");
            Assert.True(m.Success, e.Message);
            Assert.True(long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < failsBeforeByte, e.Message);
        }

        return e;
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "exec")]
    [InlineData("builtins", "getattr")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("torch.serialization", "load")]
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    public void Dangerous_globals_are_refused_by_name_and_nothing_runs(string module, string name)
    {
        string marker = Path.Combine(Path.GetTempPath(), "weightprint-pwned-" + Guid.NewGuid().ToString("N"));
        var p = new PickleWriter();
        p.Proto(2).Global(module, name).Str("touch " + marker).Tuple(1).Reduce().Stop();
        var e = Load(p.ToArray());
        Assert.Contains($"pickle global {module}.{name} is not allowed (pickles are data and are never executed)", e.Message);
        Assert.Contains("evil.pt", e.Message);
        Assert.Contains("archive/data.pkl at byte 2", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Stack_global_is_checked_against_the_same_allow_list()
    {
        var p = new PickleWriter { Memoize = false };
        p.Proto(4).StackGlobal("builtins", "eval").ShortStr("__import__('os').system('id')").Raw(0x85).Raw((byte)'R').Stop();
        Assert.Contains("pickle global builtins.eval is not allowed", Load(p.ToArray()).Message);
    }

    [Fact]
    public void A_global_hidden_inside_a_valid_state_dict_is_refused()
    {
        // A real-looking state dict whose second value is built by os.system.
        var w = new TorchZipWriter().AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, [1, 2]));
        var p = new PickleWriter();
        p.Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        p.Str("ok").Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(2).TupleFromMark().BinPersId();
        p.Int(0).IntTuple([2]).IntTuple([1]).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce().TupleFromMark().Reduce();
        p.Str("evil").Global("os", "system").Str("id").Tuple(1).Reduce();
        p.SetItems().Stop();
        Assert.Contains("pickle global os.system is not allowed", Load(p.ToArray(), w).Message);
    }

    [Fact]
    public void Calling_a_value_that_is_not_an_allowed_function_is_refused()
    {
        // REDUCE on a storage class (allowed as a value, never as a callable) and on a string.
        var p = new PickleWriter();
        p.Proto(2).Global("torch", "FloatStorage").EmptyTuple().Reduce().Stop();
        Assert.Contains("not an allowed function", Load(p.ToArray()).Message);
        p = new PickleWriter();
        p.Proto(2).Str("os.system").EmptyTuple().Reduce().Stop();
        Assert.Contains("not an allowed function", Load(p.ToArray()).Message);
    }

    [Fact]
    public void Mark_flood_fails_fast()
    {
        var bytes = new byte[10_000_002];
        bytes[0] = 0x80;
        bytes[1] = 2;
        bytes.AsSpan(2).Fill((byte)'(');
        Assert.Contains($"MARKs deeper than {TorchArchiveReader.MaxPickleMarkDepth}", LoadFast(bytes, failsBeforeByte: TorchArchiveReader.MaxPickleMarkDepth + 3).Message);
    }

    [Fact]
    public void Stack_flood_fails_fast()
    {
        var bytes = new byte[3_000_002];
        bytes[0] = 0x80;
        bytes[1] = 2;
        bytes.AsSpan(2).Fill((byte)'N');
        Assert.Contains($"stack grows beyond {TorchArchiveReader.MaxPickleStack}", LoadFast(bytes, failsBeforeByte: TorchArchiveReader.MaxPickleStack + 3).Message);
    }

    [Fact]
    public void Memo_flood_fails_fast()
    {
        var bytes = new byte[TorchArchiveReader.MaxPickleMemo + 10];
        bytes[0] = 0x80;
        bytes[1] = 4;
        bytes[2] = (byte)'N';
        bytes.AsSpan(3).Fill(0x94); // MEMOIZE, each into a new slot
        Assert.Contains($"memo holds more than {TorchArchiveReader.MaxPickleMemo}", LoadFast(bytes, failsBeforeByte: TorchArchiveReader.MaxPickleMemo + 4).Message);
    }

    [Fact]
    public void Opcode_budget_stops_an_endless_pickle()
    {
        // NONE, POP forever: no stack growth, no memo, only opcodes.
        var bytes = new byte[TorchArchiveReader.MaxPickleOpcodes + 4];
        bytes[0] = 0x80;
        bytes[1] = 2;
        for (int i = 2; i + 1 < bytes.Length; i += 2)
        {
            bytes[i] = (byte)'N';
            bytes[i + 1] = (byte)'0';
        }

        Assert.Contains($"more than {TorchArchiveReader.MaxPickleOpcodes} opcodes", LoadFast(bytes, failsBeforeByte: TorchArchiveReader.MaxPickleOpcodes + 3).Message);
    }

    [Fact]
    public void List_growth_is_capped()
    {
        // EMPTY_LIST, then (NONE, APPEND) forever: one list grows while the stack stays at one item.
        var bytes = new byte[2L * TorchArchiveReader.MaxPickleContainerItems + 10];
        bytes[0] = 0x80;
        bytes[1] = 2;
        bytes[2] = (byte)']';
        for (int i = 3; i + 1 < bytes.Length; i += 2)
        {
            bytes[i] = (byte)'N';
            bytes[i + 1] = (byte)'a';
        }

        var e = LoadFast(bytes, failsBeforeByte: 2L * TorchArchiveReader.MaxPickleContainerItems + 6);
        Assert.Contains($"list holds more than {TorchArchiveReader.MaxPickleContainerItems} items", e.Message);
    }

    [Fact]
    public void Deep_tuple_nesting_fails_fast_without_recursion()
    {
        // ((((0,),),)…) a million levels deep, built without MARK.
        var bytes = new byte[1_000_006];
        bytes[0] = 0x80;
        bytes[1] = 2;
        bytes[2] = (byte)'K';
        bytes[3] = 0;
        bytes.AsSpan(4, 1_000_001).Fill(0x85); // TUPLE1
        bytes[^1] = (byte)'.';
        Assert.Contains($"deeper than {TorchArchiveReader.MaxNestingDepth} levels", LoadFast(bytes).Message);
    }

    [Fact]
    public void Deep_dict_nesting_through_the_memo_fails_fast()
    {
        // d0 = {}; d1 = {}; d0['a'] = d1; d2 = {}; d1['a'] = d2; … 20 000 levels.
        var p = new PickleWriter { Memoize = false };
        p.Proto(2).Raw((byte)'}', (byte)'r', 0, 0, 0, 0); // root in memo 0
        for (uint i = 0; i < 20_000; i++)
        {
            p.Raw((byte)'j').Raw(BitConverter.GetBytes(i)); // LONG_BINGET parent
            p.ShortStr("a").Raw((byte)'}', (byte)'r').Raw(BitConverter.GetBytes(i + 1)); // child into memo i+1
            p.Raw((byte)'s', (byte)'0'); // SETITEM, POP the parent
        }

        p.Raw((byte)'j', 0, 0, 0, 0).Stop();
        Assert.Contains($"deeper than {TorchArchiveReader.MaxNestingDepth} levels", LoadFast(p.ToArray()).Message);
    }

    [Fact]
    public void A_dict_that_contains_itself_does_not_hang()
    {
        // d = {}; d['self'] = d; d['w'] = tensor: the cycle is skipped, the tensor is found.
        var w = new TorchZipWriter().AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, [1, 2]));
        var p = new PickleWriter();
        p.Proto(2).EmptyDict().Str("self").Get(0).SetItem();
        p.Str("w").Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(2).TupleFromMark().BinPersId();
        p.Int(0).IntTuple([2]).IntTuple([1]).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce().TupleFromMark().Reduce();
        p.SetItem().Stop();
        using var source = new MemoryByteSource("cycle.pt", w.BuildWithPickle(p.ToArray(), out _));
        var t = Assert.Single(TorchArchiveReader.ReadTensors(source));
        Assert.Equal("w", t.Name);
    }

    [Fact]
    public void Truncated_pickle_and_unknown_opcodes_are_reported()
    {
        Assert.Contains("without a STOP", Load([0x80, 2, (byte)'}']).Message);
        Assert.Contains("unknown pickle opcode 0xff", Load([0x80, 2, 0xff]).Message);
        Assert.Contains("protocol-0 text opcode", Load([0x80, 2, (byte)'I', (byte)'1', (byte)'\n', (byte)'.']).Message);
        Assert.Contains("unsupported pickle protocol 9", Load([0x80, 9, (byte)'N', (byte)'.']).Message);
        Assert.Contains("runs past the end", Load([0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f, (byte)'a']).Message);
        Assert.Contains("stack underflow", Load([0x80, 2, (byte)'s', (byte)'.']).Message);
        Assert.Contains("memo GET of missing entry 7", Load([0x80, 2, (byte)'h', 7, (byte)'.']).Message);
    }

    [Fact]
    public void Persistent_ids_other_than_torch_storages_are_refused()
    {
        var p = new PickleWriter();
        p.Proto(2).Str("not a storage").BinPersId().Stop();
        Assert.Contains("persistent id is not a torch storage reference", Load(p.ToArray()).Message);
        p = new PickleWriter();
        p.Proto(2).Mark().Str("storage").Global("torch", "ComplexFloatStorage").Str("0").Str("cpu").Int(1).TupleFromMark().BinPersId().Stop();
        Assert.Contains("storage type torch.ComplexFloatStorage is not supported", Load(p.ToArray()).Message);
    }

    private static byte[] TensorPickle(string key, long numel, long offset, long[] shape, long[] strides)
    {
        var p = new PickleWriter();
        p.Proto(2).EmptyDict().Str("w").Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel).TupleFromMark().BinPersId();
        p.Int(offset).IntTuple(shape).IntTuple(strides).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce().TupleFromMark().Reduce();
        return p.SetItem().Stop().ToArray();
    }

    [Fact]
    public void Views_that_do_not_fit_their_storage_are_refused()
    {
        var w = new TorchZipWriter().AddStorage("0", TensorDType.F32, new byte[50 * 4]);
        Assert.Contains("does not fit in storage '0' of 50 elements", Load(TensorPickle("0", 50, 0, [10, 10], [10, 1]), w).Message);
        Assert.Contains("does not fit", Load(TensorPickle("0", 50, 45, [10], [1]), w).Message);
        Assert.Contains("does not fit", Load(TensorPickle("0", 50, 0, [6, 10], [1, 5]), w).Message); // a transposed view one row too long
        Assert.Contains("does not fit", Load(TensorPickle("0", 50, 51, [0], [1]), w).Message);
        Assert.Contains("overflows", Load(TensorPickle("0", 50, 0, [3, 2], [1L << 62, 1]), w).Message);
        Assert.Contains("overflows", Load(TensorPickle("0", 50, 0, [1L << 40, 1L << 40], [0, 0]), w).Message);
        // The storage record claims more elements than its zip member holds.
        Assert.Contains("holds 200 bytes but is declared as 60 F32 elements", Load(TensorPickle("0", 60, 0, [60], [1]), w).Message);
        Assert.Contains("the archive has no 'archive/data/7'", Load(TensorPickle("7", 50, 0, [5], [1]), w).Message);
        // Exactly fitting views are fine, including an empty one at the very end.
        using var ok = new MemoryByteSource("ok.pt", w.BuildWithPickle(TensorPickle("0", 50, 0, [5, 10], [1, 5]).ToArray(), out _));
        Assert.Single(TorchArchiveReader.ReadTensors(ok));
        using var empty = new MemoryByteSource("ok.pt", w.BuildWithPickle(TensorPickle("0", 50, 50, [0], [1]).ToArray(), out _));
        Assert.Equal(0, Assert.Single(TorchArchiveReader.ReadTensors(empty)).ElementCount);
    }
}
