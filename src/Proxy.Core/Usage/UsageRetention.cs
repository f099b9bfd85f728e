using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Core.Persistence;

namespace Proxy.Core.Usage;

/// <summary>
/// Deletes raw usage rows older than <c>Proxy:Usage:RetentionDays</c> (and daily sums older than
/// <c>Proxy:Usage:DailyRetentionDays</c>), at start-up and then hourly, off the hot path. Each statement deletes at most
/// <see cref="BatchSize"/> rows of one <c>Id</c> range and takes the <see cref="WriteGate"/> for that statement only,
/// with a pause after it: the usage writer and management writes wait for one small batch at most, never for the
/// whole deletion, and on SQLite the write lock is released between batches.
/// </summary>
public sealed partial class UsageRetention(
    IServiceScopeFactory scopes, WriteGate gate, IOptions<UsageOptions> options, TimeProvider time, ILogger<UsageRetention> log) : BackgroundService
{
    public const int BatchSize = 1_000;

    /// <summary>How often a run starts after the first (at start-up).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>Between batches, so writes queued on the gate go first and SQLite's WAL can checkpoint.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    /// <summary>The daily sums' table and its UTC day column (<see cref="Reports.DailyUsage"/>).</summary>
    private const string DailyTable = "daily_usage";
    private const string DailyDayColumn = "Day";

    /// <summary>
    /// The daily cutoff last applied. Daily rows expire a day at a time, and the table's key leads with the team, not
    /// the day, so a deletion reads the whole table: once per UTC day is enough.
    /// </summary>
    private DateOnly? _dailyDone;

    private readonly SemaphoreSlim _oneRun = new(1, 1);

    /// <summary>The longest a batch of the current run held the gate.</summary>
    private TimeSpan _longestHold;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.RetentionDays == 0 && settings.DailyRetentionDays == 0)
        {
            return;
        }
        // Start-up goes on; the first run follows at once in the background.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // What is left is deleted by the next run, which starts again from the oldest row.
                LogFailed(e.GetType().Name);
            }
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One run now (runs never overlap); what it deleted is also logged once at Information.</summary>
    public async Task<UsageRetentionRun> RunAsync(CancellationToken ct = default)
    {
        await _oneRun.WaitAsync(ct);
        try
        {
            var settings = options.Value;
            var now = time.GetUtcNow().UtcDateTime;
            var watch = Stopwatch.StartNew();
            _longestHold = TimeSpan.Zero;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync(ct);

            DateTime? rawCutoff = settings.RetentionDays == 0 ? null : now.AddDays(-settings.RetentionDays);
            var (raw, batches) = rawCutoff is { } cutoff ? await DeleteRawAsync(connection, cutoff, ct) : (0, 0);
            DateOnly? dailyCutoff = settings.DailyRetentionDays == 0 ? null : DateOnly.FromDateTime(now).AddDays(-settings.DailyRetentionDays);
            long daily = 0;
            if (dailyCutoff is { } day && day != _dailyDone)
            {
                daily = await DeleteDailyAsync(connection, db.Database.IsSqlite(), day, ct);
                _dailyDone = day;
            }

            var run = new UsageRetentionRun(rawCutoff, raw, batches, dailyCutoff, daily, watch.Elapsed, _longestHold);
            if (raw > 0 || daily > 0)
            {
                LogDeleted(raw, rawCutoff, batches, daily, dailyCutoff, (long)run.Took.TotalMilliseconds, (long)run.LongestHold.TotalMilliseconds);
            }
            else
            {
                LogNothing(rawCutoff, dailyCutoff);
            }
            return run;
        }
        finally
        {
            _oneRun.Release();
        }
    }

    /// <summary>
    /// Walks the table in <c>Id</c> order (the primary key, which grows with the time a row was written) from the
    /// oldest row, <see cref="BatchSize"/> ids at a time: each batch reads its range's start times without the gate,
    /// then deletes that range's rows started before the cutoff under it. The walk stops at the first range whose
    /// rows all started after the cutoff: rows are written within seconds of their call's end, so later ranges are
    /// newer still (a call that straddled the cutoff is caught by the next run, whose walk starts at the oldest row).
    /// </summary>
    private async Task<(long Rows, int Batches)> DeleteRawAsync(DbConnection connection, DateTime cutoff, CancellationToken ct)
    {
        long deleted = 0, last = long.MinValue;
        var batches = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var (upper, oldest, count) = await ScanAsync(connection, last, ct);
            if (count == 0 || oldest >= cutoff)
            {
                return (deleted, batches);
            }
            await using (var delete = Command(connection,
                """DELETE FROM usage_records WHERE "Id" > @last AND "Id" <= @upper AND "StartedAt" < @cutoff""",
                ("@last", last), ("@upper", upper), ("@cutoff", cutoff)))
            {
                deleted += await UnderGateAsync(delete, ct);
            }
            batches++;
            last = upper;
            await Task.Delay(Pause, ct);
        }
    }

    /// <summary>The next batch of ids after <paramref name="last"/>: its last id, its oldest start and its size, read through the primary key.</summary>
    private static async Task<(long Upper, DateTime Oldest, int Count)> ScanAsync(DbConnection connection, long last, CancellationToken ct)
    {
        await using var scan = Command(connection,
            """SELECT "Id", "StartedAt" FROM usage_records WHERE "Id" > @last ORDER BY "Id" LIMIT @size""",
            ("@last", last), ("@size", BatchSize));
        await using var reader = await scan.ExecuteReaderAsync(ct);
        long upper = last;
        var oldest = DateTime.MaxValue;
        var count = 0;
        while (await reader.ReadAsync(ct))
        {
            upper = reader.GetInt64(0);
            var started = reader.GetDateTime(1);
            if (started < oldest)
            {
                oldest = started;
            }
            count++;
        }
        return (upper, oldest, count);
    }

    /// <summary>Daily sums of days before <paramref name="cutoff"/>, in batches like the raw rows.</summary>
    private async Task<long> DeleteDailyAsync(DbConnection connection, bool sqlite, DateOnly cutoff, CancellationToken ct)
    {
        // Neither SQLite nor PostgreSQL has DELETE ... LIMIT: a batch is the row ids of its first rows.
        var rowId = sqlite ? "rowid" : "ctid";
        var sql = $"""DELETE FROM {DailyTable} WHERE {rowId} IN (SELECT {rowId} FROM {DailyTable} WHERE "{DailyDayColumn}" < @cutoff LIMIT {BatchSize})""";
        long deleted = 0;
        while (true)
        {
            int rows;
            await using (var delete = Command(connection, sql, ("@cutoff", cutoff)))
            {
                rows = await UnderGateAsync(delete, ct);
            }
            deleted += rows;
            if (rows < BatchSize)
            {
                return deleted;
            }
            await Task.Delay(Pause, ct);
        }
    }

    /// <summary>One statement with the write gate held, timed.</summary>
    private async Task<int> UnderGateAsync(DbCommand delete, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        var held = Stopwatch.StartNew();
        try
        {
            return await delete.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            gate.Release();
            if (held.Elapsed > _longestHold)
            {
                _longestHold = held.Elapsed;
            }
        }
    }

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    [LoggerMessage(40, LogLevel.Information,
        "Usage retention deleted {Rows} usage rows started before {Cutoff:O} in {Batches} batches, and {DailyRows} daily rows of days before {DailyCutoff:O}, in {Milliseconds} ms (the write gate held at most {LongestHold} ms at a time)")]
    private partial void LogDeleted(long rows, DateTime? cutoff, int batches, long dailyRows, DateOnly? dailyCutoff, long milliseconds, long longestHold);

    [LoggerMessage(41, LogLevel.Debug, "Usage retention: no usage rows before {Cutoff:O} nor daily rows before {DailyCutoff:O}")]
    private partial void LogNothing(DateTime? cutoff, DateOnly? dailyCutoff);

    [LoggerMessage(42, LogLevel.Warning, "Usage retention run failed ({Error}); the next run goes on where it stopped")]
    private partial void LogFailed(string error);
}
