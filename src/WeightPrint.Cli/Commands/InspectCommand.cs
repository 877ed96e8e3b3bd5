using WeightPrint.Numerics;
using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Loading;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint inspect MODEL [--roles] [--json]</c>: format, dtypes, sizes, metadata, tensors, roles.</summary>
internal static class InspectCommand
{
    /// <summary>Metadata values longer than this are summarised in the console table.</summary>
    private const int MaxShownMetadataArray = 8;

    /// <summary>Metadata strings longer than this (chat templates) are cut in the console table.</summary>
    private const int MaxShownMetadataString = 160;

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The model: " + HelpText.Model };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var roles = new Option<bool>("--roles") { Description = "Show the detected architecture and the layer × role table" };
        var baseModel = new Option<string?>("--base") { Description = "With a LoRA adapter: the base model (" + HelpText.Model + ") to merge it into; implies --roles (roles become W + ΔW)", HelpName = "MODEL" };
        var command = new Command("inspect", HelpText.Describe(
            "Describe a checkpoint: format, dtypes, parameter count, metadata and tensors",
            [
                "weightprint inspect model.safetensors",
                "weightprint inspect hf:ORG/NAME --roles",
                "weightprint inspect adapter/ --base base-model/ --json",
            ])) { model, json, roles, baseModel };
        command.SetAction(parse =>
        {
            using var checkpoint = ModelSource.Open(parse.GetValue(model)!);
            string? basePath = parse.GetValue(baseModel);
            using var baseCheckpoint = basePath != null ? ModelSource.Open(basePath) : null;
            ModelView? view = parse.GetValue(roles) || baseCheckpoint != null ? ModelViewBuilder.Build(checkpoint, baseCheckpoint) : null;
            if (parse.GetValue(json)) context.Out.WriteLine(ToJson(checkpoint, view));
            else PrintTables(context.Console, checkpoint, view);
            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>Version of the <c>inspect --json</c> document (docs/inspect.schema.json).</summary>
    public const int SchemaVersion = 1;

    public static string ToJson(Checkpoint c, ModelView? view) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("schema_version", SchemaVersion);
        w.WriteString("tool", "weightprint");
        w.WriteString("tool_version", WeightPrint.Comparison.ToolInfo.Version);
        w.WriteString("tool_commit", WeightPrint.Comparison.ToolInfo.Commit);
        w.WriteString("path", c.Location);
        w.WriteString("format", c.Format);
        w.WriteNumber("tensor_count", c.Tensors.Count);
        w.WriteNumber("parameters", c.ParameterCount);
        w.WriteNumber("bytes", c.TotalBytes);
        w.WriteStartObject("dtypes");
        foreach (var g in c.Tensors.GroupBy(t => t.DType).OrderBy(g => g.Key)) w.WriteNumber(g.Key.Name(), g.Sum(t => t.ElementCount));
        w.WriteEndObject();
        w.WriteStartArray("files");
        foreach (var f in c.Files)
        {
            w.WriteStartObject();
            w.WriteString("path", f.Name);
            w.WriteNumber("bytes", f.Length);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("metadata");
        foreach (var (k, v) in c.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WritePropertyName(k);
            w.MetadataValue(v);
        }

        w.WriteEndObject();
        if (c.Config is { } config)
        {
            w.WritePropertyName("config");
            config.WriteTo(w);
        }

        if (c.Vocabulary != null) w.WriteNumber("vocabulary_size", c.Vocabulary.Count);
        w.WriteStartArray("tensors");
        foreach (var t in c.Tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("dtype", t.DType.Name());
            w.WriteStartArray("shape");
            foreach (var d in t.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteNumber("bytes", t.ByteLength);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (view != null) WriteRoles(w, view);
        w.WriteEndObject();
    });

    private static void WriteRoles(Utf8JsonWriter w, ModelView view)
    {
        w.WriteStartObject("model_view");
        w.WriteString("architecture", view.Architecture);
        var g = view.Geometry;
        w.WriteStartObject("geometry");
        w.WriteNumber("hidden_size", g.HiddenSize);
        w.WriteNumber("heads", g.Heads);
        w.WriteNumber("kv_heads", g.KvHeads);
        w.WriteNumber("head_dim", g.HeadDim);
        w.WriteNumber("intermediate_size", g.IntermediateSize);
        w.WriteNumber("vocab_size", g.VocabSize);
        w.WriteNumber("experts", g.Experts);
        w.WriteEndObject();
        w.WriteStartObject("model_tensors");
        foreach (var (role, t) in view.ModelTensors) WriteView(w, role.ToString(), t);
        w.WriteEndObject();
        w.WriteStartArray("layers");
        foreach (var layer in view.Layers)
        {
            w.WriteStartObject();
            w.WriteNumber("index", layer.Index);
            w.WriteString("stack", layer.Stack);
            w.WriteStartObject("roles");
            foreach (var (role, t) in layer.Tensors) WriteView(w, role.ToString(), t);
            w.WriteEndObject();
            if (layer.Experts.Count > 0)
            {
                w.WriteStartArray("experts");
                foreach (var e in layer.Experts)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", e.Index);
                    w.WriteBoolean("shared", e.IsShared);
                    foreach (var (role, t) in e.Tensors) WriteView(w, role.ToString(), t);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("unrecognised_tensors");
        foreach (var u in view.UnrecognisedTensors) w.WriteStringValue(u);
        w.WriteEndArray();
        w.WriteStartArray("ignored_tensors");
        foreach (var i in view.IgnoredTensors)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            w.WriteString("reason", i.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("notes");
        foreach (var n in view.Notes) w.WriteStringValue(n);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteView(Utf8JsonWriter w, string name, TensorView t)
    {
        w.WriteStartObject(name);
        w.WriteString("source", t.Description);
        w.WriteStartArray("shape");
        w.WriteNumberValue(t.Rows);
        w.WriteNumberValue(t.Columns);
        w.WriteEndArray();
        w.WriteString("dtype", t.DType.Name());
        w.WriteEndObject();
    }

    private static void PrintTables(IAnsiConsole console, Checkpoint c, ModelView? view)
    {
        long parameters = c.ParameterCount;
        console.MarkupLine($"[bold]{c.Location}[/]");
        console.WriteLine($"format      {c.Format}");
        console.WriteLine($"tensors     {c.Tensors.Count}");
        console.WriteLine($"parameters  {parameters:N0}");
        console.WriteLine($"bytes       {c.TotalBytes:N0}");
        console.WriteLine("dtypes      " + string.Join(", ", c.Tensors.GroupBy(t => t.DType).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()} ({g.Sum(t => t.ElementCount):N0} params)")));
        if (c.Vocabulary != null) console.WriteLine($"vocabulary  {c.Vocabulary.Count:N0} tokens");
        if (c.Metadata.Count > 0)
        {
            var meta = new Table().AddColumn("metadata key").AddColumn("value").Border(TableBorder.Simple);
            foreach (var (k, v) in c.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta.AddPlainRow(k, Summarise(v));
            console.Write(meta);
        }

        if (view != null) PrintRoles(console, view);
        else
        {
            PrintTensorList(console, c.Tensors);
        }
    }

    /// <summary>Tensors above this count are listed as plain aligned lines, written one by one: a table widget
    /// holds every cell (and its layout) in memory, hundreds of MB for a header listing 10⁵ tensors.</summary>
    public const int MaxTableRows = 2_000;

    private static void PrintTensorList(IAnsiConsole console, IReadOnlyList<TensorInfo> tensors)
    {
        if (tensors.Count <= MaxTableRows)
        {
            var table = new Table().AddColumn("tensor").AddColumn("dtype").AddColumn("shape").Border(TableBorder.Simple);
            foreach (var t in tensors) table.AddPlainRow(t.Name, t.DType.Name(), t.ShapeText);
            console.Write(table);
            return;
        }

        int width = Math.Min(120, tensors.Max(t => t.Name.Length));
        console.Profile.Out.Writer.WriteLine($"  {"tensor".PadRight(width)}  {"dtype",-8}  shape");
        foreach (var t in tensors) console.Profile.Out.Writer.WriteLine($"  {t.Name.PadRight(width)}  {t.DType.Name(),-8}  {t.ShapeText}");
    }

    private static void PrintRoles(IAnsiConsole console, ModelView view)
    {
        var g = view.Geometry;
        console.WriteLine($"architecture {view.Architecture}: {view.Layers.Count} layers, hidden {g.HiddenSize}, heads {g.Heads}, kv heads {g.KvHeads}, head dim {g.HeadDim}, mlp {g.IntermediateSize}, vocab {g.VocabSize}"
            + (g.Experts > 0 ? $", {g.Experts} experts" : ""));
        foreach (var note in view.Notes) console.WriteLine("note: " + note);
        var model = new Table().AddColumn("model role").AddColumn("tensor").AddColumn("shape").AddColumn("dtype").Border(TableBorder.Simple);
        foreach (var (role, t) in view.ModelTensors) model.AddPlainRow(role.ToString(), t.Description, t.ShapeText, t.DType.Name());
        console.Write(model);
        var table = new Table().AddColumn("layer").AddColumn("role").AddColumn("tensor").AddColumn("shape").AddColumn("dtype").Border(TableBorder.Simple);
        foreach (var layer in view.Layers)
        {
            foreach (var (role, t) in layer.Tensors.OrderBy(kv => kv.Key))
                table.AddPlainRow($"{layer.Stack} {layer.Index}", role.ToString(), t.Description, t.ShapeText, t.DType.Name());
            foreach (var e in layer.Experts)
            {
                foreach (var (role, t) in e.Tensors.OrderBy(kv => kv.Key))
                    table.AddPlainRow($"{layer.Stack} {layer.Index}", $"{(e.IsShared ? "shared expert" : "expert")} {e.Index} {role}", t.Description, t.ShapeText, t.DType.Name());
            }
        }

        console.Write(table);
        if (view.IgnoredTensors.Count > 0)
            console.WriteLine($"ignored tensors ({view.IgnoredTensors.Count}): " + string.Join(", ", view.IgnoredTensors.GroupBy(i => i.Reason).Select(g => $"{g.Count()} × {g.Key}")));
        if (view.UnrecognisedTensors.Count > 0)
            console.WriteLine($"unrecognised tensors ({view.UnrecognisedTensors.Count}): " + string.Join(", ", view.UnrecognisedTensors.Take(20)) + (view.UnrecognisedTensors.Count > 20 ? ", …" : ""));
    }

    private static string Summarise(object v) => v switch
    {
        object[] a when a.Length > MaxShownMetadataArray => $"[{a.Length} items: {string.Join(", ", a.Take(MaxShownMetadataArray).Select(Summarise))}, …]",
        object[] a => "[" + string.Join(", ", a.Select(Summarise)) + "]",
        string s => Printable(s.Length > MaxShownMetadataString ? s[..MaxShownMetadataString] + "…" : s),
        _ => v.ToString() ?? "",
    };

    /// <summary>Control characters (token strings hold newlines) escaped so that one value stays on one line.</summary>
    private static string Printable(string s)
    {
        if (!s.Any(char.IsControl)) return s;
        var sb = new System.Text.StringBuilder(s.Length + 8);
        foreach (char ch in s)
        {
            sb.Append(ch switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(ch) => $"\\u{(int)ch:X4}",
                _ => ch.ToString(),
            });
        }

        return sb.ToString();
    }
}
