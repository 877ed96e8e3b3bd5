using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using WeightPrint.Formats;
using WeightPrint.Numerics;

namespace WeightPrint.Benchmarks;

/// <summary>
/// <c>scan MODEL [--threads N]</c>: the library-level equivalent of the pdf method's read — the standard deviation
/// of every attention projection (q, k, v, o per layer) through <see cref="TensorReader.ComputeMoments"/>, tensors
/// processed with <see cref="BoundedParallel"/>. Prints "name std" lines (std with N−1, like numpy ddof=1) and
/// the time to stderr; bench/run compares the values with the NumPy reference.
/// </summary>
internal static partial class AttentionScan
{
    [GeneratedRegex(@"^model\.layers\.(\d+)\.self_attn\.([qkvo])_proj\.weight$")]
    private static partial Regex AttentionName();

    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: scan MODEL [--threads N]");
            return 2;
        }

        int threads = args.Length >= 3 && args[1] == "--threads" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        var clock = Stopwatch.StartNew();
        using var checkpoint = CheckpointLoader.Open(args[0]);
        var attention = checkpoint.Tensors
            .Select(t => (Tensor: t, Match: AttentionName().Match(t.Name)))
            .Where(x => x.Match.Success)
            .OrderBy(x => int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .ThenBy(x => "qkvo".IndexOf(x.Match.Groups[2].Value[0], StringComparison.Ordinal))
            .Select(x => x.Tensor)
            .ToList();
        var moments = BoundedParallel.Map(attention, t => TensorReader.ComputeMoments(t), threads);
        for (int i = 0; i < attention.Count; i++)
            Console.WriteLine($"{attention[i].Name} {moments[i].StandardDeviation.ToString("R", CultureInfo.InvariantCulture)}");
        long bytes = attention.Sum(t => t.ByteLength);
        Console.Error.WriteLine($"scan: {attention.Count} tensors, {bytes / 1e9:F3} GB in {clock.Elapsed.TotalSeconds:F3} s ({bytes / 1e9 / clock.Elapsed.TotalSeconds:F2} GB/s), kernels {MomentKernels.SimdDescription}");
        return 0;
    }
}
