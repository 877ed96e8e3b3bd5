using System.Text.Json;
using System.Text.RegularExpressions;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.Peft;

/// <summary>
/// One LoRA-adapted module: <c>lora_A.weight</c> [r, in] and <c>lora_B.weight</c> [out, r] (for an embedding,
/// <c>lora_embedding_A</c> [r, vocab] and <c>lora_embedding_B</c> [dim, r]), and the scale that multiplies B·A.
/// </summary>
/// <param name="Module">The module path inside the base model, without PEFT's <c>base_model.model.</c> prefix
/// (e.g. <c>model.layers.0.self_attn.q_proj</c>).</param>
/// <param name="A">The down projection (lora_A).</param>
/// <param name="B">The up projection (lora_B).</param>
/// <param name="Rank">r: rows of A, columns of B.</param>
/// <param name="Alpha">lora_alpha for this module (alpha_pattern applied), or null when no adapter_config.json was found.</param>
/// <param name="Scale">alpha / r, alpha / √r with rsLoRA, or 1 when alpha is unknown.</param>
/// <param name="IsEmbedding">True for an embedding (ΔW = scale · (B·A)ᵀ, [vocab, dim]).</param>
internal sealed record LoraModule(string Module, TensorInfo A, TensorInfo B, int Rank, double? Alpha, double Scale, bool IsEmbedding);

/// <summary>
/// Reads a PEFT LoRA adapter: pairs <c>lora_A</c>/<c>lora_B</c> tensors per target module and reads
/// <c>adapter_config.json</c> (r, lora_alpha, use_rslora, rank_pattern, alpha_pattern, target_modules,
/// fan_in_fan_out, base_model_name_or_path). Knows nothing about roles: the model view maps modules to roles.
/// <para>Orientation: PEFT's lora_A is always [r, in_features] and lora_B [out_features, r], so B·A is the
/// update in [out, in] orientation. With <c>fan_in_fan_out</c> (GPT-2's Conv1D, stored [in, out]) PEFT adds
/// (B·A)ᵀ to the stored weight; in canonical orientation the update is still B·A.</para>
/// </summary>
internal sealed partial class PeftAdapter
{
    /// <summary>Largest LoRA rank accepted.</summary>
    public const int MaxRank = 1 << 16;

    /// <summary>The prefix PEFT puts before base-model module names.</summary>
    public const string WrapperPrefix = "base_model.model.";

    private PeftAdapter(string location)
    {
        Location = location;
    }

    public string Location { get; }

    /// <summary>True when an adapter_config.json was attached (Checkpoint.Config).</summary>
    public bool HasConfig { get; private set; }

    public string PeftType { get; private set; } = "LORA";

    /// <summary>Configured r (modules may differ through rank_pattern; each module's rank is read from its tensors).</summary>
    public int? ConfiguredRank { get; private set; }

    /// <summary>Configured lora_alpha.</summary>
    public double? ConfiguredAlpha { get; private set; }

    /// <summary>rsLoRA: scale = alpha / √r instead of alpha / r.</summary>
    public bool UseRsLora { get; private set; }

    /// <summary>The base layers store weights as [in, out] (GPT-2 Conv1D).</summary>
    public bool FanInFanOut { get; private set; }

    /// <summary>DoRA adapters also carry a magnitude vector, which is not applied here.</summary>
    public bool UseDora { get; private set; }

    public IReadOnlyList<string> TargetModules { get; private set; } = [];

    public string? BaseModelNameOrPath { get; private set; }

    public IReadOnlyList<LoraModule> Modules { get; private set; } = [];

    /// <summary>Full (non-LoRA) tensors in the adapter, e.g. <c>modules_to_save</c> heads, by name without the
    /// PEFT prefix.</summary>
    public IReadOnlyList<(string Name, TensorInfo Tensor)> FullTensors { get; private set; } = [];

    /// <summary>Plain-language notes (missing config, DoRA, unused patterns).</summary>
    public IReadOnlyList<string> Notes { get; private set; } = [];

