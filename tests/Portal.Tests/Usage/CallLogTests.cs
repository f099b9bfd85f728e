using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Usage;
using Proxy.Core.Users;

namespace Portal.Tests.Usage;

/// <summary>
/// The team call log behind the portal's Logs tab: keyset pages over the (TeamId, StartedAt) index, filters, and who
/// reads which rows (admins the team's, a member their own keys' calls, an outsider nothing).
/// </summary>
public sealed class CallLogTests : IAsyncLifetime
{
    private const int TeamRows = 10_000;
    private static readonly DateTime Start = new(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);

    private readonly CapturedQueries _queries = new();
    private readonly GatewayFactory _gateway;
    private string _team = "";
    private string _other = "";
    private string _leadId = "", _devId = "", _outsiderId = "";

    public CallLogTests() => _gateway = new GatewayFactory
    {
        ExtraServices = services =>
        {
            services.AddSingleton(_queries);
            services.ConfigureDbContext<SqlitePortalDb>(o => o.AddInterceptors(_queries));
            services.ConfigureDbContext<PostgresPortalDb>(o => o.AddInterceptors(_queries));
        },
    };

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("Logs");
        _other = await _gateway.CreateTeamAsync("Elsewhere");
        _leadId = await AddMemberAsync(_team, "lead@example.com", "admin");
        _devId = await AddMemberAsync(_team, "dev@example.com", "user");
        _outsiderId = await AddMemberAsync(_other, "outsider@example.com", "admin");

        // Three rows per instant (ties the cursor's id must settle), a tenth failed, a quarter the member's.
        await using var scope = _gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        db.Usage.AddRange(Enumerable.Range(0, TeamRows).Select(i => Row(_team, i, i % 4 == 0 ? _devId : _leadId)));
        db.Usage.AddRange(Enumerable.Range(0, 1000).Select(i => Row(_other, i, _outsiderId)));
        await db.SaveChangesAsync();
        await _gateway.Services.GetRequiredService<RouteTable>().RefreshAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static UsageRecord Row(string team, int i, string userId) => new()
    {
        CallId = $"call-{team}-{i}",
        KeyHash = $"hash-{i % 5}",
        TeamId = team,
        UserId = userId,
        Model = i % 2 == 0 ? "alpha" : "beta",
        Deployment = "gpt-4o",
        Route = "chat/completions",
        Status = i % 10 == 0 ? 500 : 200,
        Error = i % 10 == 0 ? "The provider answered 500 Internal Server Error." : null,
        PromptTokens = 11,
        CompletionTokens = 7,
        TotalTokens = 18,
        StartedAt = Start.AddSeconds(i / 3),
    };

    private async Task<string> AddMemberAsync(string team, string email, string role)
    {
        var added = await (await _gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = email, role } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        return added["updated_team"]!["members_with_roles"]!.AsArray().Single(m => m!["user_email"]?.GetValue<string>() == email)!["user_id"]!.GetValue<string>();
    }

    private Caller CallerFor(string userId) => _gateway.Services.GetRequiredService<CallerResolver>().FromUser(userId);

    private async Task<CallLogPage> PageAsync(Caller caller, CallLogQuery query, string? team = null)
    {
        await using var scope = _gateway.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UsageLog>().PageAsync(caller, team ?? _team, query);
    }

    /// <summary>The team's rows in the order the log shows them: newest first, the later-written first within an instant.</summary>
    private async Task<List<UsageRecord>> ExpectedAsync(Func<UsageRecord, bool> matches)
    {
        await using var scope = _gateway.Services.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<PortalDb>().Usage.AsNoTracking().Where(u => u.TeamId == _team).ToListAsync();
        return [.. rows.Where(matches).OrderByDescending(u => u.StartedAt).ThenByDescending(u => u.Id)];
    }

