using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;
using Proxy.Core.Reports;
using Proxy.Core.Usage;
using Xunit.Abstractions;

namespace Portal.Tests.Usage;

/// <summary>
/// The daily sums run in the usage writer, beside the hot path on the same cores: grouping a batch costs a hash lookup
/// and a few additions per row, and no allocation per row once the writer's dictionary has grown.
/// </summary>
public sealed class DailyActivityWriterCostTests(ITestOutputHelper output)
{
    private static readonly DateTime Midnight = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>10,000 calls of 200 teams (5 keys each, 4 models, 2 providers), either side of a midnight.</summary>
    private static List<UsageRecord> Batch(int offset = 0) => [.. Enumerable.Range(0, 10_000).Select(i => new UsageRecord
    {
        CallId = $"call-{offset + i}", KeyHash = $"hash-{i % 1000}", TeamId = $"team-{i % 1000 / 5}", UserId = i % 3 == 0 ? null : $"user-{i % 1000}",
        Model = $"model-{i % 4}", Provider = i % 4 < 2 ? "openai" : "anthropic", Route = "chat/completions", Status = i % 10 == 0 ? 429 : 200,
        PromptTokens = 11, CompletionTokens = 7, TotalTokens = 18, CacheReadTokens = i % 4 < 2 ? 0 : 3, Spend = 0.001,
        StartedAt = Midnight.AddSeconds((i % 2 == 0 ? -1 : 1) * (1 + (i % 50))),
    })];

    [Fact]
    public void GroupingABatch_AddsEveryRowOnce_AndAllocatesNothingPerRow()
    {
        var batch = Batch();
        var sums = new DailySums();
        sums.Of(batch);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var rows = sums.Of(batch).Rows;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        output.WriteLine($"{batch.Count} rows into {rows.Count} sums: {allocated} bytes allocated");
        Assert.True(allocated < 1024, $"grouping 10,000 rows allocated {allocated} bytes");
        // 1000 keys (each of one team, one user, one model, one provider) on 2 days.
        Assert.Equal(2000, rows.Count);
        Assert.Equal(batch.Count, rows.Sum(r => r.Value.Requests));
        Assert.Equal(batch.Count(r => r.Status >= 400), rows.Sum(r => r.Value.Failed));
        Assert.Equal(batch.Sum(r => (long)r.CacheReadTokens), rows.Sum(r => r.Value.CacheReadTokens));
        Assert.Equal(rows.Select(r => r.Key), rows.Select(r => r.Key).Order(Comparer<DailyUsageKey>.Create((a, b) =>
            DailyUsageKey.InTableOrder(new(a, default), new(b, default)))));
    }

    /// <summary>A measurement, not a bound: what the aggregates add to a batch's transaction on SQLite, per row.</summary>
    [Fact]
    public async Task OnSqlite_TheUpsertOfABatchsSums_IsMeasuredBesideTheRowsInsert()
    {
        if (GatewayFactory.OnPostgres)
        {
            return;
        }
        await using var gateway = new GatewayFactory();
        using (var scope = gateway.Services.CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<PortalDb>();
        }
        await using var connection = new SqliteConnection($"Data Source={gateway.DatabaseFile}");
        await connection.OpenAsync();
        var sums = new DailySums();
        var (rowsOnly, withSums) = (TimeSpan.Zero, TimeSpan.Zero);
        for (var round = 0; round < 6; round++)
        {
            var batch = Batch(round * 10_000);
            var watch = Stopwatch.StartNew();
            using (var tx = connection.BeginTransaction())
            {
                SqliteUsageInserter.Insert(connection, batch);
                if (round % 2 == 1)
                {
                    SqliteDailyUsageInserter.Upsert(connection, sums.Of(batch).Rows);
                }
                tx.Commit();
            }
            if (round >= 2)
            {
                if (round % 2 == 1) withSums += watch.Elapsed; else rowsOnly += watch.Elapsed;
            }
        }
        output.WriteLine($"per row: rows alone {rowsOnly.TotalMicroseconds / 20_000:F2} µs, rows and daily sums {withSums.TotalMicroseconds / 20_000:F2} µs (2,000 sums per 10,000 rows)");
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT SUM(ApiRequests) FROM daily_usage";
        Assert.Equal(30_000L, await count.ExecuteScalarAsync());
    }
}
