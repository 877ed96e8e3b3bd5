using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.IO;
using WeightPrint.IO.Hub;
using WeightPrint.Model;
using WeightPrint.Signals;

namespace WeightPrint;

/// <summary>Options for opening a model.</summary>
public sealed record OpenOptions
{
    /// <summary>Hub options for <c>hf:</c> references (endpoint, token, caches); null reads the environment
    /// (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HOME</c> …).</summary>
    public HubOptions? Hub { get; init; }
}

/// <summary>Options for comparing two models.</summary>
public sealed record CompareOptions
{
    /// <summary>Method ids to run (see <see cref="Lineage.MethodIds"/>); null runs every method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>Seed of every sampled or permuted quantity: the same inputs and seed give the same result.</summary>
    public int Seed { get; init; } = new MethodContext().Seed;

    /// <summary>Threads used to read tensors.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// The front door of the library: open models (a path, an <c>hf:ORG/NAME</c> reference or a stream), compare two of
/// them, and read the verdict with its evidence. Everything is streamed: no call loads a whole model into memory.
/// <code>
/// using var a = await Lineage.OpenAsync("models/base");
/// using var b = await Lineage.OpenAsync("hf:org/suspect");
/// ComparisonResult result = await Lineage.CompareAsync(a, b);
/// Console.WriteLine($"{result.Verdict.Label}: {result.Verdict.Reason}");
/// </code>
/// Invalid input throws <see cref="InvalidModelFileException"/> with a one-line message naming the input.
/// </summary>
public static class Lineage
{
    /// <summary>Ids of every method, in the order they run.</summary>
    public static IReadOnlyList<string> MethodIds => MethodRegistry.Ids;

    /// <summary>Opens a model file or folder, a <c>hf:ORG/NAME[@REVISION]</c> reference, or a fingerprint file.
    /// Only headers are read here; tensors are read when a comparison needs them.</summary>
    public static Task<OpenedInput> OpenAsync(string pathOrReference, OpenOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pathOrReference);
        return Task.Run(() => OpenedInput.Open(pathOrReference, options?.Hub), cancellationToken);
    }

    /// <summary>Opens a single-file model (safetensors, GGUF, PyTorch zip, llama2.c) from a stream. A seekable
    /// stream is read in place, by ranges; any other stream is first copied to a temporary file, deleted when the
    /// model is disposed. The stream must stay open until then. <paramref name="name"/> names it in messages.</summary>
    public static async Task<OpenedInput> OpenAsync(Stream stream, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        IByteSource source = stream.CanSeek && stream.CanRead
            ? new StreamByteSource(stream, name)
            : await TemporaryFileSource.CopyAsync(stream, name, cancellationToken).ConfigureAwait(false);
        Checkpoint? checkpoint = null;
        try
        {
            checkpoint = CheckpointLoader.OpenFile(source, name);
            checkpoint.Own(source);
            var view = ModelViewBuilder.Build(checkpoint);
            return OpenedInput.FromCheckpoint(checkpoint, view, name);
        }
        catch
        {
            if (checkpoint != null) checkpoint.Dispose();
            else source.Dispose();
            throw;
        }
    }

    /// <summary>Makes an opened model's fingerprint: the seeded samples pcs and neuron-match need, the signatures of the
    /// selected methods that have one (pdf, pdf-mlp, spectral; <see cref="CompareOptions.Methods"/>), and the hashes of
    /// its files and tensors. The result can be written (<see cref="Fingerprint.Write"/>), read back
    /// (<see cref="Fingerprint.Read(Stream, string)"/>) and compared in place of the model (<see cref="OpenedInput.Of"/>), with the
    /// same seed. A fingerprint file opened with <see cref="OpenAsync(string, OpenOptions?, CancellationToken)"/> is
    /// returned as it is.</summary>
    public static Task<Fingerprint> FingerprintAsync(OpenedInput model, CompareOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Fingerprint is { } known) return Task.FromResult(known);
        options ??= new CompareOptions();
        var methods = Methods(options).Where(m => m.HasSignature).ToList();
        var context = Context(options, cancellationToken);
        return Task.Run(() => FingerprintBuilder.Of(model, methods, context), cancellationToken);
    }

    /// <summary>Compares two opened models (or fingerprints): every selected method, the identity check, and the
    /// verdict (<c>derived</c>, <c>independent</c> or <c>inconclusive</c>) with the sentence that decided it.
    /// Cancellation is observed between methods.</summary>
    public static Task<ComparisonResult> CompareAsync(OpenedInput a, OpenedInput b, CompareOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new CompareOptions();
        var methods = Methods(options);
        var context = Context(options, cancellationToken);
        return Task.Run(() => ComparisonRunner.Run(a, b, methods, context), cancellationToken);
    }

    private static IReadOnlyList<SignalMethod> Methods(CompareOptions options)
        => options.Methods == null ? MethodRegistry.All : MethodRegistry.Select(string.Join(',', options.Methods));

    private static MethodContext Context(CompareOptions options, CancellationToken cancellationToken)
        => new() { Seed = options.Seed, Threads = Math.Max(1, options.Threads), Cancellation = cancellationToken };
}
