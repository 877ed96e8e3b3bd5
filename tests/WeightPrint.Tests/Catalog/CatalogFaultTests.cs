using System.Diagnostics;
using Npgsql;
using WeightPrint.Catalog;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Catalog;

/// <summary>Concurrent writers, a writer killed mid-add, PostgreSQL load and a dropped connection. The PostgreSQL
/// tests need WEIGHTPRINT_TEST_POSTGRES (a postgres:// URL; .ci/run starts a local server and sets it).</summary>
public class CatalogFaultTests
{
    private const string PostgresVariable = "WEIGHTPRINT_TEST_POSTGRES";

    private static (int Code, string Err) Wait(Process p)
    {
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    [Fact]
    public void Two_processes_adding_to_one_SQLite_catalog_leave_it_sound_and_complete()
    {
        using var dir = new TempDir();
        string db = dir.File("c.db");
        var a = FingerprintFiles.Copies(dir.Path, "a", 25);
        var b = FingerprintFiles.Copies(dir.Path, "b", 25);
        using var pa = FingerprintFiles.StartCli(["db", "add", .. a, "--db", db, "--quiet"]);
        using var pb = FingerprintFiles.StartCli(["db", "add", .. b, "--db", db, "--quiet"]);
        var ra = Wait(pa);
        var rb = Wait(pb);
        Assert.True(ra.Code == 0, ra.Err);
        Assert.True(rb.Code == 0, rb.Err);
        using var store = CatalogStore.Open(db);
        Assert.Equal("ok", store.IntegrityCheck());
        Assert.Equal(50, store.Count());
        Assert.Equal(0, store.Orphans());
        foreach (var e in store.Entries()) Assert.Equal(e.PayloadSha256, store.LoadFingerprint(e).PayloadSha256);
    }

    [Fact]
    public void A_writer_killed_mid_add_loses_nothing_committed_and_leaves_no_half_entry()
    {
        using var dir = new TempDir();
        string db = dir.File("c.db");
        Assert.Equal(0, CliRunner.Run("db", "add", FingerprintFiles.Stories, "--db", db, "--name", "before", "--quiet").ExitCode);
        var files = FingerprintFiles.Copies(dir.Path, "k", 150);
        using var p = FingerprintFiles.StartCli(["db", "add", .. files, "--db", db, "--quiet"]);
        var watch = Stopwatch.StartNew();
        long seen = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
        {
            using (var s = CatalogStore.Open(db)) seen = s.Count();
            if (seen >= 6) break;
            Thread.Sleep(20);
        }

        Assert.False(p.HasExited, "the writer finished before it could be killed; make it add more entries");
        p.Kill(); // SIGKILL on Linux
        p.WaitForExit();
        using var store = CatalogStore.Open(db);
        Assert.Equal("ok", store.IntegrityCheck());
        Assert.Equal(0, store.Orphans());
        long after = store.Count();
        Assert.True(after >= seen && after < 151, $"{after} entries after the kill, {seen} seen committed before it");
        Assert.NotNull(store.Find("before"));
        foreach (var e in store.Entries()) Assert.Equal(e.PayloadSha256, store.LoadFingerprint(e).PayloadSha256);
    }

    private static string FreshPostgresDatabase()
    {
        string url = Environment.GetEnvironmentVariable(PostgresVariable)!;
        // Each test gets its own database so the tests do not see each other's entries.
        var uri = new Uri(url);
        string name = "wp_" + Guid.NewGuid().ToString("N")[..12];
        var parts = uri.UserInfo.Split(':', 2);
        var cs = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.Port, Database = uri.AbsolutePath.Trim('/'), Username = Uri.UnescapeDataString(parts[0]), Pooling = false };
        if (parts.Length > 1) cs.Password = Uri.UnescapeDataString(parts[1]);
        using var c = new NpgsqlConnection(cs.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"CREATE DATABASE {name}";
        cmd.ExecuteNonQuery();
        return new UriBuilder(uri) { Path = "/" + name }.Uri.ToString();
    }

    [SkippableFact]
    public void Four_processes_adding_100_entries_each_to_PostgreSQL_end_with_400()
    {
        Skip.If(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable)), $"{PostgresVariable} is not set (.ci/run sets it)");
        string url = FreshPostgresDatabase();
        using var dir = new TempDir();
        var processes = Enumerable.Range(0, 4).Select(i => FingerprintFiles.StartCli(["db", "add", .. FingerprintFiles.Copies(dir.Path, $"w{i}", 100), "--db", url, "--quiet"])).ToList();
        foreach (var p in processes)
        {
            var (code, err) = Wait(p);
            Assert.True(code == 0, err);
            p.Dispose();
        }

        using var store = CatalogStore.Open(url);
        Assert.Equal(400, store.Count());
        Assert.Equal(0, store.Orphans());
    }

    [SkippableFact]
    public void A_dropped_PostgreSQL_connection_gives_a_clear_error_and_no_partial_entry()
    {
        Skip.If(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable)), $"{PostgresVariable} is not set (.ci/run sets it)");
        string url = FreshPostgresDatabase();
        var fp = WeightPrint.Comparison.Fingerprint.ReadFile(FingerprintFiles.Stories);
        using (var store = CatalogStore.Open(url))
        {
            store.Add("kept", null, fp);
            using (var killer = CatalogStore.Open(url)) killer.TerminateBackend(store.BackendProcessId);
            var e = Assert.Throws<CatalogException>(() => store.Add("lost", null, fp));
            Assert.Contains("PostgreSQL catalog failed", e.Message);
            Assert.Contains("nothing of this operation was stored", e.Message);
        }

        using var after = CatalogStore.Open(url);
        Assert.Equal(1, after.Count());
        Assert.Null(after.Find("lost"));
        Assert.Equal(0, after.Orphans());
    }
}
