using WeightPrint.Comparison;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Progress;

/// <summary>
/// Extracts each input's per-model signatures before the comparisons run, one progress bar per model and method
/// ("reading A (pdf)", bytes read of the tensors the method reads). The signatures land in
/// <see cref="ComparisonInput.CachedSignature"/>, where the methods find them; results are unchanged. A failure here
/// is left for the comparison itself to report (methods decide whether it is "not applicable").
/// </summary>
internal static class SignaturePrefetch
{
    public static void Run(IReadOnlyList<OpenedInput> inputs, IReadOnlyList<string> labels, IReadOnlyList<SignalMethod> methods,
        MethodContext context, ProgressSteps steps)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i].Input;
            if (input.View is not { } view || input.IsFingerprint) continue;
            foreach (var m in methods.Where(m => m.HasSignature && !input.Signatures.ContainsKey(m.Id)))
            {
                try
                {
                    steps.Run($"reading {labels[i]}", () => input.CachedSignature(m.Id, () => m.Extract(view, context)));
                }
                catch (Exception)
                {
                    // The comparison extracts again and reports the problem in its own way.
                }
            }
        }
    }
}
