using WeightPrint.Formats;
using WeightPrint.Formats.Peft;
using WeightPrint.IO;
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
    int Seed)
{
    /// <summary>Tensors, per model (index into <see cref="Models"/>), in which a method met NaN or ±Infinity.</summary>
    public IReadOnlyList<NonFiniteTensor> NonFinite { get; init; } = [];
}

/// <summary>A tensor of model <paramref name="Model"/> (0 = A) that holds NaN or ±Infinity values.</summary>
public sealed record NonFiniteTensor(int Model, string Tensor)
{
    /// <summary>What every method does with such values (one policy, applied where tensors are read).</summary>
    public const string Policy =
        "non-finite values (NaN, ±Infinity) are left out of moment statistics (pdf, pdf-mlp, identity) and read as 0 by every method that reads rows (pcs, neuron-match, cka, spectral, layers)";
}

/// <summary>One input to compare, opened: a model (checkpoint + view) or a fingerprint file.</summary>
public sealed class OpenedInput : IDisposable
{
    private readonly Checkpoint? _base;

    private OpenedInput(ModelSummary summary, ComparisonInput input, Checkpoint? checkpoint, Checkpoint? baseCheckpoint = null, Fingerprint? fingerprint = null)
    {
        Summary = summary;
        Input = input;
        Checkpoint = checkpoint;
        _base = baseCheckpoint;
        Fingerprint = fingerprint;
    }

    /// <summary>True when the input is a LoRA adapter described on its own: an update (ΔW), not a model.</summary>
    public bool IsUpdate { get; private init; }

    /// <summary>The fingerprint, when the input is a fingerprint file.</summary>
    public Fingerprint? Fingerprint { get; }

    /// <summary>What was opened: path, format, architecture, size.</summary>
    public ModelSummary Summary { get; }

    internal ComparisonInput Input { get; }

    internal Checkpoint? Checkpoint { get; }

    /// <summary>What reading a Hub model has cost so far (null for local models and fingerprint files).</summary>
    internal WeightPrint.IO.Http.RemoteTransfer? Transfer => Checkpoint != null ? HubLoader.TransferOf(Checkpoint) : null;

    /// <summary>Opens a model path (file, folder, hf: reference) or a fingerprint JSON file; Hub references are read
    /// with <paramref name="hubOptions"/> (default: <see cref="HubLoader.DefaultOptions"/>, else the environment).</summary>
    public static OpenedInput Open(string path, HubOptions? hubOptions = null)
    {
        if (Fingerprint.LooksLikeFingerprint(path)) return Of(Fingerprint.ReadFile(path), path);

        var checkpoint = ModelSource.Open(path, hubOptions);
        try
        {
            var view = ModelViewBuilder.Build(checkpoint);
            return new OpenedInput(ModelSummary.Of(view, path), new ComparisonInput(path, view), checkpoint) { IsUpdate = PeftAdapter.IsAdapter(checkpoint) };
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>An input made of a fingerprint (read from a file or a catalog), labelled <paramref name="label"/>.</summary>
    public static OpenedInput Of(Fingerprint fingerprint, string label)
        => new(fingerprint.Model with { Path = label, Source = "fingerprint" }, fingerprint.ToInput(label), null, null, fingerprint);

    /// <summary>Wraps a checkpoint opened by the caller (and its view); the input owns and disposes it.</summary>
    internal static OpenedInput FromCheckpoint(Checkpoint checkpoint, ModelView view, string label) =>
        new(ModelSummary.Of(view, label), new ComparisonInput(label, view), checkpoint);

    /// <summary>Opens <paramref name="path"/>; when it is a LoRA adapter and <paramref name="basePath"/> is given, the
    /// input is the merged model (base + ΔW), named "ADAPTER + BASE". Other inputs open as <see cref="Open(string, HubOptions?)"/>.</summary>
    public static OpenedInput Open(string path, string? basePath, HubOptions? hubOptions = null)
    {
        var plain = Open(path, hubOptions);
        if (basePath == null || !plain.IsUpdate) return plain;
        var adapter = plain.Checkpoint!;
        Checkpoint? baseCheckpoint = null;
        try
        {
            baseCheckpoint = ModelSource.Open(basePath, hubOptions);
            var view = ModelViewBuilder.Build(adapter, baseCheckpoint);
            string name = $"{path} + {basePath}";
            return new OpenedInput(ModelSummary.Of(view, name), new ComparisonInput(name, view), adapter, baseCheckpoint);
        }
        catch
        {
            baseCheckpoint?.Dispose();
            adapter.Dispose();
            throw;
        }
    }

    /// <summary>Closes the files (or Hub connections) behind the input.</summary>
    public void Dispose()
    {
        Checkpoint?.Dispose();
        _base?.Dispose();
    }
}

/// <summary>Runs the selected methods on a pair and decides the verdict.</summary>
internal static class ComparisonRunner
{
    public static ComparisonResult Run(OpenedInput a, OpenedInput b, IReadOnlyList<SignalMethod> methods, MethodContext context)
    {
        IdentityCheck.Result? identity = a.Input.View != null && b.Input.View != null && !a.Input.IsFingerprint && !b.Input.IsFingerprint
            ? IdentityCheck.Run(a.Input.View, b.Input.View, context.Threads, fingerprints: a.Transfer == null && b.Transfer == null, progress: context.Progress)
            : null;
        var results = new List<MethodResult>(methods.Count);
        foreach (var m in methods)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            results.Add(m.CompareInputs(a.Input, b.Input, context, results));
        }

        var verdict = WeightPrint.Verdict.VerdictRules.Decide(new WeightPrint.Verdict.VerdictInput(results,
            new WeightPrint.Verdict.IdentityEvidence(identity?.AllIdentical == true, identity?.Shared)));
        return new ComparisonResult([a.Summary, b.Summary], identity, results, verdict, context.Seed)
        {
            NonFinite = [.. NonFiniteTensors(0, a), .. NonFiniteTensors(1, b)],
        };
    }

    /// <summary>The tensors of <paramref name="input"/> in which a read met NaN or ±Infinity so far.</summary>
    public static IEnumerable<NonFiniteTensor> NonFiniteTensors(int model, OpenedInput input) =>
        input.Checkpoint?.Tensors.Where(t => t.HasNonFiniteValues).Select(t => new NonFiniteTensor(model, t.Name)) ?? [];
}
