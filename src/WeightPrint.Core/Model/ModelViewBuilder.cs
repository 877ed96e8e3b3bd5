using WeightPrint.Formats;
using WeightPrint.Formats.Peft;
using WeightPrint.Model.Architectures;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Model;

/// <summary>
/// Builds the canonical <see cref="ModelView"/> of a checkpoint from config.json / GGUF metadata and tensor
/// name patterns: one mapping per family under <c>Model/Architectures</c>. A PEFT LoRA adapter becomes a view
/// of its updates ΔW (on its own) or of the merged model W + ΔW (with a base model).
/// </summary>
internal static class ModelViewBuilder
{
    private static readonly Func<ArchitectureMapping>[] Mappings =
    [
        () => new Llama2cMapping(),
        () => new GptOssMapping(),
        () => new DeepSeekMapping(),
        () => new MixtralMapping(),
        () => new PanguMoeMapping(),
        () => new QwenMoeMapping(),
        () => new Phi3Mapping(),
        () => new GemmaMapping(),
        () => new LlamaMapping(),
        () => new Gpt2Mapping(),
        () => new GptJMapping(),
        () => new GptNeoXMapping(),
        () => new BloomMapping(),
        () => new FalconMapping(),
        () => new OptMapping(),
        () => new BertMapping(),
        () => new DistilBertMapping(),
        () => new T5Mapping(),
    ];

    private static readonly (string Prefix, string Replacement, string What)[] Wrappers =
    [
        ("base_model.model.", "", "PEFT's base_model.model."),
        ("module.", "", "DataParallel's module."),
        ("language_model.model.", "model.", "a multimodal language_model."),
        ("model.language_model.", "model.", "a multimodal model.language_model."),
        ("language_model.lm_head.", "lm_head.", "a multimodal language_model."),
    ];

    /// <summary>The view of one checkpoint; a LoRA adapter is described on its own (roles hold ΔW).</summary>
    public static ModelView Build(Checkpoint checkpoint)
        => PeftAdapter.IsAdapter(checkpoint) ? BuildAdapter(checkpoint, ModelConfig.Empty, null) : BuildModel(checkpoint);

    /// <summary>
    /// The view of <paramref name="adapter"/>: with a <paramref name="baseModel"/>, the merged model (every role
    /// the adapter updates is <see cref="LoraMergedView"/> = base + ΔW, the rest is the base); without one, the
    /// adapter on its own. A non-adapter first argument is built as it is.
    /// </summary>
    public static ModelView Build(Checkpoint adapter, Checkpoint? baseModel)
    {
        if (baseModel == null) return Build(adapter);
        if (!PeftAdapter.IsAdapter(adapter))
            throw new InvalidModelFileException(adapter.Location, "--base was given but this checkpoint is not a LoRA adapter (no lora_A / lora_B tensors)");
        if (PeftAdapter.IsAdapter(baseModel))
            throw new InvalidModelFileException(baseModel.Location, "the base model is itself a LoRA adapter");
        var baseView = BuildModel(baseModel);
        var delta = BuildAdapter(adapter, new ModelConfig(baseModel.Config), baseView.Geometry);
        return Merge(baseView, delta, adapter);
    }

    private static ModelView BuildModel(Checkpoint checkpoint)
    {
        var notes = new List<string>();
        var sources = new List<WeightSource>();
        var stripped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors) sources.Add(new WeightSource(Normalise(t.Name, stripped), t));
        foreach (var w in stripped) notes.Add($"tensor names carry {w} prefix; it is removed before mapping.");

