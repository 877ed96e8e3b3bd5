using WeightPrint.Signals;
using WeightPrint.Signals.Cka;
using WeightPrint.Signals.Layers;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Pdf;
using WeightPrint.Signals.Spectral;

namespace WeightPrint.Comparison;

/// <summary>The one list of methods: every method by its stable id, in the order they run and are shown (layers last,
/// since it reuses the layer matrices of the methods before it).</summary>
internal static class MethodRegistry
{
    public static IReadOnlyList<SignalMethod> All { get; } =
        [new PdfMethod(), new PdfMlpMethod(), new PcsMethod(), new NeuronMatchMethod(), new CkaMethod(), new SpectralMethod(), new LayerLocalisationMethod()];

    /// <summary>The method with this id, or null.</summary>
    public static SignalMethod? Find(string id) => All.FirstOrDefault(m => m.Id == id);

    public static IReadOnlyList<string> Ids => All.Select(m => m.Id).ToList();

    /// <summary>Parses a comma-separated <c>--methods</c> list ("all" or empty = every method).</summary>
    public static IReadOnlyList<SignalMethod> Select(string? list)
    {
        if (string.IsNullOrWhiteSpace(list) || list.Trim() == "all") return All;
        var result = new List<SignalMethod>();
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var m = All.FirstOrDefault(x => x.Id == raw)
                ?? throw new ArgumentException($"unknown method '{raw}' (known: {string.Join(", ", Ids)})");
            if (!result.Contains(m)) result.Add(m);
        }

        return result;
    }
}
