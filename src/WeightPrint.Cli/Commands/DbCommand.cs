using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using WeightPrint.IO;
using WeightPrint.Catalog;
using WeightPrint.Cli.Progress;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Loading;

namespace WeightPrint.Cli.Commands;

/// <summary><c>weightprint db add|list|show|remove|export|import</c>: the catalog of fingerprints.</summary>
internal static class DbCommand
{
    /// <summary>The <c>--db</c> option shared by db and identify.</summary>
    public static Option<string?> DbOption() => new("--db")
    {
        Description = $"The catalog: a SQLite file or postgres://user:password@host:port/database (default: ${CatalogStore.EnvironmentVariable}, else $XDG_DATA_HOME/weightprint/catalog.db)",
        HelpName = "PATH|URL",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("db", "The catalog of fingerprints that identify searches");
        command.Subcommands.Add(Add(context));
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Show(context));
        command.Subcommands.Add(Remove(context));
        command.Subcommands.Add(Export(context));
        command.Subcommands.Add(Import(context));
        return command;
    }

    public static CatalogStore OpenStore(ParseResult parse, Option<string?> db) => CatalogStore.Open(CatalogStore.Resolve(parse.GetValue(db)));

    private static Command Add(CliContext context)
    {
        var inputs = new Argument<string[]>("input") { Description = "Models (file, folder, hf:ORG/NAME) or fingerprint files", Arity = ArgumentArity.OneOrMore };
        var name = new Option<string?>("--name") { Description = "Entry name (one input only; default: the file or folder name, or ORG/NAME)" };
        var note = new Option<string?>("--note") { Description = "A note stored with the entry (licence, provenance)" };
        var db = DbOption();
        var common = new CommonOptions();
        var command = new Command("add", "Fingerprint models (or take fingerprint files) and add them to the catalog, one transaction per entry") { inputs, name, note, db };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(inputs)!;
            if (paths.Length > 1 && parse.GetValue(name) != null) throw new UsageException("--name takes one input");
            using var store = OpenStore(parse, db);
            var methods = common.SelectedMethods(parse).Where(m => m.HasSignature).ToList();
            var progress = common.ProgressReporter(parse, context);
            var steps = new ProgressSteps(progress);
            var methodContext = common.Context(parse, steps);
            bool quiet = parse.GetValue(common.Quiet);
            foreach (string path in paths)
            {
                var fp = Fingerprint.LooksLikeFingerprint(path)
                    ? Fingerprint.ReadFile(path)
                    : FingerprintCommand.Make(path, methods, methodContext, steps, progress, context, quiet);
                string entry = parse.GetValue(name) ?? DefaultName(path);
                store.Add(entry, parse.GetValue(note), fp);
                if (!quiet) context.Err.WriteLine($"added '{entry}' to {store.Display}");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>A fingerprint file's name without extension; hf:ORG/NAME as ORG/NAME; else the file or folder name.</summary>
    public static string DefaultName(string path)
    {
        if (HubLoader.IsHubReference(path)) return path[3..];
        string trimmed = path.TrimEnd('/', '\\');
        string leaf = Path.GetFileName(trimmed);
        return File.Exists(trimmed) ? Path.GetFileNameWithoutExtension(leaf) : leaf;
    }

    private static Command List(CliContext context)
    {
        var db = DbOption();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("list", "List the catalog's entries") { db, json };
        command.SetAction(parse =>
        {
            using var store = OpenStore(parse, db);
            if (parse.GetValue(json))
            {
                var a = new JsonArray();
                foreach (var e in store.Entries()) a.Add((JsonNode)EntryJson(e));
                context.Out.WriteLine(a.ToJsonString(ComparisonJson.Options));
                return WeightPrintCli.ExitOk;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumn("name").AddColumn("architecture").AddColumn(new TableColumn("layers").RightAligned())
                .AddColumn(new TableColumn("hidden").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned()).AddColumn("source").AddColumn("added").AddColumn("note");
            long n = 0;
            foreach (var e in store.Entries())
            {
                n++;
                table.AddPlainRow(e.Name, e.Architecture, e.Layers.ToString(), e.HiddenSize.ToString(), e.Parameters.ToString("N0"), e.Source, e.Added, e.Note ?? "");
            }

            if (n == 0) context.Out.WriteLine($"{store.Display}: the catalog is empty (add models with 'weightprint db add MODEL')");
            else
            {
                context.Console.Write(table);
                context.Out.WriteLine($"{n} entries in {store.Display}");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    private static JsonObject EntryJson(CatalogEntry e) => new()
    {
        ["name"] = e.Name, ["architecture"] = e.Architecture, ["layers"] = e.Layers, ["hidden_size"] = e.HiddenSize, ["parameters"] = e.Parameters,
        ["source"] = e.Source, ["added"] = e.Added, ["note"] = e.Note, ["payload_sha256"] = e.PayloadSha256,
    };

    private static CatalogEntry Find(CatalogStore store, string name)
        => store.Find(name) ?? throw new CatalogException($"{store.Display}: no entry named '{name}'");

    private static Command Show(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Entry name" };
        var db = DbOption();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("show", "Show one entry: provenance, samples, signatures") { name, db, json };
        command.SetAction(parse =>
        {
            using var store = OpenStore(parse, db);
            var e = Find(store, parse.GetValue(name)!);
            var fp = store.LoadFingerprint(e);
            var o = EntryJson(e);
            o["tool"] = fp.Tool;
            o["seed"] = fp.Seed;
            o["source_kind"] = fp.Source?.Kind;
            o["hub_repo"] = fp.Source?.Repo;
            o["hub_commit"] = fp.Source?.Commit;
            var files = new JsonArray();
            foreach (var f in fp.Source?.Files ?? []) files.Add((JsonNode)new JsonObject { ["name"] = f.Name, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256 });
            o["files"] = files;
            o["sampled_tensors"] = fp.Samples.Count;
            o["sample_bytes"] = fp.SampleBytes;
            o["tensor_hashes"] = fp.TensorHashes.Count;
            o["signatures"] = new JsonArray([.. fp.Signatures.Keys.Select(k => (JsonNode)k)]);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(o.ToJsonString(ComparisonJson.Options));
                return WeightPrintCli.ExitOk;
            }

            foreach (var (k, v) in o)
            {
                string text = v is JsonArray arr ? string.Join(", ", arr.Select(x => x is JsonObject f ? $"{f["name"]} ({f["bytes"]} bytes, sha256 {f["sha256"] ?? "not known"})" : x?.ToString())) : v?.ToString() ?? "—";
                context.Out.WriteLine($"{k,-16} {text}");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    private static Command Remove(CliContext context)
    {
        var names = new Argument<string[]>("name") { Description = "Entry names", Arity = ArgumentArity.OneOrMore };
        var db = DbOption();
        var command = new Command("remove", "Remove entries (each in one transaction)") { names, db };
        command.SetAction(parse =>
        {
            using var store = OpenStore(parse, db);
            foreach (string n in parse.GetValue(names)!)
            {
                if (!store.Remove(n)) throw new CatalogException($"{store.Display}: no entry named '{n}'");
                context.Err.WriteLine($"removed '{n}'");
            }

            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    private static Command Export(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "JSON lines file to write: one {\"name\", \"note\", \"added\", \"fingerprint\"} object per line" };
        var db = DbOption();
        var command = new Command("export", "Write every entry as one line of JSON") { file, db };
        command.SetAction(parse =>
        {
            using var store = OpenStore(parse, db);
            string target = parse.GetValue(file)!;
            string temp = target + ".partial";
            long n = 0;
            using (var output = File.Create(temp))
            {
                foreach (var e in store.Entries().ToList())
                {
                    var head = new JsonObject { ["name"] = e.Name, ["note"] = e.Note, ["added"] = e.Added }.ToJsonString();
                    output.Write(Encoding.UTF8.GetBytes(head[..^1] + ",\"fingerprint\":"));
                    output.Write(store.LoadFingerprintBytes(e));
                    output.Write("}\n"u8);
                    n++;
                }
            }

            File.Move(temp, target, overwrite: true);
            context.Err.WriteLine($"exported {n} entries to {target}");
            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    private static Command Import(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "JSON lines file written by 'db export' (or the bundled samples/catalog.jsonl)" };
        var db = DbOption();
        var command = new Command("import", "Add every line's fingerprint to the catalog (entries already present with the same fingerprint are skipped)") { file, db };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            var lines = ReadCatalogLines(path);
            using var store = OpenStore(parse, db);
            int added = 0, skipped = 0;
            foreach (var (name, note, fp) in lines)
            {
                if (store.Find(name) is { } existing)
                {
                    if (existing.PayloadSha256 == fp.PayloadSha256) { skipped++; continue; }
                    throw new CatalogException($"{path}: entry '{name}' is already in {store.Display} with a different fingerprint (remove it first)");
                }

                store.Add(name, note, fp);
                added++;
            }

            context.Err.WriteLine($"imported {added} entries from {path} into {store.Display}" + (skipped > 0 ? $" ({skipped} already present)" : ""));
            return WeightPrintCli.ExitOk;
        });
        return command;
    }

    /// <summary>Reads and validates every line of a catalog JSON lines file before anything is stored.</summary>
    public static List<(string Name, string? Note, Fingerprint Fingerprint)> ReadCatalogLines(string path)
    {
        if (!File.Exists(path)) throw new InvalidModelFileException(path, "no such file");
        var result = new List<(string, string?, Fingerprint)>();
        using var stream = File.OpenRead(path);
        int lineNo = 0;
        foreach (var line in Lines(stream, path))
        {
            lineNo++;
            if (line.Length == 0 || line.All(b => b is (byte)' ' or (byte)'\r' or (byte)'\t')) continue;
            string where = $"{path} line {lineNo}";
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(where, "expected a JSON object");
                if (!root.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(n.GetString()))
                    throw new InvalidModelFileException(where, "field 'name': missing or not a non-empty string");
                string? note = root.TryGetProperty("note", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (!root.TryGetProperty("fingerprint", out var f) || f.ValueKind != JsonValueKind.Object)
                    throw new InvalidModelFileException(where, "field 'fingerprint': missing or not an object");
                var fp = Fingerprint.Read(new MemoryStream(Encoding.UTF8.GetBytes(f.GetRawText())), where);
                result.Add((n.GetString()!, note, fp));
            }
            catch (JsonException e)
            {
                throw new InvalidModelFileException(where, "not valid JSON: " + e.Message.Split('\n')[0]);
            }
        }

        return result;
    }

    /// <summary>Lines of a stream, each at most <see cref="Fingerprint.MaxBytes"/> bytes.</summary>
    private static IEnumerable<byte[]> Lines(Stream s, string path)
    {
        var line = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = s.Read(buffer)) > 0)
        {
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.Write(buffer, start, i - start);
                yield return line.ToArray();
                line.SetLength(0);
                start = i + 1;
            }

            line.Write(buffer, start, n - start);
            if (line.Length > Fingerprint.MaxBytes) throw new InvalidModelFileException(path, $"a line exceeds the {Fingerprint.MaxBytes}-byte limit of one fingerprint");
        }

        if (line.Length > 0) yield return line.ToArray();
    }
}
