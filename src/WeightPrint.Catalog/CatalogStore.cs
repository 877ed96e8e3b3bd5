using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;
using WeightPrint.Comparison;

namespace WeightPrint.Catalog;

/// <summary>A catalog problem a user can fix (unknown scheme, unreachable server, newer schema, corrupt file,
/// duplicate name, dropped connection): one line, exit code 2.</summary>
internal sealed class CatalogException : Exception
{
    public CatalogException()
    {
    }

    public CatalogException(string message) : base(message)
    {
    }

    public CatalogException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>What the catalog keeps about an entry apart from its fingerprint (enough for listing and the prefilter).</summary>
internal sealed record CatalogEntry(long Id, string Name, string? Note, string Added, string Architecture, int HiddenSize, int Layers, long Parameters,
    string Source, string PayloadSha256, float[] Sketch);

/// <summary>
/// A catalog of fingerprints in SQLite (one file, WAL mode) or PostgreSQL (shared by a team or a CI fleet), with the
/// same schema: <c>schema_version</c>, <c>entries</c> (metadata and the prefilter sketch: about 2 kB a row, all the
/// prefilter scans) and <c>payloads</c> (the fingerprint JSON keyed by its payload SHA-256, read only for the
/// candidates of the exact tests; entries holding the same fingerprint share one payload). The schema is migrated on
/// open; a catalog from a newer schema is refused. Every write runs in one transaction, so an entry and its
/// fingerprint are stored together or not at all.
/// </summary>
internal sealed class CatalogStore : IDisposable
{
    /// <summary>Schema version this build writes.</summary>
    public const int SchemaVersion = 2;

    /// <summary>Environment variable naming the catalog (a path or a postgres:// URL).</summary>
    public const string EnvironmentVariable = "WEIGHTPRINT_DB";

    private readonly DbConnection _connection;
    private readonly bool _postgres;

    private CatalogStore(DbConnection connection, bool postgres, string display)
    {
        _connection = connection;
        _postgres = postgres;
        Display = display;
    }

    /// <summary>Where the catalog is, for messages (passwords removed).</summary>
    public string Display { get; }

    /// <summary>The catalog named by <paramref name="db"/>, else <see cref="EnvironmentVariable"/>, else the default file
    /// <c>$XDG_DATA_HOME/weightprint/catalog.db</c> (or <c>~/.local/share/weightprint/catalog.db</c>).</summary>
    public static string Resolve(string? db)
    {
        if (!string.IsNullOrWhiteSpace(db)) return db;
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return env;
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "weightprint", "catalog.db");
    }

    /// <summary>Opens (creating or migrating when needed) the catalog at a path or URL.</summary>
    public static CatalogStore Open(string location)
    {
        int colon = location.IndexOf("://", StringComparison.Ordinal);
        if (colon > 0)
        {
            string scheme = location[..colon].ToLowerInvariant();
            if (scheme is "postgres" or "postgresql") return OpenPostgres(location);
            if (scheme != "file") throw new CatalogException($"{location}: unknown catalog scheme '{scheme}://' (use a file path or postgres://user:password@host:port/database)");
            location = location[(colon + 3)..];
        }

        return OpenSqlite(location);
    }

