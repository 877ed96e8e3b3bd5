using SharpFuzz;
using WeightPrint.Catalog;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Formats.Gguf;
using WeightPrint.Formats.Llama2c;
using WeightPrint.Formats.PyTorch;
using WeightPrint.Formats.Safetensors;
using WeightPrint.Formats.Tokenizers;
using WeightPrint.IO;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.Model;

namespace WeightPrint.Fuzz;

/// <summary>
/// One AFL++ target per parser: <c>WeightPrint.Fuzz TARGET</c> reads inputs from AFL (or, with a second argument,
/// runs one file once, for reproducing a crash). A target fails (crashes) on any exception other than
/// <see cref="InvalidModelFileException"/>, and on allocating more than <see cref="AllocationBound"/>; AFL's
/// timeout (<c>-t</c>) catches hangs.
/// </summary>
public static class Program
{
    /// <summary>Bytes a target may allocate for one input: 64 per input byte plus 16 MB.</summary>
    public static long AllocationBound(int inputBytes) => (64L * inputBytes) + (16L << 20);

    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["safetensors"] = b => Model(SafetensorsReader.Open(Source(b, "fuzz.safetensors"))),
        ["gguf"] = b => Model(GgufReader.Open(Source(b, "fuzz.gguf"))),
        ["torch"] = b => Model(TorchArchiveReader.Open(Source(b, "fuzz.bin"))),
        ["llama2c"] = b => Model(Llama2cReader.Open(Source(b, "fuzz.bin"))),
        ["index"] = b => ShardedIndex.Parse("fuzz.index.json", b, _ => true),
        ["tokenizer"] = b => TokenizerJson.Parse("tokenizer.json", b),
        ["config"] = Config,
        ["peft"] = Peft,
        ["fingerprint"] = Fingerprint,
        ["http"] = Http,
        ["catalog"] = Catalog,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine("usage: WeightPrint.Fuzz TARGET [FILE]   targets: " + string.Join(", ", Targets.Keys));
            return 2;
        }

        if (args.Length > 1)
        {
            // Replaying one input outside afl-fuzz: the instrumented assemblies record branches into AFL's shared map,
            // which does not exist here, so give them a private one (AFL's 64 KiB map size) instead of a null pointer.
            ReplayMap();
            Run(target, File.ReadAllBytes(args[1]));
            return 0;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            Run(target, ms.ToArray());
        });
        return 0;
    }

    private static unsafe void ReplayMap()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
    }

    private static void Run(Action<byte[]> target, byte[] input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target(input);
        }
        catch (InvalidModelFileException)
        {
            // the typed refusal: the expected outcome for a bad input
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationBound(input.Length))
            throw new InvalidOperationException($"allocated {allocated} bytes for a {input.Length}-byte input (bound {AllocationBound(input.Length)})");
    }

    private static MemoryByteSource Source(byte[] b, string name) => new(name, b);

    /// <summary>Builds the model view and reads a few values of every tensor (dequantisers, strided views, views).</summary>
    private static void Model(Checkpoint checkpoint)
    {
        using (checkpoint)
        {
            var view = ModelViewBuilder.Build(checkpoint);
            Span<float> values = stackalloc float[64];
            foreach (var t in checkpoint.Tensors.Take(64))
            {
                int n = (int)Math.Min(values.Length, t.ElementCount);
                TensorReader.ReadFloats(t, 0, values[..n]);
            }

            foreach (var layer in view.Layers.Take(4))
            {
                foreach (var (_, tv) in layer.Tensors)
                {
                    if (tv.Rows > 0 && tv.Columns is > 0 and <= 64) tv.ReadRows(0, 1, values[..(int)tv.Columns]);
                }
            }
        }
    }

    /// <summary>config.json drives the geometry and the shape check: a fixed tiny Llama checkpoint with the input as its config.</summary>
    private static void Config(byte[] b)
    {
        using var doc = UntrustedJson.Parse("config.json", "config.json", b);
        using var checkpoint = SafetensorsReader.Open(new MemoryByteSource("tiny.safetensors", TinyLlama.Value));
        checkpoint.Config = doc.RootElement.Clone();
        Model(checkpoint);
    }

    /// <summary>adapter_config.json: a fixed LoRA adapter (q_proj, rank 2) with the input as its config.</summary>
    private static void Peft(byte[] b)
    {
        using var doc = UntrustedJson.Parse("adapter_config.json", "adapter_config.json", b);
        using var checkpoint = SafetensorsReader.Open(new MemoryByteSource("adapter_model.safetensors", TinyAdapter.Value));
        checkpoint.Config = doc.RootElement.Clone();
        Model(checkpoint);
    }

    private static readonly Lazy<byte[]> TinyAdapter = new(() => Safetensors(
    [
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", 2, 4),
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", 4, 2),
    ]));

    private static readonly Lazy<byte[]> TinyLlama = new(() => Safetensors(
        [
            ("model.embed_tokens.weight", 8, 4), ("model.norm.weight", 4, 1),
            ("model.layers.0.self_attn.q_proj.weight", 4, 4), ("model.layers.0.self_attn.k_proj.weight", 4, 4),
            ("model.layers.0.self_attn.v_proj.weight", 4, 4), ("model.layers.0.self_attn.o_proj.weight", 4, 4),
            ("model.layers.0.input_layernorm.weight", 4, 1), ("model.layers.0.post_attention_layernorm.weight", 4, 1),
            ("model.layers.0.mlp.gate_proj.weight", 8, 4), ("model.layers.0.mlp.up_proj.weight", 8, 4), ("model.layers.0.mlp.down_proj.weight", 4, 8),
        ]));

    /// <summary>A valid F32 safetensors file of the given [rows, cols] tensors (cols 1: a vector), values sin(i).</summary>
    private static byte[] Safetensors((string Name, int Rows, int Cols)[] tensors)
    {
        var header = new System.Text.StringBuilder("{");
        long offset = 0;
        foreach (var (name, rows, cols) in tensors)
        {
            long bytes = 4L * rows * cols;
            string shape = cols == 1 ? $"[{rows}]" : $"[{rows},{cols}]";
            header.Append(offset == 0 ? "" : ",").Append($"\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }

        var json = System.Text.Encoding.UTF8.GetBytes(header.Append('}').ToString());
        var file = new byte[8 + json.Length + offset];
        BitConverter.TryWriteBytes(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        for (long i = 8 + json.Length; i < file.Length; i += 4) BitConverter.TryWriteBytes(file.AsSpan((int)i), (float)Math.Sin(i));
        return file;
    }

    private static void Fingerprint(byte[] b)
    {
        using var stream = new MemoryStream(b, writable: false);
        _ = WeightPrint.Comparison.Fingerprint.Read(stream, "fuzz fingerprint");
    }

    /// <summary>Response handling: the first line is a Content-Range header value, the rest a Hub API listing.</summary>
    private static void Http(byte[] b)
    {
        int nl = Array.IndexOf(b, (byte)'\n');
        string header = System.Text.Encoding.UTF8.GetString(b, 0, nl < 0 ? b.Length : nl);
        _ = ContentRange.TryParse(header, out _);
        if (nl >= 0) HubListing.Parse("fuzz listing", b[(nl + 1)..]);
    }

    /// <summary>The catalog's import format (<c>db import</c>): JSON lines of name, note and fingerprint.</summary>
    private static void Catalog(byte[] b)
    {
        using var stream = new MemoryStream(b, writable: false);
        _ = CatalogLines.Read(stream, "fuzz.jsonl");
    }
}