    [Fact]
    public async Task OlderPages_WalkAllTenThousandCallsOnce_InOrder_AndNewerPagesWalkBack()
    {
        var admin = CallerFor(_leadId);
        var expected = (await ExpectedAsync(_ => true)).Select(u => u.Id).ToList();
        Assert.Equal(TeamRows, expected.Count);

        var pages = new List<CallLogPage>();
        var page = await PageAsync(admin, new CallLogQuery { PageSize = 100 });
        Assert.False(page.HasNewer);
        pages.Add(page);
        while (page.HasOlder)
        {
            page = await PageAsync(admin, new CallLogQuery { PageSize = 100, Before = page.Oldest });
            Assert.True(page.HasNewer);
            pages.Add(page);
        }
        Assert.Equal(100, pages.Count);
        Assert.Equal(expected, pages.SelectMany(p => p.Rows).Select(r => r.Id).ToList());

        // "Newer" from the fourth page gives back the third, row for row; from the second, the first (full) page.
        var third = await PageAsync(admin, new CallLogQuery { PageSize = 100, After = pages[3].Newest });
        Assert.Equal(pages[2].Rows.Select(r => r.Id), third.Rows.Select(r => r.Id));
        Assert.True(third.HasNewer && third.HasOlder);
        var first = await PageAsync(admin, new CallLogQuery { PageSize = 100, After = pages[1].Newest });
        Assert.Equal(pages[0].Rows.Select(r => r.Id), first.Rows.Select(r => r.Id));
        Assert.False(first.HasNewer);
    }

    [Fact]
    public async Task Filters_KeyModelStatusAndDates_CombineWithAnd_AcrossPages()
    {
        var admin = CallerFor(_leadId);
        var from = Start.AddSeconds(600);
        var to = Start.AddSeconds(1000);
        var query = new CallLogQuery { PageSize = 40, Model = "alpha", KeyHash = "hash-0", Outcome = CallOutcome.Error, From = from, To = to };
        var expected = await ExpectedAsync(u => u.Model == "alpha" && u.KeyHash == "hash-0" && u.Status >= 400 && u.StartedAt >= from && u.StartedAt < to);
        Assert.InRange(expected.Count, 41, 200);

        var seen = new List<UsageRecord>();
        var page = await PageAsync(admin, query);
        seen.AddRange(page.Rows);
        while (page.HasOlder)
        {
            page = await PageAsync(admin, query with { Before = page.Oldest });
            seen.AddRange(page.Rows);
        }
        Assert.Equal(expected.Select(u => u.Id), seen.Select(u => u.Id));
        Assert.All(seen, u => Assert.Equal("The provider answered 500 Internal Server Error.", u.Error));

        var ok = await PageAsync(admin, new CallLogQuery { Outcome = CallOutcome.Ok, PageSize = 200 });
        Assert.All(ok.Rows, u => Assert.Equal(200, u.Status));
        var exact = await PageAsync(admin, new CallLogQuery { Status = 500, PageSize = 200 });
        Assert.Equal((await ExpectedAsync(u => u.Status == 500)).Take(200).Select(u => u.Id), exact.Rows.Select(u => u.Id));
        Assert.Empty((await PageAsync(admin, new CallLogQuery { Status = 429 })).Rows);
    }

    [Fact]
    public async Task AMember_ReadsOnlyTheirOwnKeysCalls_AnOutsiderNone()
    {
        var dev = CallerFor(_devId);
        var expected = (await ExpectedAsync(u => u.UserId == _devId)).Take(50).Select(u => u.Id);
        var page = await PageAsync(dev, new CallLogQuery());
        Assert.Equal(expected, page.Rows.Select(u => u.Id));
        Assert.All(page.Rows, u => Assert.Equal(_devId, u.UserId));
        Assert.False(CallLogVisibility.SeesWholeTeam(dev, _team));

        // A filter never widens what the rule book allows: the lead's key, asked for by the member, is no row of theirs.
        Assert.All((await PageAsync(dev, new CallLogQuery { KeyHash = "hash-1", PageSize = 200 })).Rows, u => Assert.Equal(_devId, u.UserId));

        var refused = await Assert.ThrowsAsync<ProxyError>(() => PageAsync(CallerFor(_outsiderId), new CallLogQuery()));
        Assert.Equal(403, refused.Status);
        // The outsider administers their own team: its log is theirs, and holds none of this team's rows.
        Assert.All((await PageAsync(CallerFor(_outsiderId), new CallLogQuery(), _other)).Rows, u => Assert.Equal(_other, u.TeamId));
    }

