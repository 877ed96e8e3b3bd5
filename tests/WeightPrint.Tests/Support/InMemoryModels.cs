using System.Runtime.InteropServices;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Model;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Support;

/// <summary>Builds small F32 checkpoints in memory (no files) from named float arrays.</summary>
internal static class InMemoryModels
{
    public static Checkpoint Checkpoint(string name, IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors, string format = "safetensors")
    {
        var bytes = new List<byte>();
        var offsets = new List<long>();
        foreach (var t in tensors)
        {
            offsets.Add(bytes.Count);
            bytes.AddRange(MemoryMarshal.AsBytes(t.Values.AsSpan()).ToArray());
        }

        var source = new MemoryByteSource(name, bytes.ToArray());
        var infos = tensors.Select((t, i) => new TensorInfo(t.Name, TensorDType.F32, t.Shape, source, offsets[i])).ToList();
        var c = new Checkpoint(name, format, infos);
        c.Own(source);
        return c;
    }

    /// <summary>A Llama-named model whose layer l has attention matrices filled by <paramref name="fill"/>.</summary>
    public static ModelView Llama(string name, int layers, int hidden, Func<int, string, int, float> fill)
    {
        var list = new List<(string, long[], float[])>();
        foreach (var l in Enumerable.Range(0, layers))
        {
            foreach (var p in new[] { "q", "k", "v", "o" })
            {
                var values = Enumerable.Range(0, hidden * hidden).Select(i => fill(l, p, i)).ToArray();
                list.Add(($"model.layers.{l}.self_attn.{p}_proj.weight", [hidden, hidden], values));
            }
        }

        return ModelViewBuilder.Build(Checkpoint(name, list));
    }
}
