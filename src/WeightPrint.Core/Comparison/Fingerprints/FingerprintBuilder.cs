using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Signals.Toolbox;

namespace WeightPrint.Comparison;

/// <summary>
/// Makes a <see cref="Fingerprint"/> from a model: reads exactly the blocks of <see cref="SampleLayout"/> that pcs
/// and neuron-match read, the embedding rows of the token block, and hashes the files of a local model.
/// </summary>
internal static class FingerprintBuilder
{
    /// <summary>Routed experts sampled per MoE layer (expert 0, 1, …; shared experts always).</summary>
    public const int MaxExperts = 8;

    /// <summary>The fingerprint of an opened model: the signatures of <paramref name="methods"/> (each extracted once per
    /// input, so signatures already extracted for it are reused), then the samples and hashes.</summary>
    public static Fingerprint Of(OpenedInput model, IEnumerable<SignalMethod> methods, MethodContext context, IWorkProgress? progress = null)
    {
        var view = model.Input.View ?? throw new InvalidOperationException($"{model.Summary.Path} has no weights to fingerprint");
        var signatures = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var m in methods)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            signatures[m.Id] = model.Input.CachedSignature(m.Id, () => m.Extract(view, context));
        }

        return Build(view, model.Summary, signatures, context.Seed, progress: progress);
    }

    /// <summary>What the tensor hashes cover, as written into a fingerprint of a local model.</summary>
    public const string LocalHashScope = "every contiguous stored tensor (the files are read in full for their SHA-256 anyway)";

    public const string HubHashScope = "none: a Hub model is read only in part (the listing's sizes and the commit identify it)";

    /// <param name="view">The model.</param>
    /// <param name="summary">What outputs say about it.</param>
    /// <param name="signatures">Per-method signatures already extracted (pdf, pdf-mlp, spectral), by id.</param>
    /// <param name="seed">The sample seed (the comparison must use the same seed).</param>
    /// <param name="hashFiles">Hash the files and tensors of a local model (SHA-256, XxHash128).</param>
    /// <param name="progress">Receives two steps: "sampling" (bytes of the sampled rows, tensor by tensor) and, when
    /// hashing, "hashing" (bytes hashed, chunk by chunk).</param>
    public static Fingerprint Build(ModelView view, ModelSummary summary, IReadOnlyDictionary<string, JsonObject> signatures, int seed, bool hashFiles = true,
        IWorkProgress? progress = null)
    {
        var samples = Samples(view, seed, out var tokenIds, progress);
        var vocabulary = view.Checkpoint.Vocabulary;
        var strings = tokenIds.Select(i => vocabulary != null && i < vocabulary.Count ? vocabulary[i] : null).ToList();
        var (source, hashes, scope) = Provenance(view.Checkpoint, hashFiles, progress);
        return new Fingerprint
        {
            Seed = seed,
            Model = summary,
            Source = source,
            TensorHashes = hashes,
            TensorHashScope = scope,
            TokenIds = vocabulary != null ? tokenIds : [],
            TokenStrings = vocabulary != null ? strings : [],
            Samples = samples,
            Signatures = signatures.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The progress step that reads the samples.</summary>
    public const string SamplingStep = "sampling";

    /// <summary>The progress step that hashes a local model's files and tensors.</summary>
    public const string HashingStep = "hashing";

    /// <summary>Bytes of the model that <see cref="Build"/> reads for its samples (whole rows of each block).</summary>
    public static long SampleReadBytes(ModelView view, int seed) => Plan(view, seed, out _).Sum(ReadBytes);

    /// <summary>Bytes read for one block: its whole rows.</summary>
    private static long ReadBytes((string Key, TensorView View, int[] Rows, int[]? Columns) block)
    {
        var src = block.View.Sources.Count > 0 ? block.View.Sources[0] : null;
        long rowBytes = src == null ? 0 : src.ByteLength / Math.Max(1, block.View.Rows);
        return rowBytes * block.Rows.Length;
    }

    /// <summary>The stored tensor key of a canonical tensor: the model role, or stack.layer[.expert].role.</summary>
    public static string Key(LayerView layer, TensorRole role, ExpertView? expert = null)
        => expert == null ? $"{layer.Stack}.{layer.Index}.{role}" : $"{layer.Stack}.{layer.Index}.expert{(expert.IsShared ? "s" : "")}{expert.Index}.{role}";

    private static List<TensorSample> Samples(ModelView view, int seed, out int[] tokenIds, IWorkProgress? progress)
    {
        var result = new List<TensorSample>();
        var plan = Plan(view, seed, out tokenIds);
        progress?.Begin(SamplingStep, plan.Sum(ReadBytes));
        foreach (var block in plan)
        {
            var (key, t, rows, cols) = block;
            var values = cols == null ? ModelParts.ReadRows(t, rows) : ModelParts.ReadSubmatrix(t, rows, cols);
            int c0 = cols == null ? 0 : cols[0], cn = cols == null ? (int)t.Columns : cols.Length;
            result.Add(new TensorSample(key, t.Rows, t.Columns, [SampleBlock.FromSingles(rows[0], rows.Length, c0, cn, values)]));
            progress?.Advance(ReadBytes(block));
        }

        return result;
    }

    /// <summary>Every stored block: tensor key, view, rows, columns (null = all columns). Rows and columns are contiguous.</summary>
    private static List<(string Key, TensorView View, int[] Rows, int[]? Columns)> Plan(ModelView view, int seed, out int[] tokenIds)
    {
        var plan = new List<(string, TensorView, int[], int[]?)>();
        tokenIds = [];
        var blocks = ModelParts.Blocks(view);
        int d = view.Geometry.HiddenSize > 0 ? view.Geometry.HiddenSize : (int)(blocks.Count > 0 ? blocks[0].Get(TensorRole.AttnQ)?.Columns ?? 0 : 0);
        if (d <= 0) return plan;
        var residual = SampleLayout.Residual(d, seed);
        var pcsResidual = SampleLayout.PcsResidual(d, seed);
        foreach (var layer in blocks)
        {
            foreach (var role in new[] { TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV })
            {
                if (layer.Get(role) is { } t && t.Columns == d)
                    plan.Add((Key(layer, role), t, SampleLayout.Other(role.ToString(), Rows(t), seed), pcsResidual));
            }

            if (layer.Get(TensorRole.AttnO) is { } o && o.Rows == d)
                plan.Add((Key(layer, TensorRole.AttnO), o, pcsResidual, SampleLayout.Other(nameof(TensorRole.AttnO), (int)o.Columns, seed)));

            var dense = (layer.Get(TensorRole.MlpUp), layer.Get(TensorRole.MlpDown));
            if (dense is ({ } up, { } down)) AddMlp(plan, layer, null, layer.Get(TensorRole.MlpGate), up, down, d, residual, pcsResidual, seed);
            foreach (var e in layer.Experts.Where(e => e.IsShared || e.Index < MaxExperts))
            {
                if (e.Get(TensorRole.MlpUp) is { } eu && e.Get(TensorRole.MlpDown) is { } ed) AddMlp(plan, layer, e, e.Get(TensorRole.MlpGate), eu, ed, d, residual, pcsResidual, seed);
            }
        }

        var embedding = view.Get(ModelRole.Embedding);
        var head = view.Get(ModelRole.LmHead);
        if (embedding is { } emb && emb.Columns == d)
        {
            tokenIds = SampleLayout.TokenBlock(Rows(emb), seed);
            plan.Add((nameof(ModelRole.Embedding), emb, tokenIds, null));
        }

        if (head is { } h && h.Columns == d)
        {
            if (embedding == null) tokenIds = SampleLayout.TokenBlock(Rows(h), seed);
            plan.Add((nameof(ModelRole.LmHead), h, SampleLayout.TokenBlock(Rows(h), seed), embedding == null ? null : pcsResidual));
        }

        return plan;
    }

    private static void AddMlp(List<(string, TensorView, int[], int[]?)> plan, LayerView layer, ExpertView? expert, TensorView? gate, TensorView up, TensorView down,
        int d, int[] residual, int[] pcsResidual, int seed)
    {
        if (up.Columns != d || down.Rows != d) return;
        if (gate != null && gate.Columns == d) plan.Add((Key(layer, TensorRole.MlpGate, expert), gate, SampleLayout.NeuronBlock(Rows(gate), seed), residual));
        plan.Add((Key(layer, TensorRole.MlpUp, expert), up, SampleLayout.NeuronBlock(Rows(up), seed), residual));
        // Without a gate, neuron-match reads down's columns on the residual block; pcs reads its start.
        plan.Add((Key(layer, TensorRole.MlpDown, expert), down, gate != null ? pcsResidual : residual, SampleLayout.NeuronBlock((int)down.Columns, seed)));
    }

    private static int Rows(TensorView t) => checked((int)t.Rows);

    private static (FingerprintSource Source, Dictionary<string, string> Hashes, string Scope) Provenance(Checkpoint c, bool hashFiles, IWorkProgress? progress)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (c.Metadata.TryGetValue("hub.repo", out var repo))
        {
            // The Hub's listing gives the SHA-256 of each LFS file's content, so it is recorded without reading the file.
            var hubFiles = c.Files.Select(f => new FingerprintSourceFile(FileName(f.Name), f.Length,
                c.Metadata.GetValueOrDefault(Loading.HubLoader.Sha256Key + FileName(f.Name)) as string)).ToList();
            return (new FingerprintSource("hub", repo as string, c.Metadata.GetValueOrDefault("hub.commit") as string, hubFiles), hashes, HubHashScope);
        }

        var files = new List<FingerprintSourceFile>();
        var tensors = c.Tensors.Where(t => t.IsContiguous && t.ByteLength > 0).ToList();
        if (hashFiles) progress?.Begin(HashingStep, c.Files.Sum(f => f.Length) + tensors.Sum(t => t.ByteLength));
        foreach (var f in c.Files) files.Add(new FingerprintSourceFile(FileName(f.Name), f.Length, hashFiles ? Sha256(f, progress) : null));
        if (!hashFiles) return (new FingerprintSource("local", null, null, files), hashes, "none (not requested)");
        foreach (var t in tensors) hashes[t.Name] = XxHash128Of(t, progress);
        return (new FingerprintSource("local", null, null, files), hashes, LocalHashScope);
    }

    private static string FileName(string name) => name.Contains("://", StringComparison.Ordinal) ? name[(name.LastIndexOf('/') + 1)..] : Path.GetFileName(name);

    private const int Chunk = 4 << 20;

    private static string Sha256(IO.IByteSource f, IWorkProgress? progress)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[(int)Math.Min(Chunk, Math.Max(1, f.Length))];
        for (long at = 0; at < f.Length; at += Chunk)
        {
            int n = (int)Math.Min(Chunk, f.Length - at);
            f.Read(at, buffer.AsSpan(0, n));
            sha.AppendData(buffer, 0, n);
            progress?.Advance(n);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string XxHash128Of(TensorInfo t, IWorkProgress? progress)
    {
        var h = new XxHash128();
        var buffer = new byte[(int)Math.Min(Chunk, t.ByteLength)];
        for (long at = 0; at < t.ByteLength; at += Chunk)
        {
            int n = (int)Math.Min(Chunk, t.ByteLength - at);
            t.Source.Read(t.DataOffset + at, buffer.AsSpan(0, n));
            h.Append(buffer.AsSpan(0, n));
            progress?.Advance(n);
        }

        return Convert.ToHexStringLower(h.GetCurrentHash());
    }
}

/// <summary>The model view of a fingerprint's samples: the full shapes, with only the stored blocks readable.</summary>
internal static class FingerprintView
{
    public static ModelView? Build(Fingerprint fp)
    {
        if (fp.Samples.Count == 0) return null;
        IReadOnlyList<string>? vocabulary = null;
        if (fp.TokenStrings.Count > 0)
        {
            int size = Math.Max(fp.Model.Geometry?.VocabSize ?? 0, fp.TokenIds.Max() + 1);
            var v = new string[size];
            Array.Fill(v, "");
            for (int i = 0; i < fp.TokenIds.Count; i++) v[fp.TokenIds[i]] = fp.TokenStrings[i] ?? "";
            vocabulary = v;
        }

        var checkpoint = new Checkpoint(fp.Model.Path, "fingerprint", []) { Vocabulary = vocabulary };
        var modelTensors = new Dictionary<ModelRole, TensorView>();
        var layers = new SortedDictionary<(int Order, int Index), (string Stack, Dictionary<TensorRole, TensorView> Tensors, SortedDictionary<(bool, int), Dictionary<TensorRole, TensorView>> Experts)>();
        foreach (var s in fp.Samples)
        {
            var view = new SampledTensorView(s.Tensor, s.Rows, s.Columns, s.Blocks);
            var parts = s.Tensor.Split('.');
            if (parts.Length == 1 && Enum.TryParse<ModelRole>(parts[0], out var mr))
            {
                modelTensors[mr] = view;
                continue;
            }

            if (parts.Length is < 3 or > 4 || !int.TryParse(parts[1], out int index) || !Enum.TryParse<TensorRole>(parts[^1], out var role)) continue;
            var key = (parts[0] == "encoder" ? 0 : 1, index);
            if (!layers.TryGetValue(key, out var layer)) layers[key] = layer = (parts[0], [], []);
            if (parts.Length == 3) layer.Tensors[role] = view;
            else
            {
                string e = parts[2];
                bool shared = e.StartsWith("experts", StringComparison.Ordinal);
                if (!int.TryParse(e[(shared ? 7 : 6)..], out int ei)) continue;
                if (!layer.Experts.TryGetValue((shared, ei), out var et)) layer.Experts[(shared, ei)] = et = [];
                et[role] = view;
            }
        }

        var layerViews = layers.Select(kv => new LayerView(kv.Key.Index, kv.Value.Stack, kv.Value.Tensors,
            kv.Value.Experts.Select(e => new ExpertView(e.Key.Item2, e.Key.Item1, e.Value)).ToList())).ToList();
        var geometry = fp.Model.Geometry ?? new AttentionGeometry(0, 0, 0, 0, 0, 0);
        return new ModelView(checkpoint, fp.Model.Architecture, geometry, layerViews, modelTensors, [], ["a fingerprint's samples: only the stored blocks can be read"]);
    }
}