    [Fact]
    public async Task APage_ReadsTheTeamStartedAtIndex_WithoutSortingOrScanningTheTable()
    {
        if (GatewayFactory.OnPostgres)
        {
            return; // SQLite's EXPLAIN QUERY PLAN; PostgreSQL plans by its own statistics.
        }
        var first = await PageAsync(CallerFor(_leadId), new CallLogQuery());
        foreach (var query in new[]
        {
            new CallLogQuery { Before = first.Oldest },
            new CallLogQuery { Before = first.Oldest, Model = "alpha", Outcome = CallOutcome.Error, KeyHash = "hash-0", From = Start, To = Start.AddDays(1) },
        })
        {
            _queries.All.Clear();
            await PageAsync(CallerFor(_devId), query);
            var sql = Assert.Single(_queries.All, q => q.Sql.Contains("usage_records", StringComparison.Ordinal));
            var plan = await ExplainAsync(sql);
            // The team's slice of the index, bounded by the cursor (and the date range, when given).
            Assert.Matches(@"^SEARCH u USING INDEX IX_usage_records_TeamId_StartedAt \(TeamId=\? AND (StartedAt>\? AND )?StartedAt<\?\)$", plan);
            Assert.DoesNotContain("TEMP B-TREE", plan);
            Assert.DoesNotContain("SCAN", plan);
        }
    }

    private async Task<string> ExplainAsync(CapturedQueries.Query query)
    {
        await using var connection = new SqliteConnection($"Data Source={_gateway.DatabaseFile}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + query.Sql;
        foreach (var (name, value) in query.Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }
        return string.Join("\n", plan);
    }

    [Fact]
    public async Task AFailedCall_IsRecordedWithTheGatewaysWords_NeverTheProvidersBody()
    {
        await using var upstream = new StandInUpstream();
        var key = await _gateway.GenerateKeyAsync(_team, new { user_id = _devId });
        await _gateway.AddTeamModelAsync(GatewayFactory.MasterKey, _team, "failing-model", apiBase: upstream.ApiBase("error500", out _));
        await _gateway.AddTeamModelAsync(GatewayFactory.MasterKey, _team, "unreachable-model", apiBase: "http://127.0.0.1:9/v1");
        var client = _gateway.Client(key);
        foreach (var model in new[] { "failing-model", "unreachable-model" })
        {
            var answer = await client.PostAsJsonAsync("/v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } });
            Assert.False(answer.IsSuccessStatusCode);
        }

        var dev = CallerFor(_devId);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        CallLogPage failing, unreachable;
        while (true)
        {
            failing = await PageAsync(dev, new CallLogQuery { Model = "failing-model" });
            unreachable = await PageAsync(dev, new CallLogQuery { Model = "unreachable-model" });
            if ((failing.Rows.Count > 0 && unreachable.Rows.Count > 0) || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(100);
        }
        var failed = Assert.Single(failing.Rows.Where(r => r.Status == 500).Take(1));
        Assert.Equal("The provider answered 500 Internal Server Error.", failed.Error);
        Assert.DoesNotContain(failing.Rows, r => r.Error?.Contains("stand-in", StringComparison.Ordinal) == true);
        var down = unreachable.Rows[0];
        Assert.Equal(502, down.Status);
        Assert.StartsWith("The provider of model unreachable-model could not be reached", down.Error);
    }
}
