using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using WeightPrint.Catalog;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Catalog;

public class CatalogTests
{
    private static string Sample(params string[] parts) => Path.Combine([SharedModels.RepoRoot, "samples", .. parts]);

    [Fact]
    public void Add_list_show_export_import_and_remove_round_trip()
    {
        using var dir = new TempDir();
        string db = dir.File("c.db");
        var add = CliRunner.Run("db", "add", Sample("stories260K-llama2c", "stories260K.bin"), "--db", db, "--name", "s260", "--note", "MIT", "--quiet");
        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.Equal(0, CliRunner.Run("db", "add", Sample("llama2xs-hf-f32"), "--db", db, "--quiet").ExitCode);
        var list = JsonNode.Parse(CliRunner.Run("db", "list", "--db", db, "--json").Stdout)!.AsArray();
        Assert.Equal(["s260", "llama2xs-hf-f32"], list.Select(e => (string)e!["name"]!));
        Assert.Equal("MIT", (string)list[0]!["note"]!);
        var show = JsonNode.Parse(CliRunner.Run("db", "show", "s260", "--db", db, "--json").Stdout)!;
        Assert.Equal(64, (int)show["hidden_size"]!);
        Assert.NotNull(show["files"]![0]!["sha256"]);

        var again = CliRunner.Run("db", "add", Sample("llama2xs-hf-f32"), "--db", db, "--quiet");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already has an entry named 'llama2xs-hf-f32'", again.Stderr);

        Assert.Equal(0, CliRunner.Run("db", "export", dir.File("c.jsonl"), "--db", db).ExitCode);
        Assert.Equal(2, File.ReadAllLines(dir.File("c.jsonl")).Length);
        string other = dir.File("other.db");
        Assert.Equal(0, CliRunner.Run("db", "import", dir.File("c.jsonl"), "--db", other).ExitCode);
        Assert.Equal(0, CliRunner.Run("db", "import", dir.File("c.jsonl"), "--db", other).ExitCode); // same fingerprints: skipped
        using (var store = CatalogStore.Open(other))
        {
            Assert.Equal(2, store.Count());
            Assert.Equal(store.LoadFingerprintBytes(store.Find("s260")!), File.ReadAllLines(dir.File("c.jsonl"))[0].Split("\"fingerprint\":", 2)[1][..^1].Select(c => (byte)c).ToArray());
        }

        Assert.Equal(0, CliRunner.Run("db", "remove", "s260", "--db", db).ExitCode);
        Assert.Equal(2, CliRunner.Run("db", "remove", "s260", "--db", db).ExitCode);
        Assert.Single(JsonNode.Parse(CliRunner.Run("db", "list", "--db", db, "--json").Stdout)!.AsArray());
    }

