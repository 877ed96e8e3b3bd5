using WeightPrint.Signals;
using WeightPrint.Signals.NeuronMatch;
using WeightPrint.Signals.Pcs;
using WeightPrint.Signals.Spectral;
using WeightPrint.Tests.Support;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Signals;

public class ScratchTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Scratch()
    {
        SignalMethod[] methods = [new NeuronMatchMethod()];
        var baseModel = SyntheticModels.Generate(1);
        var variants = new (string, SyntheticModel)[]
        {
            ("indep", SyntheticModels.Generate(2)),
            ("permN", SyntheticModels.PermuteNeurons(baseModel, 3)),
            ("permAll", SyntheticModels.PermuteHeads(SyntheticModels.PermuteResidual(SyntheticModels.PermuteNeurons(baseModel, 3), 4), 5)),
            ("rescale", SyntheticModels.RescaleAttention(baseModel, 3)),
            ("rot", SyntheticModels.RotateResidual(baseModel, 3)),
            ("noise", SyntheticModels.AddNoise(baseModel, 0.3, 3)),
            ("lora", SyntheticModels.LoraUpdate(baseModel, 4, 0.5, 3)),
            ("q8", SyntheticModels.Q8RoundTrip(baseModel)),
            ("rm2", SyntheticModels.RemoveLayers(baseModel, 1, 2)),
            ("prune", SyntheticModels.PruneNeurons(baseModel, 0.25, 3)),
            ("moe", SyntheticModels.UpcycleMoE(baseModel, 4, 0.3, 3)),
        };
        foreach (var m in methods)
        {
            foreach (var (name, v) in variants)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                output.WriteLine($"{name,-8} {MethodTestKit.Describe(MethodTestKit.Compare(m, baseModel, v))} [{sw.ElapsedMilliseconds} ms]");
            }

            var a = MethodTestKit.OpenShared("derived-llama2xs-hf-f32");
            var b = MethodTestKit.OpenShared("derived-stories260K-hf-f32");
            var rr = MethodTestKit.Compare(m, a, b);
            output.WriteLine("real  " + MethodTestKit.Describe(rr) + " " + rr.Raw["alignment"]?.ToJsonString());
            var c = MethodTestKit.OpenShared("derived-stories260K-hf-bf16");
            output.WriteLine("realderived " + MethodTestKit.Describe(MethodTestKit.Compare(m, c, b)));
        }
    }
}
