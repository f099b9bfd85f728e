using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>Writes a batch of usage records into SQLite (<see cref="SqliteRows"/>), with the batch's connection settings.</summary>
internal static class SqliteUsageInserter
{
    /// <summary>
    /// The writer's connection during a batch: a batch changes pages all over the file (the usage log's index at every
    /// team, the spend row of every key and team), and SQLite's default 2 MB cache and on-disk statement journals wrote
    /// them several times per batch. A 64 MB cache and statement journals in memory write each changed page once.
    /// </summary>
    private const string BatchPragmas = "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;";

    /// <summary>
    /// SQLite's defaults again before the connection goes back to the pool, which would otherwise keep 64 MB of pages
    /// per connection; across batches the larger cache saved nothing measurable.
    /// </summary>
    private const string PooledPragmas = "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT;";

    /// <summary>The batch's settings; before the transaction, as SQLite refuses to change temp_store within one.</summary>
    public static void BeginBatch(SqliteConnection connection) => SqliteRows.Check(connection, raw.sqlite3_exec(connection.Handle, BatchPragmas));

    /// <summary>The pool's settings again. Not checked: a failed reset must not hide why the batch failed.</summary>
    public static void EndBatch(SqliteConnection connection) => raw.sqlite3_exec(connection.Handle, PooledPragmas);

    /// <summary>The values are written in the forms Microsoft.Data.Sqlite writes them, so EF reads them back unchanged.</summary>
    public static void Insert(SqliteConnection connection, List<UsageRecord> batch) =>
        SqliteRows.Write(connection, batch, UsageTable.Insert, UsageTable.Columns.Length, "", Bind);

    /// <summary>Binds one row's values to parameters <paramref name="offset"/> + 1 to <paramref name="offset"/> + 22.</summary>
    private static void Bind(sqlite3_stmt statement, int offset, UsageRecord r)
    {
        SqliteRows.Text(statement, offset + 1, r.CallId);
        raw.sqlite3_bind_int64(statement, offset + 2, r.Attempt);
        SqliteRows.Text(statement, offset + 3, r.KeyHash);
        SqliteRows.Text(statement, offset + 4, r.TeamId);
        SqliteRows.Text(statement, offset + 5, r.UserId);
        SqliteRows.Text(statement, offset + 6, r.Model);
        SqliteRows.Text(statement, offset + 7, r.ModelId);
        SqliteRows.Text(statement, offset + 8, r.Deployment);
        SqliteRows.Text(statement, offset + 9, r.Route);
        raw.sqlite3_bind_int64(statement, offset + 10, r.Status);
        raw.sqlite3_bind_int64(statement, offset + 11, r.PromptTokens);
        raw.sqlite3_bind_int64(statement, offset + 12, r.CompletionTokens);
        raw.sqlite3_bind_int64(statement, offset + 13, r.TotalTokens);
        raw.sqlite3_bind_int64(statement, offset + 14, r.TokensEstimated ? 1 : 0);
        raw.sqlite3_bind_double(statement, offset + 15, r.Spend);
        raw.sqlite3_bind_double(statement, offset + 16, r.LatencyMs);
        Span<byte> startedAt = stackalloc byte[32];
        r.StartedAt.TryFormat(startedAt, out var length, "yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
        raw.sqlite3_bind_text(statement, offset + 17, startedAt[..length]);
        SqliteRows.Text(statement, offset + 18, r.ResponseId);
        SqliteRows.Text(statement, offset + 19, r.Error);
        SqliteRows.Text(statement, offset + 20, r.Provider);
        raw.sqlite3_bind_int64(statement, offset + 21, r.CacheReadTokens);
        raw.sqlite3_bind_int64(statement, offset + 22, r.CacheCreationTokens);
    }
}
