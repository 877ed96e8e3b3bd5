using System.Buffers.Binary;
using WeightPrint.Comparison;
using WeightPrint.Model;

namespace WeightPrint.Catalog;

/// <summary>
/// The prefilter's compact numeric signature of a fingerprint: at 5 depths (first, ¼, ½, ¾, last layer) and for each of
/// Q, K, V, O, gate, up and down, the first 4 × 4 values of the stored sample block — <see cref="Length"/> floats, NaN
/// where absent. Two fingerprints made with the same seed hold the same blocks of same-shaped tensors, so a
/// fine-tuned, quantised or merged descendant's sketch points the same way (cosine near 1) and an unrelated one's is
/// near 0. It only orders candidates for the exact tests; it is never evidence.
/// </summary>
internal static class Sketch
{
    private static readonly double[] Depths = [0, 0.25, 0.5, 0.75, 1];

    private static readonly TensorRole[] Roles =
        [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO, TensorRole.MlpGate, TensorRole.MlpUp, TensorRole.MlpDown];

    private const int Side = 4;

    public static int Length => Depths.Length * Roles.Length * Side * Side;

    public static float[] Of(Fingerprint fp)
    {
        var sketch = new float[Length];
        Array.Fill(sketch, float.NaN);
        var byName = fp.Samples.ToDictionary(s => s.Tensor, StringComparer.Ordinal);
        var layers = fp.Samples.Select(s => s.Tensor.Split('.')).Where(p => p.Length == 3 && int.TryParse(p[1], out _))
            .Select(p => (Stack: p[0], Index: int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))
            .Distinct().OrderBy(l => l.Stack == "decoder" ? 1 : 0).ThenBy(l => l.Index).ToList();
        if (layers.Count == 0) return sketch;
        int at = 0;
        foreach (double depth in Depths)
        {
            var (stack, index) = layers[(int)Math.Round(depth * (layers.Count - 1))];
            foreach (var role in Roles)
            {
                if (byName.TryGetValue($"{stack}.{index}.{role}", out var s) && s.Blocks.Count > 0)
                {
                    var b = s.Blocks[0];
                    for (int r = 0; r < Math.Min(Side, b.RowCount); r++)
                    {
                        for (int c = 0; c < Math.Min(Side, b.ColumnCount); c++) sketch[at + r * Side + c] = b.At(r, c);
                    }
                }

                at += Side * Side;
            }
        }

        return sketch;
    }

    /// <summary>Cosine over the positions both sketches hold (NaN when they share fewer than 8).</summary>
    public static double Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        int n = 0;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (!float.IsFinite(a[i]) || !float.IsFinite(b[i])) continue;
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
            n++;
        }

        return n < 8 || na == 0 || nb == 0 ? double.NaN : dot / Math.Sqrt(na * nb);
    }

    public static byte[] ToBytes(float[] sketch)
    {
        var bytes = new byte[sketch.Length * 4];
        for (int i = 0; i < sketch.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), sketch[i]);
        return bytes;
    }

    public static float[] FromBytes(byte[] bytes)
    {
        var sketch = new float[bytes.Length / 4];
        for (int i = 0; i < sketch.Length; i++) sketch[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        return sketch;
    }
}
