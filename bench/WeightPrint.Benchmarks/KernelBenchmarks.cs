using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Benchmarks;

/// <summary>
/// Fused kernels on an in-memory buffer of <see cref="BufferBytes"/> stored bytes (larger than any L3, so the
/// numbers are DRAM-bound like a page-cache read), split evenly over 1 or 2 threads.
/// GB/s = stored input bytes read per invocation / mean time per invocation (bytes per ns = GB/s, 10^9 bytes):
/// <see cref="BufferBytes"/> for a moment kernel, 2 × <see cref="BufferBytes"/> for the pair kernel (it reads two
/// buffers). See <see cref="GigabytesPerSecondColumn"/>.
/// </summary>
public class KernelBenchmarks
{
    /// <summary>Stored bytes per buffer. 256 MiB: far past the L3 caches of current CPUs.</summary>
    public const int BufferBytes = 256 << 20;

    private byte[] _a = [];
    private byte[] _b = [];

    [Params(TensorDType.F32, TensorDType.F16, TensorDType.BF16, TensorDType.F8_E4M3, TensorDType.F8_E5M2)]
    public TensorDType DType { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IConfig Config() => DefaultConfig.Instance
        .AddColumn(new GigabytesPerSecondColumn())
        .WithOptions(ConfigOptions.JoinSummary)
        .WithBuildTimeout(TimeSpan.FromMinutes(10)); // the generated project builds slowly on a busy machine

    [GlobalSetup]
    public void Setup()
    {
        _a = Fill(BufferBytes, DType, 1);
        _b = Fill(BufferBytes, DType, 2);
    }

    [Benchmark]
    public double Moments()
    {
        int size = DType.BlockBytes();
        int count = BufferBytes / size;
        int per = count / Threads;
        var parts = new Moments[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var m = WeightPrint.Numerics.Moments.Empty;
            int n = t == Threads - 1 ? count - per * t : per;
            MomentKernels.Accumulate(DType, _a.AsSpan(per * t * size, n * size), n, ref m);
            parts[t] = m;
        });
        var total = WeightPrint.Numerics.Moments.Empty;
        foreach (var p in parts) total.Add(p);
        return total.Variance;
    }

    [Benchmark]
    public double Pair()
    {
        int size = DType.BlockBytes();
        int count = BufferBytes / size;
        int per = count / Threads;
        var parts = new PairMoments[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var m = new PairMoments();
            int n = t == Threads - 1 ? count - per * t : per;
            PairKernels.Accumulate(DType, _a.AsSpan(per * t * size, n * size), _b.AsSpan(per * t * size, n * size), n, ref m);
            parts[t] = m;
        });
        var total = new PairMoments();
        foreach (var p in parts) total.Add(p);
        return total.Cosine;
    }

    /// <summary>Bytes one invocation of <paramref name="benchmarkCase"/> reads.</summary>
    public static long BytesRead(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(Pair) ? 2L * BufferBytes : BufferBytes;

    /// <summary>Normal-ish values (std 0.02) stored in the dtype, drawn from a fixed table with a fixed seed.</summary>
    private static byte[] Fill(int bytes, TensorDType dtype, int seed)
    {
        var table = new float[1 << 16];
        var rng = new Random(seed);
        for (int i = 0; i < table.Length; i++) table[i] = (float)((rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 0.04);
        var data = new byte[bytes];
        int size = dtype.BlockBytes();
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
        for (int i = 0; i + size <= bytes; i += size)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            float v = table[(int)(x >> 48)];
            switch (dtype)
            {
                case TensorDType.F32: BitConverter.TryWriteBytes(data.AsSpan(i), v); break;
                case TensorDType.F16: BitConverter.TryWriteBytes(data.AsSpan(i), BitConverter.HalfToUInt16Bits((Half)v)); break;
                case TensorDType.BF16: BitConverter.TryWriteBytes(data.AsSpan(i), (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)); break;
                case TensorDType.F8_E5M2: data[i] = (byte)(BitConverter.HalfToUInt16Bits((Half)v) >> 8); break;
                default: data[i] = (byte)((x >> 32) % 254 + ((x >> 32) % 254 >= 127 ? 1UL : 0)); break; // E4M3: every finite pattern
            }
        }

        return data;
    }
}

/// <summary>GB/s = <see cref="KernelBenchmarks.BytesRead"/> / mean nanoseconds per invocation.</summary>
public sealed class GigabytesPerSecondColumn : IColumn
{
    public string Id => nameof(GigabytesPerSecondColumn);

    public string ColumnName => "GB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Stored bytes read per second (10^9 bytes): bytes per invocation / mean time per invocation";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats == null || stats.Mean <= 0) return "NA";
        return (KernelBenchmarks.BytesRead(benchmarkCase) / stats.Mean).ToString("F2", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
