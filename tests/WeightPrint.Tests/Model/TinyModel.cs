using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Model;

/// <summary>A tiny safetensors checkpoint with deterministic pseudo-random values, written to a temp folder
/// with an optional config.json, and helpers to check views against the values written.</summary>
internal sealed class TinyModel : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly SafetensorsWriter _writer = new();
    private readonly Dictionary<string, float[]> _values = new(StringComparer.Ordinal);
    private string? _config;
    private string? _fileName;
    private Checkpoint? _checkpoint;

    public string Folder => _dir.Path;

    public TensorDType DType { get; set; } = TensorDType.F32;

    public float[] Add(string name, params long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var rng = new Random(StringComparer.Ordinal.GetHashCode(name) ^ 12345);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)Math.Round(rng.NextDouble() * 2 - 1, 3);
        return Set(name, v, shape);
    }

    public float[] Set(string name, float[] values, params long[] shape)
    {
        _writer.Add(name, DType, values, shape);
        _values[name] = values;
        return values;
    }

    public float[] this[string name] => _values[name];

    public TinyModel Config(string json)
    {
        _config = json;
        return this;
    }

    /// <summary>Writes into a named file instead of model.safetensors (e.g. adapter_model.safetensors).</summary>
    public TinyModel FileName(string name)
    {
        _fileName = name;
        return this;
    }

    public Checkpoint Open()
    {
        _writer.Write(_dir.File(_fileName ?? "model.safetensors"));
        if (_config != null) File.WriteAllText(_dir.File(_fileName == "adapter_model.safetensors" ? "adapter_config.json" : "config.json"), _config);
        _checkpoint = CheckpointLoader.Open(_dir.Path);
        return _checkpoint;
    }

    public ModelView View() => ModelViewBuilder.Build(Open());

    public void Dispose()
    {
        _checkpoint?.Dispose();
        _dir.Dispose();
    }

    /// <summary>Rows [start, start + count) of a row-major matrix with <paramref name="cols"/> columns.</summary>
    public static float[] Rows(float[] m, long cols, long start, long count) => m.AsSpan((int)(start * cols), (int)(count * cols)).ToArray();

    /// <summary>The transpose of a row-major [rows, cols] matrix.</summary>
    public static float[] Transpose(float[] m, long rows, long cols)
    {
        var t = new float[m.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }

    public static float[] Concat(params float[][] parts) => parts.SelectMany(p => p).ToArray();

    public static void Equal(float[] expected, TensorView? view, long rows, long cols)
    {
        Assert.NotNull(view);
        Assert.Equal(rows, view!.Rows);
        Assert.Equal(cols, view.Columns);
        var actual = view.ReadAll();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i]) Assert.Fail($"{view.Description}: element {i} (row {i / cols}, col {i % cols}) is {actual[i]}, expected {expected[i]}");
        }

        // Moments must agree with the values read.
        var m = view.ComputeMoments();
        Assert.Equal(expected.Length, m.Count);
        Assert.Equal(expected.Select(x => (double)x).Sum(), m.Sum, 4);
    }

    public static void Close(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > tolerance * (1 + Math.Abs(expected[i])))
                Assert.Fail($"element {i}: {actual[i]} vs expected {expected[i]}");
        }
    }
}
