using WeightPrint.Formats;
using WeightPrint.Formats.PyTorch;
using WeightPrint.IO;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.PyTorch;

public class TorchArchiveRoundTripTests
{
    private static readonly double[] Fp32Values = [0.5, -1.25, 3.0, 1e-3, -7.5, 2.25, 100.0, -0.125, 6.5, 1.5e5, -3.75, 0.0];
    private static readonly double[] Fp16Values = [0.5, -2.0, 1.5, 65504.0, -0.25, 0.0009765625];
    private static readonly double[] Bf16Values = [1.0, -3.5, 256.0, 0.015625];
    private static readonly double[] I64Values = [0, 1, -1, 123456789, -987654321];
    private static readonly double[] SharedValues = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    private static (TorchZipWriter Writer, PyDict StateDict) Sample(string prefix = "archive")
    {
        var w = new TorchZipWriter { Prefix = prefix }
            .AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, Fp32Values))
            .AddStorage("1", TensorDType.F16, TorchZipWriter.Encode(TensorDType.F16, Fp16Values))
            .AddStorage("2", TensorDType.BF16, TorchZipWriter.Encode(TensorDType.BF16, Bf16Values))
            .AddStorage("3", TensorDType.I64, TorchZipWriter.Encode(TensorDType.I64, I64Values))
            .AddStorage("4", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, SharedValues));
        var sd = new PyDict { Ordered = true, WithMetadata = true };
        sd.Add("w32", new TorchTensor("0", 0, [3, 4]));
        sd.Add("w32_t", new TorchTensor("0", 0, [4, 3], [1, 4])); // a transposed view of the same storage
        sd.Add("w16", new TorchTensor("1", 0, [2, 3], Parameter: true));
        sd.Add("wbf", new TorchTensor("2", 0, [4]));
        sd.Add("ids", new TorchTensor("3", 0, [5]));
        sd.Add("head", new TorchTensor("4", 0, [6])); // two tensors sharing storage 4 at different offsets
        sd.Add("tail", new TorchTensor("4", 6, [2, 3]));
        sd.Add("scalar", new TorchTensor("4", 11, []));
        return (w, sd);
    }

    private static void AssertSample(Checkpoint c, string keyPrefix = "")
    {
        float[] Read(string name) => TestTensors.ReadAll(c.Find(keyPrefix + name) ?? throw new Xunit.Sdk.XunitException($"missing {keyPrefix + name}"));
        static float[] F(IEnumerable<double> v) => v.Select(x => (float)x).ToArray();

        Assert.Equal(F(Fp32Values), Read("w32"));
        var t = c.Find(keyPrefix + "w32_t")!;
        Assert.False(t.IsContiguous);
        Assert.Equal([4L, 3L], t.Shape);
        var expectedT = new float[12];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 3; j++) expectedT[i * 3 + j] = (float)Fp32Values[j * 4 + i];
        }

        Assert.Equal(expectedT, Read("w32_t"));
        Assert.Equal(TensorDType.F16, c.Find(keyPrefix + "w16")!.DType);
        Assert.Equal([2L, 3L], c.Find(keyPrefix + "w16")!.Shape);
        Assert.Equal(F(Fp16Values), Read("w16"));
        Assert.Equal(TensorDType.BF16, c.Find(keyPrefix + "wbf")!.DType);
        Assert.Equal(F(Bf16Values), Read("wbf"));
        Assert.Equal(TensorDType.I64, c.Find(keyPrefix + "ids")!.DType);
        Assert.Equal(F(I64Values), Read("ids"));
        Assert.Equal(F(SharedValues.Take(6)), Read("head"));
        Assert.Equal(F(SharedValues.Skip(6)), Read("tail"));
        Assert.True(c.Find(keyPrefix + "tail")!.IsContiguous);
        Assert.Equal(c.Find(keyPrefix + "head")!.DataOffset + 24, c.Find(keyPrefix + "tail")!.DataOffset);
        Assert.Empty(c.Find(keyPrefix + "scalar")!.Shape);
        Assert.Equal([12f], Read("scalar"));
    }

    [Fact]
    public void State_dict_round_trips_through_CheckpointLoader()
    {
        using var dir = new TempDir();
        var (w, sd) = Sample();
        w.Save(dir.File("model.pt"), sd);
        using var c = CheckpointLoader.Open(dir.File("model.pt"));
        Assert.Equal("torch", c.Format);
        Assert.Equal(["w32", "w32_t", "w16", "wbf", "ids", "head", "tail", "scalar"], c.Tensors.Select(x => x.Name));
        AssertSample(c);
    }

    [Fact]
    public void Zip64_records_deflated_pickle_and_another_prefix_round_trip()
    {
        using var dir = new TempDir();
        var (w, sd) = Sample(prefix: "pytorch_model");
        File.WriteAllBytes(dir.File("pytorch_model.bin"), w.Build(sd, deflatePickle: true, zip64: true));
        using var c = CheckpointLoader.Open(dir.Path);
        Assert.Equal("torch", c.Format);
        AssertSample(c);
    }

    [Fact]
    public void Reads_in_place_from_the_byte_source_without_copying_storages()
    {
        var (w, sd) = Sample();
        byte[] zip = w.BuildWithPickle(w.Pickle(sd), out var layout);
        using var source = new MemoryByteSource("x.pt", zip);
        var tensors = TorchArchiveReader.ReadTensors(source);
        // members: data.pkl, byteorder, data/0 … data/4, version: storage 0 is member 2
        Assert.Equal(layout.DataOffsets[2], tensors.Single(t => t.Name == "w32").DataOffset);
        Assert.Equal(layout.DataOffsets[6] + 11 * 4, tensors.Single(t => t.Name == "scalar").DataOffset);
        Assert.All(tensors, t => Assert.Same(source, t.Source));
        Assert.All(layout.DataOffsets, o => Assert.Equal(0, o % 64)); // the writer aligns like torch
    }

    [Fact]
    public void Llama2c_style_training_checkpoint_is_flattened_with_dotted_names()
    {
        var w = new TorchZipWriter { Prefix = "ckpt", Location = "cuda:0" }
            .AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, Fp32Values))
            .AddStorage("1", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, SharedValues))
            .AddStorage("2", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, [0.75]));
        var model = new PyDict { Ordered = true, WithMetadata = true };
        model.Add("tok_embeddings.weight", new TorchTensor("0", 0, [3, 4]));
        model.Add("layers.0.attention.wq.weight", new TorchTensor("1", 0, [3, 4]));
        var checkpoint = new PyDict
        {
            { "model", model },
            {
                "optimizer", new PyDict
                {
                    { "state", new PyDict { { 0L, new PyDict { { "exp_avg", new TorchTensor("1", 0, [12]) } } } } },
                    { "param_groups", new List<object?> { new PyDict { { "lr", 0.1 }, { "params", new List<object?> { 0L, 1L } } } } },
                }
            },
            { "model_args", new PyDict { { "dim", 64L }, { "n_layers", 5L }, { "dropout", 0.0 }, { "norm_eps", 1e-5 } } },
            { "iter_num", 500L },
            { "best_val_loss", new TorchTensor("2", 0, []) },
            { "config", new PyDict { { "dtype", "float16" }, { "compile", false }, { "wandb_run_name", null } } },
        };

        using var dir = new TempDir();
        w.Save(dir.File("ckpt.pt"), checkpoint);
        using var c = CheckpointLoader.Open(dir.File("ckpt.pt"));
        Assert.Equal(
            ["model.tok_embeddings.weight", "model.layers.0.attention.wq.weight", "optimizer.state.0.exp_avg", "best_val_loss"],
            c.Tensors.Select(t => t.Name));
        Assert.Equal(Fp32Values.Select(v => (float)v), TestTensors.ReadAll(c.Find("model.tok_embeddings.weight")!));
        Assert.Equal([0.75f], TestTensors.ReadAll(c.Find("best_val_loss")!));
        Assert.Equal(64L, c.Metadata["model_args.dim"]);
        Assert.Equal(5L, c.Metadata["model_args.n_layers"]);
        Assert.Equal(1e-5, c.Metadata["model_args.norm_eps"]);
        Assert.Equal(500L, c.Metadata["iter_num"]);
        Assert.Equal("float16", c.Metadata["config.dtype"]);
        Assert.Equal(false, c.Metadata["config.compile"]);
        Assert.False(c.Metadata.ContainsKey("config.wandb_run_name")); // None is not metadata
        Assert.DoesNotContain(c.Metadata.Keys, k => k.StartsWith("optimizer.param_groups", StringComparison.Ordinal)); // under a list
    }

    [Fact]
    public void Sharded_pytorch_model_bin_folder_opens_through_its_index()
    {
        using var dir = new TempDir();
        var a = new TorchZipWriter { Prefix = "pytorch_model-00001-of-00002" }
            .AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, Fp32Values));
        var b = new TorchZipWriter { Prefix = "pytorch_model-00002-of-00002" }
            .AddStorage("0", TensorDType.BF16, TorchZipWriter.Encode(TensorDType.BF16, Bf16Values));
        a.Save(dir.File("pytorch_model-00001-of-00002.bin"), new PyDict { Ordered = true, Items = { new("model.embed_tokens.weight", new TorchTensor("0", 0, [3, 4])) } });
        b.Save(dir.File("pytorch_model-00002-of-00002.bin"), new PyDict { Ordered = true, Items = { new("model.norm.weight", new TorchTensor("0", 0, [4])) } });
        File.WriteAllText(dir.File("pytorch_model.bin.index.json"), """
            {"metadata": {"total_size": 56}, "weight_map": {
              "model.embed_tokens.weight": "pytorch_model-00001-of-00002.bin",
              "model.norm.weight": "pytorch_model-00002-of-00002.bin"}}
            """);
        using var c = CheckpointLoader.Open(dir.Path);
        Assert.Equal("torch-sharded", c.Format);
        Assert.Equal(Fp32Values.Select(v => (float)v), TestTensors.ReadAll(c.Find("model.embed_tokens.weight")!));
        Assert.Equal(Bf16Values.Select(v => (float)v), TestTensors.ReadAll(c.Find("model.norm.weight")!));
    }

    [Fact]
    public void Storage_type_may_be_a_dtype_or_an_untyped_storage_and_globals_may_be_stack_globals()
    {
        // Protocol 4 style: FRAME, STACK_GLOBAL, SHORT_BINUNICODE, MEMOIZE; storage types given as a dtype
        // (torch.bfloat16) and as torch.storage.UntypedStorage (bytes).
        var w = new TorchZipWriter()
            .AddStorage("a", TensorDType.BF16, TorchZipWriter.Encode(TensorDType.BF16, Bf16Values))
            .AddStorage("b", TensorDType.U8, [1, 2, 3, 250]);
        var p = new PickleWriter { Memoize = false };
        p.Proto(4).Raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0).Raw(0x7d, 0x94).Mark();
        foreach (var (name, module, type, key, n) in new[] { ("x", "torch", "bfloat16", "a", 4L), ("y", "torch.storage", "UntypedStorage", "b", 4L) })
        {
            p.ShortStr(name).StackGlobal("torch._utils", "_rebuild_tensor_v2").Raw(0x94);
            p.Mark();
            p.Mark().ShortStr("storage").StackGlobal(module, type).ShortStr(key).ShortStr("cpu").Int(n).TupleFromMark().BinPersId();
            p.Int(0).IntTuple([n]).IntTuple([1]).Bool(false).StackGlobal("collections", "OrderedDict").EmptyTuple().Raw((byte)'R');
            p.TupleFromMark().Raw((byte)'R');
        }

        p.SetItems().Stop();
        using var source = new MemoryByteSource("p4.pt", w.BuildWithPickle(p.ToArray(), out _));
        var tensors = TorchArchiveReader.ReadTensors(source);
        Assert.Equal(TensorDType.BF16, tensors[0].DType);
        Assert.Equal(Bf16Values.Select(v => (float)v), TestTensors.ReadAll(tensors[0]));
        Assert.Equal(TensorDType.U8, tensors[1].DType);
        Assert.Equal([1f, 2f, 3f, 250f], TestTensors.ReadAll(tensors[1]));
    }

    [Fact]
    public void A_bare_tensor_archive_is_named_tensor()
    {
        var w = new TorchZipWriter().AddStorage("0", TensorDType.F32, TorchZipWriter.Encode(TensorDType.F32, [1, 2]));
        using var source = new MemoryByteSource("t.pt", w.Build(new TorchTensor("0", 0, [2])));
        var t = Assert.Single(TorchArchiveReader.ReadTensors(source));
        Assert.Equal("tensor", t.Name);
    }

    [Fact]
    public void Legacy_pickle_streams_are_detected_and_llama2c_headers_are_not()
    {
        // torch < 1.6: PROTO 2, LONG1 magic number … ; a plain pickle.dump of a dict (protocol 4).
        using var legacy = new MemoryByteSource("old.bin", new byte[] { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e });
        using var plain = new MemoryByteSource("dict.pkl", new byte[] { 0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e });
        Assert.True(TorchArchiveReader.LooksLikeLegacyPickle(legacy));
        Assert.True(TorchArchiveReader.LooksLikeLegacyPickle(plain));
        var e = Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.OpenFile(legacy, "old.bin"));
        Assert.Contains("legacy torch format", e.Message);
        e = Assert.Throws<InvalidModelFileException>(() => TorchArchiveReader.ReadTensors(plain));
        Assert.Contains("legacy torch format", e.Message);

        // A llama2.c header with dim = 640 (0x280) starts 80 02 00 00: not a pickle.
        var header = new byte[28];
        BitConverter.GetBytes(640).CopyTo(header, 0);
        using var l2c = new MemoryByteSource("l2c.bin", header);
        Assert.False(TorchArchiveReader.LooksLikeLegacyPickle(l2c));
    }
}
