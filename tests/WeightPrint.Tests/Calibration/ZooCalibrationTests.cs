using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WeightPrint.Comparison;
using WeightPrint.Signals;
using WeightPrint.Tests.Support;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Calibration;

/// <summary>
/// Calibration on trained independent models: the labelled unrelated pairs of the development zoo
/// (<c>../shared/zoo/pairs.json</c>; skipped when absent). Every test's p-value must hold under "independent
/// initialisations" for trained weights: none below 1e-3, and no more than the binomial slack above 5% below 0.05.
/// A deterministic sample of the same-width unrelated pairs keeps the suite fast; <c>scripts/zoo-eval</c> checks all
/// 205 pairs (README, calibration).
/// </summary>
public class ZooCalibrationTests(ITestOutputHelper output)
{
    /// <summary>Unrelated pairs whose SHA-256("a|b") first byte is below this are sampled (about 1 in 16).</summary>
    private const int SampleBelow = 16;

    internal static string? ZooRoot()
    {
        string root = Path.GetFullPath(Path.Combine(SharedModels.RepoRoot, "..", "shared", "zoo"));
        return File.Exists(Path.Combine(root, "pairs.json")) ? root : null;
    }

    private static string ModelArgument(string root, string name)
    {
        string dir = Path.Combine(root, name);
        return Directory.GetFiles(dir, "*.gguf").FirstOrDefault() ?? dir;
    }

    [SkippableFact]
    public void P_values_of_trained_independent_pairs_are_calibrated()
    {
        string? root = ZooRoot();
        Skip.If(root == null, "../shared/zoo is not present");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root!, "pairs.json")));
        var sample = doc.RootElement.EnumerateArray()
            .Where(p => !p.GetProperty("related").GetBoolean())
            .Select(p => (A: p.GetProperty("a").GetString()!, B: p.GetProperty("b").GetString()!))
            .Where(p => SHA256.HashData(Encoding.UTF8.GetBytes(p.A + "|" + p.B))[0] < SampleBelow)
            .OrderBy(p => p.A, StringComparer.Ordinal).ThenBy(p => p.B, StringComparer.Ordinal)
            .ToList();
        Skip.If(sample.Count == 0, "no unrelated pair in the sample");
        var methods = MethodRegistry.All.Where(m => m.NullKind != NullKind.None).ToList();
        var pValues = methods.ToDictionary(m => m.Id, _ => new List<double>());
        var context = new MethodContext { Threads = 2 };
        foreach (var (a, b) in sample)
        {
            using var ia = OpenedInput.Open(ModelArgument(root!, a));
            using var ib = OpenedInput.Open(ModelArgument(root!, b));
            var result = ComparisonRunner.Run(ia, ib, methods, context);
            output.WriteLine($"{a} / {b}: {string.Join(", ", result.Methods.Select(r => $"{r.Id} {r.PValue}"))} → {result.Verdict.Label}");
            Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, result.Verdict.Label);
            foreach (var r in result.Methods.Where(r => r.Status == MethodStatus.Ok && r.PValue is double))
                pValues[r.Id].Add(r.PValue!.Value);
        }

        foreach (var (id, ps) in pValues.Where(kv => kv.Value.Count > 0))
        {
            output.WriteLine($"{id}: {ps.Count} p-values, {ps.Count(p => p < 0.05)} below 0.05, smallest {ps.Min():G3}");
            Assert.True(ps.Min() >= 1e-3, $"{id}: a trained independent pair has p = {ps.Min():G3} < 1e-3");
            // 5% nominal; with n pairs allow the 99th binomial percentile (at most 2 of up to 16).
            Assert.True(ps.Count(p => p < 0.05) <= Math.Max(2, (int)Math.Ceiling(0.15 * ps.Count)), $"{id}: {ps.Count(p => p < 0.05)} of {ps.Count} below 0.05");
        }
    }

    /// <summary>Two GPT-2 models trained alike from different seeds share embedding geometry: a rotation fitted on their
    /// embeddings makes their MLPs agree (p near 1e-21) but not their attention. pcs then reports the intersection-union
    /// p-value (the larger of the two parts), which must not reject; before, it reported p = 7.8e-10 for this pair.</summary>
    [SkippableFact]
    public void Pcs_under_a_fitted_residual_map_needs_every_part_to_agree()
    {
        string? root = ZooRoot();
        Skip.If(root == null, "../shared/zoo is not present");
        string a = Path.Combine(root!, "gpt2-base-s1"), b = Path.Combine(root!, "gpt2-base-s2");
        Skip.If(!Directory.Exists(a) || !Directory.Exists(b), "the GPT-2 seed twins are not in this zoo");
        using var ia = OpenedInput.Open(a);
        using var ib = OpenedInput.Open(b);
        var pcs = ComparisonRunner.Run(ia, ib, [MethodRegistry.Find("pcs")!], new MethodContext { Threads = 2 }).Methods.Single();
        Assert.Equal(MethodStatus.Ok, pcs.Status);
        output.WriteLine(pcs.Summary);
        var details = (WeightPrint.Signals.Pcs.PcsDetails)pcs.Details!;
        Assert.NotEqual("identity", details.Alignment.Kind);
        double mlp = details.PValueMlp, attention = details.PValueAttention;
        Assert.True(mlp < 1e-3, $"the fitted map should make the MLPs agree (p = {mlp:G3}); the case this guards against is gone");
        Assert.Equal(Math.Max(mlp, attention), pcs.PValue!.Value);
        Assert.True(pcs.PValue!.Value > 1e-3, $"pcs p = {pcs.PValue:G3} for two independently initialised models");
    }
}
