using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Core.Persistence;
using Proxy.Core.Spend;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>
/// Writes usage records in the background: the request path only offers a record to a bounded channel and never
/// waits. On an orderly shutdown the channel is closed and drained before the process exits.
/// </summary>
public sealed partial class UsageWriter(IServiceScopeFactory scopes, WriteGate gate, SpendLedger ledger, ILogger<UsageWriter> log) : BackgroundService
{
    private const int Capacity = 100_000;
    private const int BatchSize = 10_000;

    /// <summary>
    /// How long a batch that is not full gathers before it is written: usage rows and stored spend lag by this much,
    /// and a <c>kill -9</c> loses what is gathering. A batch updates the spend of every key, team and user it names, one
    /// row each: with many keys calling (the scale benchmark's 1,000 in turn) a 100 ms batch updated more rows than it
    /// inserted. Half a second names most of them once, and keeps every call answered a second before a kill.
    /// </summary>
    private static readonly TimeSpan GatherTime = TimeSpan.FromMilliseconds(500);

    private readonly Channel<UsageRecord> _channel = Channel.CreateBounded<UsageRecord>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private long _dropped;

    /// <summary>Never blocks. A full channel (the database far behind) drops the record and counts it.</summary>
    public void Record(UsageRecord record)
    {
        if (!_channel.Writer.TryWrite(record))
        {
            var dropped = Interlocked.Increment(ref _dropped);
            if (dropped == 1 || dropped % 1000 == 0)
            {
                LogDropped(dropped);
            }
        }
    }