    /// <summary>True when the checkpoint holds LoRA tensors (lora_A / lora_B / lora_embedding_A …).</summary>
    public static bool IsAdapter(Checkpoint checkpoint)
        => checkpoint.Tensors.Any(t => LoraPattern().IsMatch(t.Name) || LoraEmbeddingPattern().IsMatch(t.Name));

    /// <summary>Pairs the LoRA tensors of <paramref name="checkpoint"/> and reads its adapter config.</summary>
    public static PeftAdapter Read(Checkpoint checkpoint)
    {
        var adapter = new PeftAdapter(checkpoint.Location);
        var notes = new List<string>();
        var rankPattern = new Dictionary<string, int>(StringComparer.Ordinal);
        var alphaPattern = new Dictionary<string, double>(StringComparer.Ordinal);
        if (checkpoint.Config is { ValueKind: JsonValueKind.Object } cfg && LooksLikeAdapterConfig(cfg))
        {
            adapter.HasConfig = true;
            adapter.ReadConfig(cfg, rankPattern, alphaPattern);
        }
        else notes.Add("no adapter_config.json: lora_alpha is unknown, so ΔW is reported as B·A with scale 1 (the true update is (alpha/r)·B·A)");

        if (adapter.PeftType is not "LORA")
            throw new InvalidModelFileException(checkpoint.Location, $"PEFT type {adapter.PeftType} is not supported (only LoRA adapters are)");
        if (adapter.UseDora) notes.Add("DoRA adapter: its magnitude vectors are not applied; ΔW is the low-rank part only");

        var pairs = new SortedDictionary<string, (TensorInfo? A, TensorInfo? B, bool Embedding)>(StringComparer.Ordinal);
        var adapterNames = new HashSet<string>(StringComparer.Ordinal);
        var full = new List<(string, TensorInfo)>();
        foreach (var t in checkpoint.Tensors)
        {
            var m = LoraPattern().Match(t.Name);
            bool embedding = false;
            if (!m.Success)
            {
                m = LoraEmbeddingPattern().Match(t.Name);
                embedding = m.Success;
            }

            if (!m.Success)
            {
                full.Add((StripPrefix(t.Name), t));
                continue;
            }

            if (m.Groups["adapter"].Success && m.Groups["adapter"].Value != "weight") adapterNames.Add(m.Groups["adapter"].Value);
            string module = StripPrefix(m.Groups["module"].Value);
            pairs.TryGetValue(module, out var p);
            if (m.Groups["ab"].Value == "A")
            {
                if (p.A != null) throw new InvalidModelFileException(checkpoint.Location, $"module {module} has two lora_A tensors");
                p.A = t;
            }
            else
            {
                if (p.B != null) throw new InvalidModelFileException(checkpoint.Location, $"module {module} has two lora_B tensors");
                p.B = t;
            }

            p.Embedding |= embedding;
            pairs[module] = p;
        }

        if (adapterNames.Count > 1)
            throw new InvalidModelFileException(checkpoint.Location, $"file holds several adapters ({string.Join(", ", adapterNames.Order(StringComparer.Ordinal))}); save one adapter per file");

        var modules = new List<LoraModule>();
        foreach (var (module, (a, b, embedding)) in pairs)
        {
            if (a == null || b == null)
                throw new InvalidModelFileException(checkpoint.Location, $"module {module} has lora_{(a == null ? "B" : "A")} but no lora_{(a == null ? "A" : "B")}");
            if (a.Shape.Count != 2 || b.Shape.Count != 2)
                throw new InvalidModelFileException(checkpoint.Location, $"module {module}: LoRA tensors must be matrices (A {a.ShapeText}, B {b.ShapeText})");
            long rank = a.Shape[0];
            if (rank != b.Shape[1])
                throw new InvalidModelFileException(checkpoint.Location, $"module {module}: lora_A {a.ShapeText} and lora_B {b.ShapeText} disagree on the rank");
            if (rank < 1 || rank > MaxRank)
                throw new InvalidModelFileException(checkpoint.Location, $"module {module}: rank {rank} is outside 1..{MaxRank}");
            if (!a.DType.IsFloatingPoint() || !b.DType.IsFloatingPoint())
                throw new InvalidModelFileException(checkpoint.Location, $"module {module}: LoRA tensors must be floating point (A {a.DType.Name()}, B {b.DType.Name()})");

            int r = (int)rank;
            double? alpha = adapter.HasConfig ? Pattern(alphaPattern, module) ?? adapter.ConfiguredAlpha : null;
            int configured = Pattern(rankPattern, module) ?? adapter.ConfiguredRank ?? r;
            if (adapter.HasConfig && configured != r)
                notes.Add($"module {module}: tensors have rank {r} but the config says {configured}; the tensors' rank is used");
            double scale = alpha is { } al ? (adapter.UseRsLora ? al / Math.Sqrt(r) : al / r) : 1.0;
            modules.Add(new LoraModule(module, a, b, r, alpha, scale, embedding));
        }

        if (modules.Count == 0) throw new InvalidModelFileException(checkpoint.Location, "no LoRA tensors (lora_A / lora_B) found");
        adapter.Modules = modules;
        adapter.FullTensors = full;
        adapter.Notes = notes;
        return adapter;
    }

