using WeightPrint.Signals.Cka;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;

namespace WeightPrint.Signals.Layers;

/// <summary>The statistical methods of this library, by id (the CLI adds pdf and instantiates them by id).</summary>
public static class MethodCatalog
{
    /// <summary>pcs, neuron-match, cka, spectral, layers — fresh instances (all have parameterless constructors).</summary>
    public static IReadOnlyList<SignalMethod> All => [new PcsMethod(), new NeuronMatchMethod(), new CkaMethod(), new SpectralMethod(), new LayerLocalisationMethod()];

    /// <summary>The method with this id, or null.</summary>
    public static SignalMethod? Find(string id) => All.FirstOrDefault(m => m.Id == id);
}
