using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>Writes a batch of usage records into SQLite through prepared multi-row statements, bound by position.</summary>
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
    public static void BeginBatch(SqliteConnection connection) => Check(connection, raw.sqlite3_exec(connection.Handle, BatchPragmas));

    /// <summary>The pool's settings again. Not checked: a failed reset must not hide why the batch failed.</summary>
    public static void EndBatch(SqliteConnection connection) => raw.sqlite3_exec(connection.Handle, PooledPragmas);

    /// <summary>Rows per prepared SQLite statement: one step inserts them all, and AUTOINCREMENT's bookkeeping is done once for them.</summary>
    private const int RowsPerSqliteStatement = 32;

    /// <summary>
    /// SQLite runs in-process, so there is no round trip to save: prepared statements of 32 rows (and of one, for the
    /// rest), re-bound per row. Bound through SQLitePCL by position, strings as UTF-8 spans from the stack, because
    /// SqliteCommand's parameters allocate per value per row. The values are written in the forms Microsoft.Data.Sqlite
    /// writes them, so EF reads them back unchanged.
    /// </summary>
    public static void Insert(SqliteConnection connection, List<UsageRecord> batch)
    {
        var at = 0;
        if (batch.Count >= RowsPerSqliteStatement)
        {
            using var many = Prepare(connection, RowsPerSqliteStatement);
            for (; at + RowsPerSqliteStatement <= batch.Count; at += RowsPerSqliteStatement)
            {
                for (var row = 0; row < RowsPerSqliteStatement; row++)
                {
                    Bind(many, row * UsageTable.Columns.Length, batch[at + row]);
                }
                Step(connection, many);
            }
        }
        if (at < batch.Count)
        {
            using var one = Prepare(connection, 1);
            for (; at < batch.Count; at++)
            {
                Bind(one, 0, batch[at]);
                Step(connection, one);
            }
        }
    }

    private static sqlite3_stmt Prepare(SqliteConnection connection, int rows)
    {
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(row =>
            $"({string.Join(", ", UsageTable.Columns.Select((_, column) => $"?{(row * UsageTable.Columns.Length) + column + 1}"))})"));
        Check(connection, raw.sqlite3_prepare_v2(connection.Handle, UsageTable.Insert + values, out var statement));
        return statement;
    }

    /// <summary>Binds one row's values to parameters <paramref name="offset"/> + 1 to <paramref name="offset"/> + 22.</summary>
    private static void Bind(sqlite3_stmt statement, int offset, UsageRecord r)
    {
        Text(statement, offset + 1, r.CallId);
        raw.sqlite3_bind_int64(statement, offset + 2, r.Attempt);
        Text(statement, offset + 3, r.KeyHash);
        Text(statement, offset + 4, r.TeamId);
        Text(statement, offset + 5, r.UserId);
        Text(statement, offset + 6, r.Model);
        Text(statement, offset + 7, r.ModelId);
        Text(statement, offset + 8, r.Deployment);
        Text(statement, offset + 9, r.Route);
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
        Text(statement, offset + 18, r.ResponseId);
        Text(statement, offset + 19, r.Error);
        Text(statement, offset + 20, r.Provider);
        raw.sqlite3_bind_int64(statement, offset + 21, r.CacheReadTokens);
        raw.sqlite3_bind_int64(statement, offset + 22, r.CacheCreationTokens);
    }

    private static void Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
        {
            Check(connection, raw.sqlite3_errcode(connection.Handle));
        }
        raw.sqlite3_reset(statement);
    }

    public static void Text(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else if (value.Length == 0 || Encoding.UTF8.GetMaxByteCount(value.Length) > 512)
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
        else
        {
            // UTF-8, the database's own encoding: a UTF-16 value is converted again inside SQLite, per value per row.
            Span<byte> utf8 = stackalloc byte[512];
            raw.sqlite3_bind_text(statement, index, utf8[..Encoding.UTF8.GetBytes(value, utf8)]);
        }
    }

    public static void Check(SqliteConnection connection, int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, connection.Handle);
        }
    }
}
