using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Core.Persistence;
using Proxy.Core.Spend;

namespace Proxy.Core.Usage;

/// <summary>
/// Writes usage records in the background: the request path only offers a record to a bounded channel and never
/// waits. On an orderly shutdown the channel is closed and drained before the process exits.
/// </summary>
public sealed partial class UsageWriter(
    IServiceScopeFactory scopes, WriteGate gate, SpendLedger ledger, Alerts.AlertSender alerts, IOptions<UsageOptions> options, ILogger<UsageWriter> log)
    : BackgroundService
{
    /// <summary>
    /// Rows a batch holds at most: 20,000 per second of <see cref="UsageOptions.WriteInterval"/> (10,000 at the default),
    /// so that a longer interval writes larger batches rather than the same ones back to back; the channel holds two.
    /// </summary>
    private readonly int _batchSize = (int)Math.Max(10_000, 20_000 * options.Value.WriteInterval.TotalSeconds);

    /// <summary>
    /// How long a batch that is not full gathers before it is written (<see cref="UsageOptions.WriteInterval"/>): usage
    /// rows and stored spend lag by this much, and a <c>kill -9</c> loses what is gathering. Long enough that a batch
    /// names most calling keys once, since each key, team and user it names costs a spend row update.
    /// </summary>
    private readonly TimeSpan _gatherTime = options.Value.WriteInterval;

    private readonly Channel<UsageRecord> _channel = Channel.CreateBounded<UsageRecord>(
        new BoundedChannelOptions((int)Math.Max(100_000, 40_000 * options.Value.WriteInterval.TotalSeconds)) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private long _dropped;

    /// <summary>The batch's daily sums, reused batch after batch (only the writer's single loop uses it).</summary>
    private readonly Reports.DailySums _daily = new();

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
        var batch = new List<UsageRecord>(_batchSize);
        var full = false;
        // Deliberately not cancelled by stoppingToken: the loop ends when StopAsync closes the channel and it is empty.
        while (await _channel.Reader.WaitToReadAsync(CancellationToken.None))
        {
            if (!full && !_stopping)
            {
                // A batch's transaction (scope, connection, spend updates, commit) costs as much as tens of rows: let
                // the batch gather instead of writing each few calls on their own. A backlog is written back to back.
                await Task.Delay(_gatherTime);
            }
            while (batch.Count < _batchSize && _channel.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }
            full = batch.Count == _batchSize;
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

    /// <summary>
    /// One transaction per batch, without EF's change tracking: at thousands of calls a second this runs beside the
    /// hot path on the same cores, so its CPU per row is the gateway's throughput. The batch's spend is added to its
    /// keys, teams and users in the same transaction, so spend and the usage log never disagree, and as increments,
    /// so several instances' additions all count. The batch's daily sums (<c>daily_usage</c>) are upserted in the same
    /// transaction too, so the reports, which read only them, always equal the rows, after a crash as well.
    /// </summary>
    private async Task InsertAsync(List<UsageRecord> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var increments = SpendIncrement.Of(batch, ledger);
        var sqlite = connection as SqliteConnection;
        // In team order, each page of the usage log's (TeamId, StartedAt) index is visited once per batch, not once
        // per row of its team in arrival order; the rows keep their StartedAt, which is what the log is read by.
        batch.Sort(ByTeamThenTime);
        var daily = _daily.Of(batch).Rows;
        double?[] stored;
        List<Alerts.BudgetAlert> crossed;
        try
        {
            if (sqlite is not null)
            {
                // Inside the try, so that a failure after cache_size took effect still resets it.
                SqliteUsageInserter.BeginBatch(sqlite);
            }
            await using var tx = await connection.BeginTransactionAsync();
            if (sqlite is not null)
            {
                SqliteUsageInserter.Insert(sqlite, batch);
                SqliteDailyUsageInserter.Upsert(sqlite, daily);
            }
            else
            {
                await PostgresUsageInserter.InsertAsync(connection, tx, batch);
                await PostgresDailyUsageInserter.UpsertAsync(connection, tx, daily);
            }
            var limits = new Alerts.AlertLimits?[increments.Count];
            stored = await SpendStore.AddAsync(connection, tx, increments, limits);
            // Off the hot path, and only a statement per crossing: the thresholds came back with the spend.
            crossed = await Alerts.AlertClaims.ClaimAsync(connection, tx, increments, stored, limits);
            await tx.CommitAsync();
        }
        finally
        {
            if (sqlite is not null)
            {
                SqliteUsageInserter.EndBatch(sqlite);
            }
        }
        for (var i = 0; i < increments.Count; i++)
        {
            ledger.Find(increments[i].Kind, increments[i].Id)?.Settle(increments[i].Amount, stored[i]);
        }
        foreach (var alert in crossed)
        {
            alerts.Enqueue(alert);
        }
    }

    private static readonly Comparison<UsageRecord> ByTeamThenTime = static (a, b) =>
        string.CompareOrdinal(a.TeamId, b.TeamId) is var byTeam and not 0 ? byTeam : a.StartedAt.CompareTo(b.StartedAt);

    [LoggerMessage(30, LogLevel.Warning, "Usage channel full: {Dropped} records dropped so far")]
    private partial void LogDropped(long dropped);

    [LoggerMessage(31, LogLevel.Warning, "Writing {Count} usage records failed (attempt {Attempt}, {Error}); retrying")]
    private partial void LogRetry(int count, int attempt, string error);

    [LoggerMessage(32, LogLevel.Error, "Gave up writing {Count} usage records ({Error})")]
    private partial void LogLost(int count, string error);
}