    private volatile bool _stopping;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _channel.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageRecord>(BatchSize);
        var full = false;
        // Deliberately not cancelled by stoppingToken: the loop ends when StopAsync closes the channel and it is empty.
        while (await _channel.Reader.WaitToReadAsync(CancellationToken.None))
        {
            if (!full && !_stopping)
            {
                // A batch's transaction (scope, connection, spend updates, commit) costs as much as tens of rows: let
                // the batch gather instead of writing each few calls on their own. A backlog is written back to back.
                await Task.Delay(GatherTime);
            }
            while (batch.Count < BatchSize && _channel.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }
            full = batch.Count == BatchSize;
            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await gate.WaitAsync();
                try
                {
                    await InsertAsync(batch);
                }
                finally
                {
                    gate.Release();
                }
                return;
            }
            catch (Exception e) when (!_stopping || attempt < 5)
            {
                // While running, a locked or unreachable database is waited out: the bounded channel holds what
                // arrives meanwhile (and drops, counted, only when full). At shutdown five tries are all there is.
                LogRetry(batch.Count, attempt, e.GetType().Name);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * attempt, 5000)));
            }
            catch (Exception e)
            {
                LogLost(batch.Count, e.GetType().Name);
                return;
            }
        }
    }

    private static readonly string[] Columns =
    [
        "CallId", "Attempt", "KeyHash", "TeamId", "UserId", "Model", "ModelId", "Deployment", "Route", "Status", "PromptTokens", "CompletionTokens",
        "TotalTokens", "TokensEstimated", "Spend", "LatencyMs", "StartedAt",
    ];

    private static object?[] Values(UsageRecord r) =>
    [
        r.CallId, r.Attempt, r.KeyHash, r.TeamId, r.UserId, r.Model, r.ModelId, r.Deployment, r.Route, r.Status, r.PromptTokens, r.CompletionTokens,
        r.TotalTokens, r.TokensEstimated, r.Spend, r.LatencyMs, r.StartedAt,
    ];

    private static readonly string Insert = $"INSERT INTO usage_records ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ";

    /// <summary>Rows per INSERT statement on PostgreSQL: 17 parameters each, well under its parameter limit.</summary>
    private const int RowsPerStatement = 100;

    /// <summary>
    /// One transaction per batch, without EF's change tracking: at thousands of calls a second this runs beside the
    /// hot path on the same cores, so its CPU per row is the gateway's throughput. The batch's spend is added to its
    /// keys, teams and users in the same transaction, so spend and the usage log never disagree, and as increments,
    /// so several instances' additions all count.
    /// </summary>
    private async Task InsertAsync(List<UsageRecord> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var increments = SpendIncrement.Of(batch);
        var sqlite = connection as SqliteConnection;
        // In team order, each page of the usage log's (TeamId, StartedAt) index is visited once per batch, not once
        // per row of its team in arrival order; the rows keep their StartedAt, which is what the log is read by.
        batch.Sort(ByTeamThenTime);
        double?[] stored;
        try
        {
            if (sqlite is not null)
            {
                // Before the transaction: SQLite refuses to change temp_store within one. Inside the try, so that a
                // failure after cache_size took effect still resets it.
                Check(sqlite, raw.sqlite3_exec(sqlite.Handle, BatchPragmas));
            }
            await using var tx = await connection.BeginTransactionAsync();
            if (sqlite is not null)
            {
                InsertByPosition(sqlite, batch);
            }
            else
            {
                await InsertManyPerStatementAsync(connection, tx, batch);
            }
            stored = await SpendStore.AddAsync(connection, tx, increments);
            await tx.CommitAsync();
        }
        finally
        {
            if (sqlite is not null)
            {
                // Not checked: a failed reset must not hide why the batch failed.
                raw.sqlite3_exec(sqlite.Handle, PooledPragmas);
            }
        }
        for (var i = 0; i < increments.Count; i++)
        {
            ledger.Find(increments[i].Kind, increments[i].Id)?.Settle(increments[i].Amount, stored[i]);
        }
    }

    private static readonly Comparison<UsageRecord> ByTeamThenTime = static (a, b) =>
        string.CompareOrdinal(a.TeamId, b.TeamId) is var byTeam and not 0 ? byTeam : a.StartedAt.CompareTo(b.StartedAt);

    /// <summary>
    /// The writer's connection during a batch. With many teams and keys calling, a batch changes pages all over the
    /// file: the usage log's index at every team, the spend row of every key and team. SQLite's default page cache
    /// (2 MB) spilled them to the WAL and read them back within the batch, and each multi-row statement kept its undo
    /// pages in a temporary file: at 1,000 keys in turn the writer wrote about 20 KB and made 12 write calls per usage
    /// row. A 64 MB cache and statement journals in memory write each changed page once per batch.
    /// </summary>
    private const string BatchPragmas = "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;";

    /// <summary>
    /// SQLite's defaults again once the batch is done, before the connection goes back to the pool: the pool hands the
    /// writer one connection after another, and each kept its 64 MB of pages (at scale 4 connections, about 120 MB more
    /// resident). Across batches the cache saved nothing measurable: side by side at scale 0.99 ×.
    /// </summary>
    private const string PooledPragmas = "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT;";

    /// <summary>Rows per prepared SQLite statement: one step inserts them all, and AUTOINCREMENT's bookkeeping is done once for them.</summary>
    private const int RowsPerSqliteStatement = 32;

    /// <summary>
    /// SQLite runs in-process, so there is no round trip to save: prepared statements of 32 rows (and of one, for the
    /// rest), re-bound per row. Bound through SQLitePCL by position rather than through SqliteCommand, whose parameters
    /// cost a binder object and a UTF-8 copy of the parameter's name per value per row (about 1.9 KB a row, the largest
    /// allocation of a forwarded call's whole life); strings are bound as UTF-8 spans from the stack, so a row of
    /// ordinary values allocates nothing. The values are written in the forms Microsoft.Data.Sqlite writes them, so EF
    /// reads them back unchanged.
    /// </summary>
    private static void InsertByPosition(SqliteConnection connection, List<UsageRecord> batch)
    {
        var at = 0;
        if (batch.Count >= RowsPerSqliteStatement)
        {
            using var many = Prepare(connection, RowsPerSqliteStatement);
            for (; at + RowsPerSqliteStatement <= batch.Count; at += RowsPerSqliteStatement)
            {
                for (var row = 0; row < RowsPerSqliteStatement; row++)
                {
                    Bind(many, row * Columns.Length, batch[at + row]);
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
            $"({string.Join(", ", Columns.Select((_, column) => $"?{(row * Columns.Length) + column + 1}"))})"));
        Check(connection, raw.sqlite3_prepare_v2(connection.Handle, Insert + values, out var statement));
        return statement;
    }

    /// <summary>Binds one row's values to parameters <paramref name="offset"/> + 1 to <paramref name="offset"/> + 17.</summary>
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
    }

    private static void Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
        {
            Check(connection, raw.sqlite3_errcode(connection.Handle));
        }
        raw.sqlite3_reset(statement);
    }

    private static void Text(sqlite3_stmt statement, int index, string? value)
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

    private static void Check(SqliteConnection connection, int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, connection.Handle);
        }
    }

    /// <summary>PostgreSQL is a network hop away: many rows per statement, one round trip each.</summary>
    private static async Task InsertManyPerStatementAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, List<UsageRecord> batch)
    {
        foreach (var rows in batch.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            var values = new System.Text.StringBuilder();
            for (var row = 0; row < rows.Length; row++)
            {
                var fields = Values(rows[row]);
                values.Append(row == 0 ? "(" : ",(");
                for (var column = 0; column < fields.Length; column++)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = $"@p{row}_{column}";
                    parameter.Value = fields[column] ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                    values.Append(column == 0 ? "" : ",").Append(parameter.ParameterName);
                }
                values.Append(')');
            }
            command.CommandText = Insert + values;
            await command.ExecuteNonQueryAsync();
        }
    }

    [LoggerMessage(30, LogLevel.Warning, "Usage channel full: {Dropped} records dropped so far")]
    private partial void LogDropped(long dropped);

    [LoggerMessage(31, LogLevel.Warning, "Writing {Count} usage records failed (attempt {Attempt}, {Error}); retrying")]
    private partial void LogRetry(int count, int attempt, string error);

    [LoggerMessage(32, LogLevel.Error, "Gave up writing {Count} usage records ({Error})")]
    private partial void LogLost(int count, string error);
}
