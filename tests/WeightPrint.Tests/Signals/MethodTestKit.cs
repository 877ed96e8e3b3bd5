using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Signals;

/// <summary>Helpers for method tests: comparing views and opening shared models.</summary>
internal static class MethodTestKit
{
    public static MethodContext Context { get; } = new() { Seed = 12345, Permutations = 999, Threads = 2 };

    public static MethodResult Compare(SignalMethod method, ModelView a, ModelView b, MethodContext? context = null)
        => method.Compare(new ComparisonInput("A", a), new ComparisonInput("B", b), context ?? Context);

    public static MethodResult Compare(SignalMethod method, SyntheticModel a, SyntheticModel b, MethodContext? context = null)
        => Compare(method, a.ToView(name: "A"), b.ToView(name: "B"), context);

    /// <summary>Opens a shared model folder and builds its view (skips the test when absent).</summary>
    public static ModelView OpenShared(string folder)
    {
        var checkpoint = CheckpointLoader.Open(SharedModels.Require(folder));
        return ModelViewBuilder.Build(checkpoint);
    }

    public static string Describe(MethodResult r)
        => $"{r.Id}: status={r.Status} score={r.Score:F4} p={r.PValue?.ToString("G3") ?? "null"} pct={r.BackgroundPercentile?.ToString("F3") ?? "null"} evidence={r.Evidence} reason={r.Reason} | {r.Summary}";
}
