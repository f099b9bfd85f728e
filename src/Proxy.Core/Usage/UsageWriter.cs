using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Core.Persistence;

namespace Proxy.Core.Usage;

/// <summary>
/// Writes usage records in the background: the request path only offers a record to a bounded channel and never
/// waits. On an orderly shutdown the channel is closed and drained before the process exits.
/// </summary>
public sealed partial class UsageWriter(IServiceScopeFactory scopes, ILogger<UsageWriter> log) : BackgroundService
{
    private const int Capacity = 100_000;
    private const int BatchSize = 500;

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
        // Deliberately not cancelled by stoppingToken: the loop ends when StopAsync closes the channel and it is empty.
        while (await _channel.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < BatchSize && _channel.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }
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
                await InsertAsync(batch);
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
        ["CallId", "KeyHash", "TeamId", "Model", "ModelId", "Deployment", "Route", "Status", "PromptTokens", "CompletionTokens", "TotalTokens", "LatencyMs", "StartedAt"];

    /// <summary>Rows per INSERT statement: 13 parameters each, well under SQLite's and PostgreSQL's parameter limits.</summary>
    private const int RowsPerStatement = 100;

    /// <summary>
    /// Multi-row INSERTs in one transaction. At thousands of calls a second, EF's change tracking (or one statement per
    /// row) costs more CPU than forwarding the calls, and this runs beside the hot path on the same cores.
    /// </summary>
    private async Task InsertAsync(List<UsageRecord> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        foreach (var rows in batch.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            var values = new System.Text.StringBuilder();
            for (var row = 0; row < rows.Length; row++)
            {
                var r = rows[row];
                object?[] fields = [r.CallId, r.KeyHash, r.TeamId, r.Model, r.ModelId, r.Deployment, r.Route, r.Status, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.LatencyMs, r.StartedAt];
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
            command.CommandText = $"INSERT INTO usage_records ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES {values}";
            await command.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    [LoggerMessage(30, LogLevel.Warning, "Usage channel full: {Dropped} records dropped so far")]
    private partial void LogDropped(long dropped);

    [LoggerMessage(31, LogLevel.Warning, "Writing {Count} usage records failed (attempt {Attempt}, {Error}); retrying")]
    private partial void LogRetry(int count, int attempt, string error);

    [LoggerMessage(32, LogLevel.Error, "Gave up writing {Count} usage records ({Error})")]
    private partial void LogLost(int count, string error);
}