    private static CatalogStore OpenSqlite(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CatalogException($"{path}: is a folder, not a catalog file");
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var builder = new SqliteConnectionStringBuilder { DataSource = full, Pooling = false, DefaultTimeout = 30, Mode = SqliteOpenMode.ReadWriteCreate };
        var connection = new SqliteConnection(builder.ToString());
        var store = new CatalogStore(connection, false, full);
        try
        {
            connection.Open();
            store.Execute("PRAGMA busy_timeout = 30000;");
            // A new file gets 64 KiB pages: a 7B fingerprint (56 MB) is then a chain of ~900 overflow pages rather than
            // ~14,000, which identify reads per candidate. No effect on an existing file (its page size is fixed).
            store.Execute("PRAGMA page_size = 65536;");
            store.Execute("PRAGMA journal_mode = WAL;");
            store.Execute("PRAGMA synchronous = FULL;");
            store.Migrate();
            return store;
        }
        catch (SqliteException e)
        {
            store.Dispose();
            throw new CatalogException($"{full}: not a usable SQLite catalog ({FirstLine(e.Message)})", e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static CatalogStore OpenPostgres(string url)
    {
        Uri uri;
        try
        {
            uri = new Uri(url);
        }
        catch (UriFormatException e)
        {
            throw new CatalogException($"{Redact(url)}: not a valid postgres:// URL ({e.Message})", e);
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0) throw new CatalogException($"{Redact(url)}: the URL names no database (postgres://user:password@host:port/database)");
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
            Timeout = 10,
            CommandTimeout = 60,
            Pooling = false,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            cs.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) cs.Password = Uri.UnescapeDataString(parts[1]);
        }

        string display = Redact(url);
        var connection = new NpgsqlConnection(cs.ToString());
        var store = new CatalogStore(connection, true, display);
        try
        {
            connection.Open();
            store.Migrate();
            return store;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            store.Dispose();
            throw new CatalogException($"{display}: cannot use the PostgreSQL catalog ({FirstLine(e.Message)})", e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static string Redact(string url)
    {
        int at = url.IndexOf('@', StringComparison.Ordinal);
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme) return url;
        string user = url[(scheme + 3)..at];
        int colon = user.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? url : url[..(scheme + 3)] + user[..colon] + ":***" + url[at..];
    }

    private static string FirstLine(string s) => s.ReplaceLineEndings(" ").Trim();

    // ---- schema ---------------------------------------------------------------------------------------------

    /// <summary>Migrations by target version; each runs in the transaction that records it.</summary>
    private string[] Migrations => _postgres
        ?
        [
            """
            CREATE TABLE entries (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT, added TEXT NOT NULL, architecture TEXT NOT NULL,
                hidden_size INTEGER NOT NULL, layers INTEGER NOT NULL, parameters BIGINT NOT NULL, source TEXT NOT NULL, payload_sha256 TEXT NOT NULL, sketch BYTEA NOT NULL);
            CREATE TABLE fingerprints (entry_id BIGINT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE, body BYTEA NOT NULL);
            """,
            PayloadsMigration,
        ]
        :
        [
            """
            CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, note TEXT, added TEXT NOT NULL, architecture TEXT NOT NULL,
                hidden_size INTEGER NOT NULL, layers INTEGER NOT NULL, parameters INTEGER NOT NULL, source TEXT NOT NULL, payload_sha256 TEXT NOT NULL, sketch BLOB NOT NULL);
            CREATE TABLE fingerprints (entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE, body BLOB NOT NULL);
            """,
            PayloadsMigration.Replace("BYTEA", "BLOB", StringComparison.Ordinal),
        ];

    /// <summary>Version 2: fingerprints stored once per payload SHA-256 (the same fingerprint under two names is stored
    /// once), so that the table the prefilter scans holds only the small rows and the large bodies are read by key.</summary>
    private const string PayloadsMigration =
        """
        CREATE TABLE payloads (sha256 TEXT PRIMARY KEY, body BYTEA NOT NULL);
        INSERT INTO payloads (sha256, body) SELECT e.payload_sha256, f.body FROM entries e JOIN fingerprints f ON f.entry_id = e.id WHERE true ON CONFLICT (sha256) DO NOTHING;
        DROP TABLE fingerprints;
        CREATE INDEX entries_payload ON entries (payload_sha256);
        """;

    private void Migrate()
    {
        using var tx = Begin();
        if (_postgres) Execute("SELECT pg_advisory_xact_lock(7262081513)", tx); // one migrator at a time
        Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", tx);
        var found = Scalar("SELECT MAX(version) FROM schema_version", tx);
        int version = found is null or DBNull ? 0 : Convert.ToInt32(found, CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
            throw new CatalogException($"{Display}: the catalog has schema version {version}, newer than this weightprint supports ({SchemaVersion}); upgrade weightprint");
        for (int v = version; v < SchemaVersion; v++)
        {
            Execute(Migrations[v], tx);
            Execute("DELETE FROM schema_version", tx);
            Execute("INSERT INTO schema_version (version) VALUES (@v)", tx, ("v", v + 1));
        }

        tx.Commit();
    }

    // ---- operations -----------------------------------------------------------------------------------------

    /// <summary>Adds one entry and its fingerprint in one transaction. Throws <see cref="CatalogException"/> when the name is taken.</summary>
    public long Add(string name, string? note, Fingerprint fingerprint) => AddMany([new NewEntry(name, note, fingerprint)])[0];

    /// <summary>An entry to add. <paramref name="Sketch"/> null: the fingerprint's own (<see cref="Catalog.Sketch.Of"/>);
    /// benchmarks give one to stand for a distinct fingerprint whose body they do not store.</summary>
    internal sealed record NewEntry(string Name, string? Note, Fingerprint Fingerprint, float[]? Sketch = null);

    /// <summary>Adds entries in one transaction (all or none); a fingerprint shared by several entries is serialised
    /// and stored once. Throws <see cref="CatalogException"/> when a name is taken.</summary>
    internal IReadOnlyList<long> AddMany(IReadOnlyList<NewEntry> entries)
    {
        var bodies = new Dictionary<Fingerprint, (string Sha, byte[] Body)>(ReferenceEqualityComparer.Instance);
        foreach (var e in entries)
        {
            if (bodies.ContainsKey(e.Fingerprint)) continue;
            byte[] body = System.Text.Encoding.UTF8.GetBytes(e.Fingerprint.ToJsonLine());
            bodies[e.Fingerprint] = (e.Fingerprint.PayloadSha256 ?? "", body);
        }

        string added = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return Guard(() =>
        {
            using var tx = Begin();
            var ids = new List<long>(entries.Count);
            foreach (var e in entries)
            {
                var fp = e.Fingerprint;
                if (Scalar("SELECT COUNT(*) FROM entries WHERE name = @name", tx, ("name", e.Name)) is { } n && Convert.ToInt64(n, CultureInfo.InvariantCulture) > 0)
                    throw new CatalogException($"{Display}: the catalog already has an entry named '{e.Name}' (remove it first, or choose another --name)");
                ids.Add(Convert.ToInt64(Scalar(
                    "INSERT INTO entries (name, note, added, architecture, hidden_size, layers, parameters, source, payload_sha256, sketch) " +
                    "VALUES (@name, @note, @added, @arch, @hidden, @layers, @params, @source, @sha, @sketch) RETURNING id", tx,
                    ("name", e.Name), ("note", (object?)e.Note ?? DBNull.Value), ("added", added), ("arch", fp.Model.Architecture),
                    ("hidden", fp.Model.Geometry?.HiddenSize ?? 0), ("layers", fp.Model.Layers), ("params", fp.Model.Parameters), ("source", SourceText(fp)),
                    ("sha", bodies[fp].Sha), ("sketch", Sketch.ToBytes(e.Sketch ?? Sketch.Of(fp)))), CultureInfo.InvariantCulture));
            }

            foreach (var (sha, body) in bodies.Values)
                Execute("INSERT INTO payloads (sha256, body) VALUES (@sha, @body) ON CONFLICT (sha256) DO NOTHING", tx, ("sha", sha), ("body", body));
            tx.Commit();
            return (IReadOnlyList<long>)ids;
        });
    }

    private static string SourceText(Fingerprint fp) => fp.Source is { Kind: "hub" } s ? $"hf:{s.Repo}@{s.Commit}" : fp.Model.Path;

    /// <summary>Removes an entry by name; false when there is none.</summary>
    public bool Remove(string name) => Guard(() =>
    {
        using var tx = Begin();
        var id = Scalar("SELECT id FROM entries WHERE name = @name", tx, ("name", name));
        if (id is null or DBNull) return false;
        var sha = Scalar("SELECT payload_sha256 FROM entries WHERE id = @id", tx, ("id", id));
        Execute("DELETE FROM entries WHERE id = @id", tx, ("id", id));
        Execute("DELETE FROM payloads WHERE sha256 = @sha AND NOT EXISTS (SELECT 1 FROM entries WHERE payload_sha256 = @sha)", tx, ("sha", sha));
        tx.Commit();
        return true;
    });

    public long Count() => Guard(() => Convert.ToInt64(Scalar("SELECT COUNT(*) FROM entries", null), CultureInfo.InvariantCulture));

    /// <summary>Entries in id order, streamed (the sketch is small; fingerprints are not read).</summary>
    public IEnumerable<CatalogEntry> Entries()
    {
        using var cmd = Command("SELECT id, name, note, added, architecture, hidden_size, layers, parameters, source, payload_sha256, sketch FROM entries ORDER BY id", null);
        DbDataReader reader;
        try
        {
            reader = cmd.ExecuteReader();
        }
        catch (DbException e)
        {
            throw Wrap(e);
        }

        using (reader)
        {
            while (true)
            {
                CatalogEntry entry;
                try
                {
                    if (!reader.Read()) yield break;
                    entry = new CatalogEntry(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.GetInt32(5), reader.GetInt32(6), reader.GetInt64(7), reader.GetString(8), reader.GetString(9), Sketch.FromBytes((byte[])reader.GetValue(10)));
                }
                catch (DbException e)
                {
                    throw Wrap(e);
                }

                yield return entry;
            }
        }
    }

    public CatalogEntry? Find(string name) => Entries().FirstOrDefault(e => e.Name == name);

    /// <summary>The stored fingerprint of an entry (read and validated like a file).</summary>
    public Fingerprint LoadFingerprint(CatalogEntry entry)
        => Fingerprint.Read(LoadFingerprintBytes(entry), $"{Display} entry '{entry.Name}'");

    /// <summary>The raw fingerprint line of an entry, as stored.</summary>
    public byte[] LoadFingerprintBytes(CatalogEntry entry)
        => (_postgres ? Guard(() => Scalar("SELECT body FROM payloads WHERE sha256 = @sha", null, ("sha", entry.PayloadSha256))) as byte[] : Guard(() => ReadSqliteBody(entry.PayloadSha256)))
            ?? throw new CatalogException($"{Display}: entry '{entry.Name}' has no fingerprint");

    /// <summary>A stored body read with SQLite's incremental blob I/O straight into its array (a 7B fingerprint is 56 MB:
    /// reading it as a column value costs another copy of it); null when there is none.</summary>
    private byte[]? ReadSqliteBody(string sha256)
    {
        long rowid, length;
        using (var cmd = Command("SELECT rowid, length(body), typeof(body) FROM payloads WHERE sha256 = @sha", null, ("sha", sha256)))
        using (var reader = cmd.ExecuteReader())
        {
            if (!reader.Read() || reader.GetString(2) != "blob") return null;
            (rowid, length) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        if (length > Fingerprint.MaxBytes) throw new CatalogException($"{Display}: a stored fingerprint of {length} bytes exceeds the {Fingerprint.MaxBytes}-byte limit");
        var body = GC.AllocateUninitializedArray<byte>((int)length);
        using var blob = new SqliteBlob((SqliteConnection)_connection, "payloads", "body", rowid, readOnly: true);
        blob.ReadExactly(body);
        return body;
    }

    /// <summary>Entries that lack their fingerprint (must be none: both are written in one transaction).</summary>
    public long Orphans() => Guard(() => Convert.ToInt64(Scalar("SELECT COUNT(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM payloads p WHERE p.sha256 = e.payload_sha256)", null), CultureInfo.InvariantCulture));

    /// <summary>Stored fingerprint bodies (fewer than the entries when entries share a fingerprint).</summary>
    public long Payloads() => Guard(() => Convert.ToInt64(Scalar("SELECT COUNT(*) FROM payloads", null), CultureInfo.InvariantCulture));

    /// <summary>SQLite's integrity check ("ok" when sound); "ok" for PostgreSQL.</summary>
    public string IntegrityCheck() => _postgres ? "ok" : Guard(() => Scalar("PRAGMA integrity_check", null)?.ToString() ?? "");

    /// <summary>The PostgreSQL server process serving this connection (0 for SQLite); for fault tests.</summary>
    internal int BackendProcessId => _connection is NpgsqlConnection n ? n.ProcessID : 0;

    /// <summary>Ends another connection's server process (PostgreSQL); for fault tests.</summary>
    internal void TerminateBackend(int pid) => Execute("SELECT pg_terminate_backend(@pid)", null, ("pid", pid));

    public void Dispose() => _connection.Dispose();

    // ---- plumbing -------------------------------------------------------------------------------------------

    private T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DbException e)
        {
            throw Wrap(e);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or IOException)
        {
            throw new CatalogException($"{Display}: {FirstLine(e.Message)}", e);
        }
    }

    private CatalogException Wrap(DbException e)
    {
        if (e is SqliteException { SqliteErrorCode: 19 } || e is PostgresException { SqlState: "23505" })
            return new CatalogException($"{Display}: an entry with this name was added at the same time ({FirstLine(e.Message)})", e);
        string what = _postgres ? "the PostgreSQL catalog failed (connection lost or refused?)" : "the SQLite catalog failed";
        return new CatalogException($"{Display}: {what}: {FirstLine(e.Message)}; nothing of this operation was stored", e);
    }

    private DbTransaction Begin()
    {
        if (_postgres) return _connection.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);
        // IMMEDIATE: take the write lock up front, so concurrent writers wait (busy_timeout) instead of failing.
        return ((SqliteConnection)_connection).BeginTransaction(deferred: false);
    }

    private DbCommand Command(string sql, DbTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    private void Execute(string sql, DbTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, DbTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteScalar();
    }
}
