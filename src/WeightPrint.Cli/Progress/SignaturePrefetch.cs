using WeightPrint.Comparison;
using WeightPrint.Model;
using WeightPrint.Signals;

namespace WeightPrint.Cli.Progress;

/// <summary>
/// Extracts each input's per-model signatures before the comparisons run, one progress bar per model and method
/// (bytes read of the model's layer tensors). The signatures land in <see cref="ComparisonInput.CachedSignature"/>,
/// where the methods find them; results are unchanged. A failure here is left for the comparison itself to report
/// (methods decide whether it is "not applicable").
/// </summary>
internal static class SignaturePrefetch
{
    public static void Run(IReadOnlyList<OpenedInput> inputs, IReadOnlyList<string> labels, IReadOnlyList<SignalMethod> methods,
        MethodContext context, ProgressRouter router, ProgressReporter progress)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i].Input;
            if (input.View is not { } view || input.IsFingerprint) continue;
            foreach (var m in methods.Where(m => m.HasSignature && !input.Signatures.ContainsKey(m.Id)))
            {
                using var task = progress.Start($"reading {labels[i]} ({m.Id})", m.SignatureBytes(view));
                router.Target = task;
                try
                {
                    input.CachedSignature(m.Id, () => m.ExtractSignature(view, context));
                }
                catch (Exception)
                {
                    // The comparison extracts again and reports the problem in its own way.
                }
                finally
                {
                    router.Target = null;
                }
            }
        }
    }
}
