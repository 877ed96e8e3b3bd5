using WeightPrint.Formats;

namespace WeightPrint.Tests.Support;

/// <summary>Test-side conveniences over <see cref="TensorReader"/> that the product never needs.</summary>
internal static class TestTensors
{
    /// <summary>Reads the whole (small) tensor into a new array.</summary>
    public static float[] ReadAll(TensorInfo t)
    {
        var result = new float[t.ElementCount];
        TensorReader.ReadFloats(t, 0, result);
        return result;
    }
}