    [Fact]
    public void Identify_finds_the_base_in_the_bundled_catalog_and_says_so_when_nothing_matches()
    {
        using var dir = new TempDir();
        string db = dir.File("c.db");
        Assert.Equal(0, CliRunner.Run("db", "import", Sample("catalog.jsonl"), "--db", db).ExitCode);
        var r = CliRunner.Run("identify", Sample("stories260K-gguf-q8_0"), "--db", db, "--json", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("stories260K", (string)json["best"]!["name"]!);
        Assert.Equal("derived", (string)json["best"]!["label"]!);
        Assert.Contains("Bonferroni over the 2 catalog entries", (string)json["best"]!["reason"]!);
        Assert.Equal(2, (int)json["catalog"]!["tested"]!);
        Assert.NotEqual("derived", (string)json["candidates"]![1]!["verdict"]!["label"]!);

        // The candidates are compared side by side on several threads, one at a time on one: the same bytes.
        var one = CliRunner.Run("identify", Sample("stories260K-gguf-q8_0"), "--db", db, "--json", "--quiet", "--threads", "1");
        var four = CliRunner.Run("identify", Sample("stories260K-gguf-q8_0"), "--db", db, "--json", "--quiet", "--threads", "4");
        Assert.Equal(r.Stdout, one.Stdout);
        Assert.Equal(r.Stdout, four.Stdout);

        // Without the base in the catalog: a plain "no match".
        Assert.Equal(0, CliRunner.Run("db", "remove", "stories260K", "--db", db).ExitCode);
        var none = CliRunner.Run("identify", Sample("stories260K-hf-bf16"), "--db", db, "--quiet");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("no match", none.Stdout);
        Assert.DoesNotContain("best match", none.Stdout);
    }

    [Fact]
    public void A_new_SQLite_catalog_uses_64_KiB_pages()
    {
        // Fewer overflow pages per stored fingerprint (a 7B one is 56 MB): identify reads K of them.
        using var dir = new TempDir();
        string db = dir.File("c.db");
        CatalogStore.Open(db).Dispose();
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA page_size";
        Assert.Equal(65536L, (long)cmd.ExecuteScalar()!);
    }

    [Fact]
    public void The_Bonferroni_adjustment_keeps_every_field_of_a_result_and_adjusts_its_parts()
    {
        // Found with the 7B identify benchmark: the adjusted copy lost the null kind (and the parts and transform), so two
        // exact tests that ran with p 0.45 and 0.97 read as "no exact test applied".
        static WeightPrint.Signals.MethodResult Exact(string id, double p) => new()
        {
            Id = id, PValue = p, Score = 0.01, NullDescription = "permutation", NullKind = WeightPrint.Signals.NullKind.ExactPermutation,
            Parts = [new WeightPrint.Signals.PartTest("attention", 0, 0, 0.01, p, id), new WeightPrint.Signals.PartTest("mlp", 0, 0, 0.01, 1e-300, id)],
            Transform = "identity",
        };
        var results = new[] { Exact("pcs", 0.45), Exact("neuron-match", 0.97) };
        var adjusted = results.Select(r => r.MultiplyPValues(5)).ToList();
        Assert.Equal(1, adjusted[0].PValue); // 0.45 × 5, capped
        Assert.All(adjusted, r => Assert.Equal(WeightPrint.Signals.NullKind.ExactPermutation, r.NullKind));
        Assert.All(adjusted, r => Assert.Equal("identity", r.Transform));
        Assert.Equal([1, 1e-300], adjusted[0].Parts.Select(t => t.PValue)); // a floored part stays at the floor
        var v = Identify.Adjusted(results, 5);
        Assert.DoesNotContain("no exact test applied", v.Reason, StringComparison.Ordinal);
        Assert.Equal(WeightPrint.Verdict.Verdict.Independent, v.Label);
    }

    [Fact]
    public void The_prefilter_keeps_the_top_entries_of_a_stream_and_skips_other_widths()
    {
        var fp = WeightPrint.Comparison.Fingerprint.ReadFile(FingerprintFiles.Stories);
        var sketch = Sketch.Of(fp);
        var rnd = new Random(3);
        IEnumerable<CatalogEntry> Entries()
        {
            for (int i = 0; i < 1000; i++)
            {
                var s = i == 777 ? sketch : sketch.Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
                yield return new CatalogEntry(i + 1, $"e{i}", null, "", "llama", i % 10 == 3 ? 32 : 64, 5, 1, "", "", s);
            }
        }

        var (count, compatible, list) = Identify.Prefilter(Entries(), fp, 3);
        Assert.Equal(1000, count);
        Assert.Equal(900, compatible);
        Assert.Equal(3, list.Count);
        Assert.Equal("e777", list[0].Entry.Name);
        Assert.Equal(1, list[0].Score, 6);
    }

    [Theory]
    [InlineData("mysql://u:p@localhost/db", "unknown catalog scheme 'mysql://'")]
    [InlineData("postgres://u:secret@127.0.0.1:1/db", "cannot use the PostgreSQL catalog")]
    [InlineData("postgres://u:p@127.0.0.1:1/", "names no database")]
    public void Bad_catalog_locations_give_one_line_and_exit_code_2(string db, string expected)
    {
        var r = CliRunner.Run("db", "list", "--db", db);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(expected, r.Stderr);
        Assert.DoesNotContain("secret", r.Stderr);
    }

    [Fact]
    public void A_version_1_catalog_is_migrated_and_a_fingerprint_shared_by_entries_is_stored_once()
    {
        using var dir = new TempDir();
        string db = dir.File("v1.db");
        var fp = WeightPrint.Comparison.Fingerprint.ReadFile(FingerprintFiles.Stories);
        byte[] body = System.Text.Encoding.UTF8.GetBytes(fp.ToJsonLine());
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            // The version 1 schema as it was written: each entry's fingerprint in its own row of 'fingerprints'.
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
                CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, note TEXT, added TEXT NOT NULL, architecture TEXT NOT NULL,
                    hidden_size INTEGER NOT NULL, layers INTEGER NOT NULL, parameters INTEGER NOT NULL, source TEXT NOT NULL, payload_sha256 TEXT NOT NULL, sketch BLOB NOT NULL);
                CREATE TABLE fingerprints (entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE, body BLOB NOT NULL);
                INSERT INTO entries VALUES (1, 'a', NULL, '2026-01-01T00:00:00Z', 'llama', 64, 5, 1, 'x', @sha, @sketch);
                INSERT INTO entries VALUES (2, 'b', NULL, '2026-01-01T00:00:00Z', 'llama', 64, 5, 1, 'x', @sha, @sketch);
                INSERT INTO fingerprints VALUES (1, @body); INSERT INTO fingerprints VALUES (2, @body);
                """;
            cmd.Parameters.AddWithValue("@sha", fp.PayloadSha256);
            cmd.Parameters.AddWithValue("@sketch", Sketch.ToBytes(Sketch.Of(fp)));
            cmd.Parameters.AddWithValue("@body", body);
            cmd.ExecuteNonQuery();
        }

        using var store = CatalogStore.Open(db);
        Assert.Equal(2, store.Count());
        Assert.Equal(1, store.Payloads());
        Assert.Equal(0, store.Orphans());
        Assert.Equal(body, store.LoadFingerprintBytes(store.Find("b")!));
        store.Add("c", null, fp);
        Assert.Equal(1, store.Payloads());
        Assert.True(store.Remove("a"));
        Assert.True(store.Remove("b"));
        Assert.Equal(fp.PayloadSha256, store.LoadFingerprint(store.Find("c")!).PayloadSha256); // still held by 'c'
        Assert.True(store.Remove("c"));
        Assert.Equal(0, store.Payloads()); // the last entry took its fingerprint with it
        Assert.Equal("ok", store.IntegrityCheck());
    }

    [Fact]
    public void A_corrupt_file_and_a_newer_schema_are_refused_with_one_line()
    {
        using var dir = new TempDir();
        string corrupt = dir.File("corrupt.db");
        File.WriteAllBytes(corrupt, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 37))]);
        var r = CliRunner.Run("db", "list", "--db", corrupt);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a usable SQLite catalog", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));

        string newer = dir.File("newer.db");
        using (CatalogStore.Open(newer))
        {
        }

        using (var c = new SqliteConnection($"Data Source={newer};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE schema_version SET version = 99";
            cmd.ExecuteNonQuery();
        }

        var n = CliRunner.Run("db", "list", "--db", newer);
        Assert.Equal(2, n.ExitCode);
        Assert.Contains($"schema version 99, newer than this weightprint supports ({CatalogStore.SchemaVersion})", n.Stderr);
    }

    [Fact]
    public void The_default_catalog_is_under_XDG_DATA_HOME_and_the_environment_variable_overrides_it()
    {
        string? saved = Environment.GetEnvironmentVariable(CatalogStore.EnvironmentVariable);
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        try
        {
            Environment.SetEnvironmentVariable(CatalogStore.EnvironmentVariable, null);
            Environment.SetEnvironmentVariable("XDG_DATA_HOME", "/data/x");
            Assert.Equal("/data/x/weightprint/catalog.db", CatalogStore.Resolve(null));
            Environment.SetEnvironmentVariable(CatalogStore.EnvironmentVariable, "/e.db");
            Assert.Equal("/e.db", CatalogStore.Resolve(null));
            Assert.Equal("/o.db", CatalogStore.Resolve("/o.db"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(CatalogStore.EnvironmentVariable, saved);
            Environment.SetEnvironmentVariable("XDG_DATA_HOME", xdg);
        }
    }
}
