using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Loading;

namespace WeightPrint.Comparison;

/// <summary>The outcome of comparing two inputs.</summary>
public sealed record ComparisonResult(
    IReadOnlyList<ModelSummary> Models,
    IdentityCheck.Result? Identity,
    IReadOnlyList<MethodResult> Methods,
    WeightPrint.Verdict.Verdict Verdict,
    int Seed);

/// <summary>One input to compare, opened: a model (checkpoint + view) or a fingerprint file.</summary>
public sealed class OpenedInput : IDisposable
{
    private OpenedInput(ModelSummary summary, ComparisonInput input, Checkpoint? checkpoint)
    {
        Summary = summary;
        Input = input;
        Checkpoint = checkpoint;
    }

    public ModelSummary Summary { get; }

    public ComparisonInput Input { get; }

    public Checkpoint? Checkpoint { get; }

    /// <summary>What reading a Hub model has cost so far (null for local models and fingerprint files).</summary>
    public WeightPrint.IO.Http.RemoteTransfer? Transfer => Checkpoint != null ? HubLoader.TransferOf(Checkpoint) : null;

    /// <summary>Opens a model path (file, folder, hf: reference) or a fingerprint JSON file; Hub references are read
    /// with <paramref name="hubOptions"/> (default: <see cref="HubLoader.DefaultOptions"/>, else the environment).</summary>
    public static OpenedInput Open(string path, HubOptions? hubOptions = null)
    {
        if (FingerprintFile.IsFingerprint(path))
        {
            var (summary, signatures) = FingerprintFile.Read(path);
            summary = summary with { Path = path };
            return new OpenedInput(summary, new ComparisonInput(path, null, signatures), null);
        }

        var checkpoint = ModelSource.Open(path, hubOptions);
        try
        {
            var view = ModelViewBuilder.Build(checkpoint);
            return new OpenedInput(ModelSummary.Of(view, path), new ComparisonInput(path, view), checkpoint);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a checkpoint opened by the caller (and its view); the input owns and disposes it.</summary>
    public static OpenedInput FromCheckpoint(Checkpoint checkpoint, ModelView view, string label) =>
        new(ModelSummary.Of(view, label), new ComparisonInput(label, view), checkpoint);

    public void Dispose() => Checkpoint?.Dispose();
}

/// <summary>Runs the selected methods on a pair and decides the verdict.</summary>
public static class ComparisonRunner
{
    public static ComparisonResult Run(OpenedInput a, OpenedInput b, IReadOnlyList<SignalMethod> methods, MethodContext context)
    {
        IdentityCheck.Result? identity = a.Input.View != null && b.Input.View != null
            ? IdentityCheck.Run(a.Input.View, b.Input.View, context.Threads, fingerprints: a.Transfer == null && b.Transfer == null)
            : null;
        var results = new List<MethodResult>(methods.Count);
        foreach (var m in methods)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            results.Add(m.Compare(a.Input, b.Input, context, results));
        }

        var verdict = WeightPrint.Verdict.VerdictRules.Decide(new WeightPrint.Verdict.VerdictInput(results,
            new WeightPrint.Verdict.IdentityEvidence(identity?.AllIdentical == true, identity?.Shared)));
        return new ComparisonResult([a.Summary, b.Summary], identity, results, verdict, context.Seed);
    }
}
