using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;
using Xunit.Abstractions;

namespace Portal.Tests.Usage;

/// <summary>
/// Issue 27: what a report costs depends on what it shows, not on how much the team called. A team with one million
/// raw usage rows (and their daily aggregates, as the writer would have left them): its report reads only aggregate
/// rows (no query the gateway runs for it names <c>usage_records</c>) and answers within a bound a person would notice.
/// </summary>
[Trait("Category", "Timing")]
public sealed class DailyActivityScaleTests : IAsyncLifetime
{
    private const int RawRows = 1_000_000;

    private readonly CapturedQueries _queries = new();
    private readonly GatewayFactory _gateway;
    private readonly ITestOutputHelper _output;
    private string _team = "";

    public DailyActivityScaleTests(ITestOutputHelper output)
    {
        _output = output;
        _gateway = new GatewayFactory
        {
            ExtraServices = services =>
            {
                services.ConfigureDbContext<SqlitePortalDb>(o => o.AddInterceptors(_queries));
                services.ConfigureDbContext<PostgresPortalDb>(o => o.AddInterceptors(_queries));
            },
        };
    }

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("busy");
        var watch = Stopwatch.StartNew();
        await using var scope = _gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
        // A call every 7 seconds from 2026-09-01 on (82 days), by 20 keys on 4 models, one in 50 failed.
        var postgres = !db.Database.IsSqlite();
        var numbers = postgres ? "generate_series(0, {1} - 1) AS n(i)" : "n";
        var recursive = postgres ? "" : "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {1} - 1) ";
        var startedAt = postgres ? "TIMESTAMPTZ '2026-09-01 00:00:00+00' + i * INTERVAL '7 seconds'" : "strftime('%Y-%m-%d %H:%M:%S', '2026-09-01', '+' || (i * 7) || ' seconds')";
        var text = postgres ? "i::text" : "i";
        var rows =
            recursive +
            "INSERT INTO usage_records (\"CallId\", \"Attempt\", \"KeyHash\", \"TeamId\", \"UserId\", \"Model\", \"Route\", \"Status\", \"PromptTokens\", \"CompletionTokens\", " +
            "\"TotalTokens\", \"TokensEstimated\", \"Spend\", \"LatencyMs\", \"StartedAt\", \"Provider\", \"CacheReadTokens\", \"CacheCreationTokens\") " +
            $"SELECT 'call-' || {text}, 0, 'hash-' || ({(postgres ? "(i % 20)::text" : "i % 20")}), {{0}}, NULL, 'model-' || ({(postgres ? "(i % 4)::text" : "i % 4")}), 'chat/completions', " +
            $"CASE WHEN i % 50 = 0 THEN 500 ELSE 200 END, 11, 7, 18, {(postgres ? "false" : "0")}, 0.001, 100, {startedAt}, 'openai', 0, 0 FROM {numbers}";
        await db.Database.ExecuteSqlRawAsync(rows, _team, RawRows);
        var day = postgres ? "(\"StartedAt\" AT TIME ZONE 'UTC')::date" : "substr(\"StartedAt\", 1, 10)";
        var aggregates =
            "INSERT INTO daily_usage (\"Day\", \"TeamId\", \"KeyHash\", \"UserId\", \"Model\", \"Provider\", \"ApiRequests\", \"SuccessfulRequests\", \"FailedRequests\", " +
            "\"PromptTokens\", \"CompletionTokens\", \"CacheReadTokens\", \"CacheCreationTokens\", \"Spend\") " +
            $"SELECT {day}, \"TeamId\", \"KeyHash\", '', \"Model\", \"Provider\", COUNT(*), SUM(CASE WHEN \"Status\" < 400 THEN 1 ELSE 0 END), " +
            "SUM(CASE WHEN \"Status\" >= 400 THEN 1 ELSE 0 END), SUM(\"PromptTokens\"), SUM(\"CompletionTokens\"), 0, 0, SUM(\"Spend\") " +
            $"FROM usage_records GROUP BY {day}, \"TeamId\", \"KeyHash\", \"Model\", \"Provider\"";
        await db.Database.ExecuteSqlRawAsync(aggregates);
        _output.WriteLine($"seeded {RawRows} rows and their aggregates in {watch.Elapsed.TotalSeconds:F1} s");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task AMillionRawRows_TheTeamReportReadsOnlyAggregateRows_AndAnswersWithinASecond()
    {
        using var client = _gateway.Client();
        // One report first, as a person's first look would be after start-up (the route and JSON code is then compiled).
        (await client.GetAsync($"/team/daily/activity?team_id={_team}&start_date=2026-09-01&end_date=2026-09-02")).EnsureSuccessStatusCode();
        _queries.All.Clear();

        var watch = Stopwatch.StartNew();
        var report = await (await client.GetAsync($"/team/daily/activity?team_id={_team}&start_date=2026-09-01&end_date=2026-11-30")).ReadJsonAsync(HttpStatusCode.OK);
        var elapsed = watch.Elapsed;
        _output.WriteLine($"the 90-day report over {RawRows} calls answered in {elapsed.TotalMilliseconds:F0} ms with {_queries.All.Count} queries");

        Assert.Equal(RawRows, report["metadata"]!["total_api_requests"]!.GetValue<long>());
        Assert.Equal(RawRows / 50, report["metadata"]!["total_failed_requests"]!.GetValue<long>());
        Assert.Equal(RawRows * 0.001, report["metadata"]!["total_spend"]!.GetValue<double>(), 3);
        // 82 days (2026-09-01 to 2026-11-21) in pages of 10, the newest first.
        Assert.Equal(9, report["metadata"]!["total_pages"]!.GetValue<int>());
        Assert.Equal("2026-11-21", report["results"]![0]!["date"]!.GetValue<string>());
        Assert.Equal(20, report["results"]![0]!["breakdown"]!["api_keys"]!.AsObject().Count);
        Assert.NotEmpty(_queries.All);
        Assert.DoesNotContain(_queries.All, q => q.Sql.Contains("usage_records", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(_queries.All, q => q.Sql.Contains("daily_usage", StringComparison.Ordinal));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the report took {elapsed.TotalMilliseconds:F0} ms");
    }
}