        // bitsandbytes int8: attach each weight's SCB row scales.
        var byName = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var s in sources)
        {
            if (s.Name.EndsWith(".SCB", StringComparison.Ordinal) && byName.TryGetValue(s.Name[..^4] + ".weight", out var w) && w.Tensor is { DType: TensorDType.I8 })
                w.RowScales = s.Tensor;
        }

        var config = IsAdapterConfig(checkpoint) ? ModelConfig.Empty : new ModelConfig(checkpoint.Config);
        return Assemble(checkpoint, sources, config, null, adapter: false, notes, []);
    }

    private static ModelView BuildAdapter(Checkpoint checkpoint, ModelConfig config, AttentionGeometry? geometry)
    {
        var peft = PeftAdapter.Read(checkpoint);
        var stripped = new SortedSet<string>(StringComparer.Ordinal);
        var sources = peft.Modules.Select(m => new WeightSource(Normalise(m.Module, stripped) + ".weight", new LoraDeltaView(m), m.Module + ".lora_A/lora_B")).ToList();
        var notes = new List<string>();
        string scales = string.Join(", ", peft.Modules.Select(m => (m.Rank, m.Alpha, m.Scale)).Distinct().Select(x => $"r={x.Rank}, alpha={(x.Alpha is { } a ? a.ToString("G4") : "unknown")}, scale={x.Scale:G4}"));
        notes.Add($"PEFT LoRA adapter for {peft.BaseModelNameOrPath ?? "an unnamed base model"}: {peft.Modules.Count} modules ({scales}{(peft.UseRsLora ? ", rsLoRA alpha/√r" : "")}).");
        notes.Add(geometry == null
            ? "Adapter described on its own: every role holds the update ΔW = scale·B·A in [out, in] orientation, not a weight; give a base model to see the merged weights."
            : "Roles updated by the adapter hold W + ΔW (ΔW = scale·B·A in [out, in] orientation).");
        if (peft.FanInFanOut) notes.Add("fan_in_fan_out: the base stores these weights [in, out] (Conv1D); PEFT adds (B·A)ᵀ there, which is B·A in canonical orientation.");
        notes.AddRange(peft.Notes);
        var ignored = peft.FullTensors.Select(f => new IgnoredTensor(f.Tensor.Name, "full weights saved with the adapter (modules_to_save); not a LoRA update and not merged")).ToList();
        return Assemble(checkpoint, sources, config, geometry, adapter: true, notes, ignored);
    }

    private static ModelView Assemble(Checkpoint checkpoint, List<WeightSource> sources, ModelConfig config, AttentionGeometry? known, bool adapter,
        List<string> preNotes, List<IgnoredTensor> ignored)
    {
        try
        {
            return AssembleParts(checkpoint, sources, config, known, adapter, preNotes, ignored);
        }
        catch (InvalidModelFileException e) when (e.FilePath.Length == 0)
        {
            // Name patterns know tensor names only; the checkpoint knows where they came from.
            throw new InvalidModelFileException(checkpoint.Location, e.Problem, e);
        }
    }

    private static ModelView AssembleParts(Checkpoint checkpoint, List<WeightSource> sources, ModelConfig config, AttentionGeometry? known, bool adapter,
        List<string> preNotes, List<IgnoredTensor> ignored)
    {
        var ctx = new MappingContext(checkpoint, config, sources);
        foreach (var n in preNotes) ctx.Note(n);
        var unrecognised = new List<string>();
        var mapping = Choose(ctx);
        if (mapping == null)
        {
            unrecognised.AddRange(sources.Select(s => s.OriginalName));
            ctx.Note(config.ModelType is { } mt
                ? $"Unknown architecture: model_type '{mt}' is not supported and no known tensor naming was found; no roles were assigned."
                : "Unknown architecture: no config.json model_type and no known tensor naming was found; no roles were assigned.");
            return new ModelView(checkpoint, "unknown", known ?? ArchitectureMapping.CommonGeometry(config), [], new Dictionary<ModelRole, TensorView>(), unrecognised, ctx.Notes, ignored);
        }

        var parts = new SortedDictionary<(int Stack, int Layer), LayerParts>();
        var model = new Dictionary<ModelRole, WeightSource>();
        foreach (var s in sources)
        {
            switch (mapping.Classify(s.Name))
            {
                case null:
                    unrecognised.Add(s.OriginalName);
                    break;
                case IgnoreTarget i:
                    ignored.Add(new IgnoredTensor(s.OriginalName, i.Reason));
                    break;
                case ModelTarget m:
                    if (!model.TryAdd(m.Role, s)) ignored.Add(new IgnoredTensor(s.OriginalName, $"second tensor for {m.Role} (kept {model[m.Role].OriginalName})"));
                    break;
                case LayerTarget lt:
                    var key = (lt.Stack == "encoder" ? 0 : 1, lt.Layer);
                    if (!parts.TryGetValue(key, out var p)) parts[key] = p = new LayerParts(lt.Stack, lt.Layer);
                    if (lt.Expert != LayerTarget.NoExpert)
                    {
                        if (!p.Experts.TryGetValue(lt.Expert, out var d)) p.Experts[lt.Expert] = d = new(StringComparer.Ordinal);
                        d[lt.Key] = s;
                    }
                    else (lt.Bias ? p.Biases : p.Weights)[lt.Key] = s;
                    break;
            }
        }

        var geometry = known ?? mapping.Geometry(ctx);
        geometry = FillFromShapes(geometry, parts.Values, model, mapping.Layout(ctx, geometry).Conv1D);
        var layout = mapping.Layout(ctx, geometry);
        var layers = parts.Values.Select(p => LayerAssembler.Build(p, geometry, layout, ctx)).ToList();
        var modelViews = new Dictionary<ModelRole, TensorView>();
        foreach (var (role, s) in model)
            modelViews[role] = role is ModelRole.FinalNorm or ModelRole.EmbeddingNorm or ModelRole.EncoderFinalNorm ? s.Vector() : s.Matrix();

        // An adapter's updates are checked against its base model's weights when they are merged.
        if (!adapter) ValidateShapes(checkpoint, geometry.HiddenSize, layers, modelViews);
        mapping.Finish(ctx, geometry);
        if (!adapter && mapping.ConfiguredLayers(ctx) is > 0 and var configured && configured != layers.Count)
            ctx.Note($"The config promises {configured} layers but {layers.Count} were found.");
        var incomplete = layers.Where(l => !adapter && (l.Get(TensorRole.AttnQ) == null || l.Get(TensorRole.AttnK) == null || l.Get(TensorRole.AttnV) == null || l.Get(TensorRole.AttnO) == null)).ToList();
        if (incomplete.Count > 0)
            ctx.Note($"{incomplete.Count} layer(s) lack one of Q/K/V/O: {string.Join(", ", incomplete.Take(8).Select(l => $"{l.Stack} {l.Index}"))}{(incomplete.Count > 8 ? ", …" : "")}.");
        if (layers.Count == 0) ctx.Note("No transformer layers were recognised.");
        if (unrecognised.Count > 0) ctx.Note($"{unrecognised.Count} tensor(s) were not recognised (see UnrecognisedTensors).");

        string arch = mapping.ArchitectureName(ctx);
        if (adapter) arch = $"peft-lora({arch})";
        return new ModelView(checkpoint, arch, geometry, layers, modelViews, unrecognised, ctx.Notes, ignored);
    }

    /// <summary>
    /// The one shape check between reading and the methods: every weight that takes or returns the residual stream
    /// must have <paramref name="hidden"/> columns (Q, K, V, gate, up: unless Q or K/V take a low-rank latent, as in
    /// MLA) or rows (O, down), gate and up must agree, down must take what up gives, and the per-layer norms and the
    /// embedding must have <paramref name="hidden"/> elements per row. A file whose shapes contradict its own
    /// geometry (a reshaped or transposed weight, a scalar where a matrix belongs) is refused here, naming the
    /// tensor and the expected shape, so no method meets it.
    /// </summary>
    private static void ValidateShapes(Checkpoint checkpoint, int hidden, IReadOnlyList<LayerView> layers, Dictionary<ModelRole, TensorView> model)
    {
        if (hidden <= 0) return;
        void Fail(TensorView t, string what, string expected) => throw new InvalidModelFileException(checkpoint.Location,
            $"tensor {ErrorText.Quote(t.Description)} ({what}) has shape {t.ShapeText} but this model needs {expected} (hidden size {hidden})");
        void Columns(TensorView? t, string what, long expected)
        {
            if (t != null && t.Columns != expected) Fail(t, what, $"[*, {expected}]");
        }

        void Rows(TensorView? t, string what, long expected)
        {
            if (t != null && t.Rows != expected) Fail(t, what, $"[{expected}, *]");
        }

        void Mlp(Func<TensorRole, TensorView?> get, string where)
        {
            TensorView? gate = get(TensorRole.MlpGate), up = get(TensorRole.MlpUp), down = get(TensorRole.MlpDown);
            Columns(gate, where + " MLP gate", hidden);
            Columns(up, where + " MLP up", hidden);
            Rows(down, where + " MLP down", hidden);
            if (gate != null && up != null) Rows(up, where + " MLP up", gate.Rows);
            if (down != null && (up ?? gate) is { } input) Columns(down, where + " MLP down", input.Rows);
        }

        foreach (var l in layers)
        {
            string where = $"{l.Stack} layer {l.Index}";
            if (l.Get(TensorRole.AttnQLowRank) == null) Columns(l.Get(TensorRole.AttnQ), where + " attention Q", hidden);
            if (l.Get(TensorRole.AttnKvLowRank) == null)
            {
                Columns(l.Get(TensorRole.AttnK), where + " attention K", hidden);
                Columns(l.Get(TensorRole.AttnV), where + " attention V", hidden);
            }

            Rows(l.Get(TensorRole.AttnO), where + " attention O", hidden);
            foreach (var norm in (ReadOnlySpan<TensorRole>)[TensorRole.AttnNorm, TensorRole.MlpNorm])
                Columns(l.Get(norm), $"{where} {norm}", hidden);
            Mlp(l.Get, where);
            foreach (var e in l.Experts) Mlp(e.Get, $"{where} expert {e.Index}");
        }

        Columns(model.GetValueOrDefault(ModelRole.Embedding), "token embedding", hidden);
        Columns(model.GetValueOrDefault(ModelRole.LmHead), "output head", hidden);
    }

    /// <summary>The family for this checkpoint: GGUF by metadata, llama2.c by format, config model_type, then the
    /// tensor names (with a note), or null.</summary>
    private static ArchitectureMapping? Choose(MappingContext ctx)
    {
        if (ctx.IsGguf)
        {
            var g = new GgufMapping();
            g.Prepare(ctx);
            return g;
        }

        if (ctx.Checkpoint.Format == "llama2c")
        {
            var l = new LlamaMapping();
            l.Prepare(ctx);
            return l;
        }

        string? mt = ctx.Config.ModelType, textMt = ctx.Config.TextModelType;
        foreach (var f in Mappings)
        {
            var m = f();
            if ((mt != null && m.ModelTypes.Contains(mt)) || (textMt != null && m.ModelTypes.Contains(textMt)))
            {
                m.Prepare(ctx);
                return m;
            }
        }

        ArchitectureMapping? best = null;
        int bestScore = 0;
        foreach (var f in Mappings)
        {
            var m = f();
            m.Prepare(ctx);
            if (!m.HasSignature(ctx)) continue;
            int score = ctx.Sources.Count(s => m.Classify(s.Name) is LayerTarget);
            if (score > bestScore)
            {
                best = m;
                bestScore = score;
            }
        }

        if (best != null)
        {
            string name = best.ArchitectureName(ctx);
            ctx.Note(mt == null
                ? $"No config.json model_type: the architecture was recognised from tensor names as {name}."
                : $"config.json model_type '{mt}' is not a known architecture; the layout was recognised from tensor names as {name} (roles follow that family's conventions).");
        }

        return best;
    }

    private static AttentionGeometry FillFromShapes(AttentionGeometry g, IEnumerable<LayerParts> parts, Dictionary<ModelRole, WeightSource> model, bool conv1D)
    {
        var first = parts.FirstOrDefault(p => p.Weights.Count > 0);
        TensorView? W(string key) => first != null && first.Weights.TryGetValue(key, out var s) ? s.Matrix(conv1D) : null;
        int hidden = g.HiddenSize, vocab = g.VocabSize, ff = g.IntermediateSize, heads = g.Heads, kv = g.KvHeads, hd = g.HeadDim, experts = g.Experts;
        if (model.TryGetValue(ModelRole.Embedding, out var emb) && emb.Shape.Count == 2)
        {
            if (hidden == 0) hidden = (int)emb.Shape[1];
            if (vocab == 0) vocab = (int)emb.Shape[0];
        }

        if (hidden == 0 && (W("q") ?? W("qkv") ?? W("o")) is { } q) hidden = (int)(W("o") is { } o ? o.Rows : q.Columns);
        if (ff == 0 && (W("up") ?? W("gate") ?? W("down")) is { } up) ff = (int)(W("down") is { } down ? down.Columns : up.Rows);
        if (hd == 0 && first != null && first.Weights.TryGetValue("q_norm", out var qn) && qn.Tensor is { } qnt) hd = (int)qnt.ElementCount;
        if (heads == 0 && hd > 0 && W("q") is { } qq && qq.Rows % hd == 0) heads = (int)(qq.Rows / hd);
        if ((kv == 0 || (g.Heads == 0 && heads > 0)) && hd > 0 && W("k") is { } kk && kk.Rows % hd == 0) kv = (int)(kk.Rows / hd);
        if (kv == 0) kv = heads;
        if (experts == 0)
        {
            foreach (var p in parts)
            {
                int routed = p.Experts.Keys.Count(k => k >= 0);
                if (p.Weights.TryGetValue("exps_gate", out var eg) && eg.Tensor is { Shape.Count: 3 } egt) routed = Math.Max(routed, (int)egt.Shape[0]);
                if (p.Weights.TryGetValue("exps_gate_up_t", out var eu) && eu.Tensor is { Shape.Count: 3 } eut) routed = Math.Max(routed, (int)eut.Shape[0]);
                if (p.Weights.TryGetValue("exps_gate_up_blocks", out var eb) && eb.Tensor is { Shape.Count: 4 } ebt) routed = Math.Max(routed, (int)ebt.Shape[0]);
                experts = Math.Max(experts, routed);
            }
        }

        return g with { HiddenSize = hidden, VocabSize = vocab, IntermediateSize = ff, Heads = heads, KvHeads = kv, HeadDim = hd, Experts = experts };
    }

    private static ModelView Merge(ModelView baseView, ModelView delta, Checkpoint adapter)
    {
        if (delta.Layers.Count == 0 && delta.ModelTensors.Count == 0)
            throw new InvalidModelFileException(adapter.Location, "the adapter's modules map to no known roles, so it cannot be merged");
        var byKey = delta.Layers.ToDictionary(l => (l.Stack, l.Index));
        var used = new HashSet<(string, int)>();
        int merged = 0;
        TensorView MergeOne(TensorView? w, TensorView d, string where, string role)
        {
            if (w == null) throw new InvalidModelFileException(adapter.Location, $"the adapter updates {where} {role}, which the base model does not have");
            if (w.Rows != d.Rows || w.Columns != d.Columns)
                throw new InvalidModelFileException(adapter.Location, $"the adapter's update of {where} {role} is {d.ShapeText} but the base weight is {w.ShapeText}: wrong base model?");
            merged++;
            return new LoraMergedView(w, d);
        }

        var layers = new List<LayerView>();
        foreach (var bl in baseView.Layers)
        {
            if (!byKey.TryGetValue((bl.Stack, bl.Index), out var dl))
            {
                layers.Add(bl);
                continue;
            }

            used.Add((bl.Stack, bl.Index));
            string where = $"{bl.Stack} layer {bl.Index}";
            var tensors = new Dictionary<TensorRole, TensorView>(bl.Tensors);
            foreach (var (role, d) in dl.Tensors) tensors[role] = MergeOne(bl.Get(role), d, where, role.ToString());
            var experts = bl.Experts.ToList();
            foreach (var de in dl.Experts)
            {
                int i = experts.FindIndex(e => e.Index == de.Index && e.IsShared == de.IsShared);
                if (i < 0) throw new InvalidModelFileException(adapter.Location, $"the adapter updates expert {de.Index} of {where}, which the base model does not have");
                var et = new Dictionary<TensorRole, TensorView>(experts[i].Tensors);
                foreach (var (role, d) in de.Tensors) et[role] = MergeOne(experts[i].Get(role), d, $"{where} expert {de.Index}", role.ToString());
                experts[i] = new ExpertView(experts[i].Index, experts[i].IsShared, et, experts[i].Group);
            }

            layers.Add(new LayerView(bl.Index, bl.Stack, tensors, experts, bl.Biases));
        }

        var missing = delta.Layers.FirstOrDefault(l => !used.Contains((l.Stack, l.Index)));
        if (missing != null) throw new InvalidModelFileException(adapter.Location, $"the adapter updates {missing.Stack} layer {missing.Index}, which the base model does not have");
        var model = new Dictionary<ModelRole, TensorView>(baseView.ModelTensors);
        foreach (var (role, d) in delta.ModelTensors) model[role] = MergeOne(baseView.Get(role), d, "model", role.ToString());

        var notes = new List<string>(baseView.Notes) { $"Merged with LoRA adapter {adapter.Location}: {merged} weights are W + ΔW." };
        notes.AddRange(delta.Notes);
        var unrecognised = baseView.UnrecognisedTensors.Concat(delta.UnrecognisedTensors.Select(u => "adapter: " + u)).ToList();
        var ignored = baseView.IgnoredTensors.Concat(delta.IgnoredTensors.Select(i => i with { Name = "adapter: " + i.Name })).ToList();
        return new ModelView(baseView.Checkpoint, baseView.Architecture, baseView.Geometry, layers, model, unrecognised, notes, ignored);
    }

    /// <summary>Removes wrapper prefixes (torch.compile's _orig_mod., PEFT's base_model.model., DataParallel's
    /// module., a multimodal model's language_model.) and records which were found.</summary>
    private static string Normalise(string name, SortedSet<string> stripped)
    {
        string n = name;
        if (n.Contains("_orig_mod.", StringComparison.Ordinal))
        {
            n = n.Replace("_orig_mod.", "", StringComparison.Ordinal);
            stripped.Add("torch.compile's _orig_mod.");
        }

        foreach (var (prefix, replacement, what) in Wrappers)
        {
            if (n.StartsWith(prefix, StringComparison.Ordinal))
            {
                n = replacement + n[prefix.Length..];
                stripped.Add(what);
            }
        }

        return n;
    }

    private static bool IsAdapterConfig(Checkpoint c)
        => c.Config is { ValueKind: System.Text.Json.JsonValueKind.Object } cfg && (cfg.TryGetProperty("peft_type", out _) || cfg.TryGetProperty("lora_alpha", out _));
}
