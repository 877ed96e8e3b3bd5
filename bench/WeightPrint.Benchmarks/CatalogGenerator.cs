using System.Diagnostics;
using System.Globalization;
using WeightPrint.Catalog;
using WeightPrint.Comparison;

namespace WeightPrint.Benchmarks;

/// <summary>
/// <c>catalog DB --base FP --entries N [--seed S]</c>: a SQLite catalog of N entries for bench/identify.
/// Entry <c>base</c> is the fingerprint FP as <c>db add</c> stores it. The other N − 1 entries (<c>decoy-00001</c>, …)
/// stand for unrelated models of FP's shape: each has its own prefilter sketch, drawn afresh from a normal
/// distribution with the spread of FP's sketch values at that position (what an independently initialised model's
/// sketch looks like), and all of them share one stored body: a fingerprint with FP's tensors, shapes and blocks whose
/// sample values are drawn independently with each block's standard deviation (no signatures: those cannot be drawn
/// without a model). Storing N distinct 7B fingerprints (~56 MB each) is not possible on a bench machine; the
/// prefilter reads only the sketches, so it scans N distinct ones, and the exact tests read top-K bodies either way.
/// </summary>
internal static class CatalogGenerator
{
    public static int Run(string[] args)
    {
        string? db = null, basePath = null;
        int entries = 0, seed = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--base": basePath = Next(); break;
                case "--entries": entries = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: db = db == null ? args[i] : throw new ArgumentException($"unexpected argument {args[i]}"); break;
            }
        }

        if (db == null || basePath == null || entries < 1)
        {
            Console.Error.WriteLine("usage: catalog DB --base FINGERPRINT --entries N [--seed S]   (DB must not exist)");
            return 2;
        }

        if (File.Exists(db))
        {
            Console.Error.WriteLine($"{db} exists: the generator writes a new catalog only");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var real = Fingerprint.ReadFile(basePath);
        var rng = new Random(seed);
        var decoy = Decoy(real, rng);
        var sketch = Sketch.Of(real);
        var list = new List<CatalogStore.NewEntry>(entries) { new("base", "the real fingerprint (" + Path.GetFileName(basePath) + ")", real) };
        for (int i = 1; i < entries; i++)
            list.Add(new($"decoy-{i:D5}", "generated: an unrelated model's sketch; body shared by all decoys", decoy, DecoySketch(sketch, rng)));
        using (var store = CatalogStore.Open(db))
        {
            store.AddMany(list);
            Console.Error.WriteLine($"catalog {db}: {store.Count()} entries, {store.Payloads()} stored fingerprints, {new FileInfo(db).Length / 1e6:F1} MB, {clock.Elapsed.TotalSeconds:F1} s");
        }

        return 0;
    }

    /// <summary><c>prefilter DB --suspect FP</c>: times the prefilter alone (one pass over the catalog's sketches, the
    /// suspect's fingerprint already read) and prints the shortlist.</summary>
    public static int Prefilter(string[] args)
    {
        if (args.Length != 3 || args[1] != "--suspect")
        {
            Console.Error.WriteLine("usage: prefilter DB --suspect FINGERPRINT");
            return 2;
        }

        var read = Stopwatch.StartNew();
        var suspect = Fingerprint.ReadFile(args[2]);
        double readMs = read.Elapsed.TotalMilliseconds;
        using var store = CatalogStore.Open(args[0]);
        var clock = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var (count, compatible, shortlist) = Identify.Prefilter(store.Entries(), suspect, 5);
        double ms = clock.Elapsed.TotalMilliseconds;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
        var load = Stopwatch.StartNew();
        if (shortlist.Count > 0) _ = store.LoadFingerprint(shortlist[0].Entry);
        double loadMs = load.Elapsed.TotalMilliseconds;
        Console.WriteLine(FormattableString.Invariant($"prefilter: {count} entries ({compatible} compatible) in {ms:F1} ms wall, {cpuMs:F0} ms CPU; shortlist: {string.Join(", ", shortlist.Select(s => FormattableString.Invariant($"{s.Entry.Name} {s.Score:F3}")))}; reading the suspect's fingerprint took {readMs:F0} ms, loading one candidate's from the catalog {loadMs:F0} ms"));
        return 0;
    }

    /// <summary>A fingerprint with the real one's tensors, shapes and blocks and independent normal values of each block's spread.</summary>
    private static Fingerprint Decoy(Fingerprint real, Random rng)
    {
        var samples = real.Samples.Select(s => s with
        {
            Blocks = s.Blocks.Select(b =>
            {
                double sd = Spread(b.ToSingles());
                var v = new float[b.Bytes.Length / 2];
                for (int i = 0; i < v.Length; i++) v[i] = (float)(sd * Normal(rng));
                return WeightPrint.Model.SampleBlock.FromSingles(b.RowStart, b.RowCount, b.ColumnStart, b.ColumnCount, v);
            }).ToList(),
        }).ToList();
        return new Fingerprint
        {
            Seed = real.Seed,
            LayoutVersion = real.LayoutVersion,
            Model = real.Model with { Path = "generated/decoy" },
            Source = new FingerprintSource("local", null, null, []),
            TensorHashScope = "none (generated)",
            TokenIds = real.TokenIds,
            TokenStrings = real.TokenStrings,
            Samples = samples,
        };
    }

    /// <summary>A fresh sketch: at each position the real sketch holds, a normal draw with the spread of that position's group of 16.</summary>
    private static float[] DecoySketch(float[] real, Random rng)
    {
        var s = new float[real.Length];
        for (int g = 0; g < real.Length; g += 16)
        {
            double sd = Spread(real.AsSpan(g, Math.Min(16, real.Length - g)));
            for (int i = g; i < Math.Min(g + 16, real.Length); i++) s[i] = float.IsFinite(real[i]) ? (float)(sd * Normal(rng)) : float.NaN;
        }

        return s;
    }

    private static double Spread(ReadOnlySpan<float> values)
    {
        double sum = 0;
        int n = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            sum += (double)v * v;
            n++;
        }

        return n == 0 ? 0 : Math.Sqrt(sum / n);
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
