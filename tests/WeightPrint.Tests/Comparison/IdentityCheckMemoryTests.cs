using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.Model;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Comparison;

/// <summary>
/// Issue 14, item 20: the identity check releases the mapped pages it touched, so its resident memory stays bounded by
/// a tensor instead of growing with the model (the measured peak is in the report of the branch; memory targets are
/// benchmarks, not unit tests — this checks the mechanism).
/// </summary>
public class IdentityCheckMemoryTests
{
    private sealed class RecordingSource(byte[] bytes) : IByteSource, IPageAdvice
    {
        private readonly MemoryByteSource _inner = new("recording", bytes);

        public List<(long Offset, long Length)> Released { get; } = [];

        public string Name => _inner.Name;

        public long Length => _inner.Length;

        public void Read(long offset, Span<byte> destination) => _inner.Read(offset, destination);

        public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span) => _inner.TryGetSpan(offset, length, out span);

        public void WillNeed(long offset, long length)
        {
        }

        public void DontNeed(long offset, long length)
        {
            lock (Released) Released.Add((offset, length));
        }

        public void Dispose() => _inner.Dispose();
    }

    private static (RecordingSource Source, TransposedView View) Conv1D(int seed)
    {
        const int rows = 64, columns = 96;
        var rng = new Random(seed);
        var bytes = new byte[rows * columns * 4];
        for (int i = 0; i < rows * columns; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), (float)rng.NextDouble());
        var source = new RecordingSource(bytes);
        return (source, new TransposedView(new TensorInfo("h.0.mlp.c_fc.weight", TensorDType.F32, [rows, columns], source, 0)));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 3)]
    public void Comparing_two_tensors_releases_the_pages_of_both(int seedA, int seedB)
    {
        var (sa, a) = Conv1D(seedA);
        var (sb, b) = Conv1D(seedB);
        bool same = IdentityCheck.SameValues(a, b);
        Assert.Equal(seedA == seedB, same);
        Assert.Contains((0L, a.Tensor.ByteLength), sa.Released);
        Assert.Contains((0L, b.Tensor.ByteLength), sb.Released);
    }
}