    /// <summary>The module name without PEFT's <c>base_model.model.</c> prefix.</summary>
    public static string StripPrefix(string name) => name.StartsWith(WrapperPrefix, StringComparison.Ordinal) ? name[WrapperPrefix.Length..] : name;

    private static bool LooksLikeAdapterConfig(JsonElement cfg)
        => cfg.TryGetProperty("peft_type", out _) || cfg.TryGetProperty("lora_alpha", out _) || (cfg.TryGetProperty("r", out _) && cfg.TryGetProperty("target_modules", out _));

    private void ReadConfig(JsonElement cfg, Dictionary<string, int> rankPattern, Dictionary<string, double> alphaPattern)
    {
        if (cfg.TryGetProperty("peft_type", out var pt) && pt.ValueKind == JsonValueKind.String) PeftType = pt.GetString()!.ToUpperInvariant();
        if (cfg.TryGetProperty("r", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt32(out int ri)) ConfiguredRank = ri;
        if (cfg.TryGetProperty("lora_alpha", out var a) && a.ValueKind == JsonValueKind.Number) ConfiguredAlpha = a.GetDouble();
        ConfiguredAlpha ??= 8; // PEFT's LoraConfig default
        UseRsLora = Bool(cfg, "use_rslora");
        FanInFanOut = Bool(cfg, "fan_in_fan_out");
        UseDora = Bool(cfg, "use_dora");
        if (cfg.TryGetProperty("base_model_name_or_path", out var b) && b.ValueKind == JsonValueKind.String) BaseModelNameOrPath = b.GetString();
        if (cfg.TryGetProperty("target_modules", out var tm))
        {
            if (tm.ValueKind == JsonValueKind.Array) TargetModules = [.. tm.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)];
            else if (tm.ValueKind == JsonValueKind.String) TargetModules = [tm.GetString()!];
        }

        if (cfg.TryGetProperty("rank_pattern", out var rp) && rp.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in rp.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int v)) rankPattern[p.Name] = v;
        }

        if (cfg.TryGetProperty("alpha_pattern", out var ap) && ap.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in ap.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number) alphaPattern[p.Name] = p.Value.GetDouble();
        }
    }

    private static bool Bool(JsonElement cfg, string key) => cfg.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;

    /// <summary>rank_pattern / alpha_pattern lookup: a key matches a module named exactly so or ending in "." + key
    /// (PEFT also allows regular expressions; those are not evaluated here).</summary>
    private static T? Pattern<T>(Dictionary<string, T> patterns, string module) where T : struct
    {
        foreach (var (key, value) in patterns)
        {
            if (module == key || module.EndsWith("." + key, StringComparison.Ordinal)) return value;
        }

        return null;
    }

    [GeneratedRegex(@"^(?<module>.+?)\.lora_(?<ab>A|B)(?:\.(?<adapter>[^.]+))?\.weight$")]
    private static partial Regex LoraPattern();

    [GeneratedRegex(@"^(?<module>.+?)\.lora_embedding_(?<ab>A|B)(?:\.(?<adapter>[^.]+))?$")]
    private static partial Regex LoraEmbeddingPattern();
}
