using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Keys;
using Proxy.Core.Persistence;
using Proxy.Core.Usage;

namespace Portal.Tests.Usage;

/// <summary>
/// <c>GET /spend/logs</c> paged by cursor (<c>after</c> = the last row's id): every row once, newest first, at any depth
/// for the cost of the first page; nothing counts the table and no page skips rows with OFFSET.
/// </summary>
[Trait("Category", "Database")]
public sealed class SpendLogsPagingTests : IAsyncLifetime
{
    private const int TeamRows = 10_000;
    private const string RawKey = "sk-paging-test-raw-key-0123456789abcdefghijklmnopq";
    private static readonly DateTime Start = new(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);

    private readonly CapturedQueries _queries = new();
    private readonly GatewayFactory _gateway;
    private string _team = "";
    private string _other = "";

    public SpendLogsPagingTests() => _gateway = new GatewayFactory
    {
        ExtraServices = services =>
        {
            services.ConfigureDbContext<SqlitePortalDb>(o => o.AddInterceptors(_queries));
            services.ConfigureDbContext<PostgresPortalDb>(o => o.AddInterceptors(_queries));
        },
    };

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("Paged");
        _other = await _gateway.CreateTeamAsync("Other");
        // Three calls per instant (ties the id must settle), the two teams' rows interleaved as the writer appends them.
        await using var scope = _gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        for (var i = 0; i < TeamRows; i++)
        {
            db.Usage.Add(Row(_team, i));
            if (i % 10 == 0)
            {
                db.Usage.Add(Row(_other, i));
            }
        }
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static UsageRecord Row(string team, int i) => new()
    {
        CallId = $"call-{team}-{i}",
        KeyHash = i % 5 == 0 ? KeyMaterial.Hash(RawKey) : $"hash-{i % 5}",
        TeamId = team,
        Model = i % 2 == 0 ? "alpha" : "beta",
        Route = "chat/completions",
        Status = 200,
        PromptTokens = 11,
        CompletionTokens = 7,
        TotalTokens = 18,
        StartedAt = Start.AddSeconds(i / 3),
    };

    [Fact]
    public async Task ATeamsTenThousandRows_PagedByCursor_ComeNewestFirst_EachOnce_TiesInIdOrder()
    {
        var expected = await ExpectedAsync(u => u.TeamId == _team, byTime: true);
        Assert.Equal(TeamRows, expected.Count);

        var (seen, pages) = await WalkAsync($"/spend/logs?team_id={_team}&size=100");

        Assert.Equal(101, pages); // 100 full pages and the empty one that says there is no more
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task TheProxyAdmin_AcrossTeams_PagesEveryRowOnce_NewestWrittenFirst()
    {
        var expected = await ExpectedAsync(_ => true, byTime: false);
        Assert.Equal(TeamRows + TeamRows / 10, expected.Count);

        var (seen, _) = await WalkAsync("/spend/logs?size=100");

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task WithoutPagingParameters_ItIsStillLiteLLMsPlainList_OfTheNewestFifty()
    {
        var body = JsonNode.Parse(await _gateway.Client().GetStringAsync($"/spend/logs?team_id={_team}"))!;

        var rows = Assert.IsType<JsonArray>(body);
        Assert.Equal((await ExpectedAsync(u => u.TeamId == _team, byTime: true)).Take(50), rows.Select(r => r!["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task ApiKey_RawOrHashed_FindsTheSameRows_AndTheNextLinkCarriesOnlyTheHash()
    {
        var hash = KeyMaterial.Hash(RawKey);
        var expected = (await ExpectedAsync(u => u.TeamId == _team && u.KeyHash == hash, byTime: true)).Take(100).ToList();
        Assert.Equal(100, expected.Count);

        var byRaw = await _gateway.Client().GetAsync($"/spend/logs?team_id={_team}&api_key={RawKey}&size=100");
        var byHash = await _gateway.Client().GetAsync($"/spend/logs?team_id={_team}&api_key={hash}&size=100");

        foreach (var response in new[] { byRaw, byHash })
        {
            var rows = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            Assert.Equal(expected, rows.Select(r => r!["id"]!.GetValue<long>()));
            Assert.All(rows, r => Assert.Equal(hash, r!["api_key"]!.GetValue<string>()));
            var link = string.Join(",", response.Headers.GetValues("Link"));
            Assert.Contains($"api_key={hash}", link);
            Assert.DoesNotContain(RawKey, link);
        }
    }

    [Theory]
    [InlineData("page=102&size=100", "page")] // would skip 10,100 rows
    [InlineData("after=abc", "after")]
    [InlineData("after=-3", "after")]
    [InlineData("after=0", "after")]
    [InlineData("after=5&page=2", "page")]
    public async Task BadPaging_IsA400NamingTheParameter(string query, string param)
    {
        var response = await _gateway.Client().GetAsync($"/spend/logs?team_id={_team}&{query}");

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains(param, message);
    }

    [Fact]
    public async Task APageDeepWithinTheBound_StillWorks_AndAfterAnotherTeamsRowIsA400()
    {
        var expected = await ExpectedAsync(u => u.TeamId == _team, byTime: true);
        var page = JsonNode.Parse(await _gateway.Client().GetStringAsync($"/spend/logs?team_id={_team}&page=101&size=100"))!.AsArray();
        Assert.Equal(expected.Skip(10_000).Take(100), page.Select(r => r!["id"]!.GetValue<long>()));

        var othersRow = (await ExpectedAsync(u => u.TeamId == _other, byTime: true))[0];
        var response = await _gateway.Client().GetAsync($"/spend/logs?team_id={_team}&after={othersRow}");
        Assert.Contains("after", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    /// <summary>
    /// LiteLLM's <c>/spend/logs/v2</c>, as its scripts page it (<c>page</c>, <c>page_size</c>, dates as
    /// <c>YYYY-MM-DD HH:MM:SS</c>, looping while <c>page &lt; total_pages</c>): every row once, and nothing counted.
    /// </summary>
    [Fact]
    public async Task V2_PagedAsLiteLLMScriptsDo_ReadsEveryRowOnce_WithoutACount()
    {
        var expected = await ExpectedAsync(u => u.TeamId == _team, byTime: true);
        var client = _gateway.Client();
        var seen = new List<long>();
        _queries.All.Clear();
        for (var page = 1; ; page++)
        {
            var body = await (await client.GetAsync($"/spend/logs/v2?team_id={_team}&page={page}&page_size=100&start_date=2026-11-01 00:00:00&end_date=2026-11-01 23:59:59&sort_by=startTime&sort_order=desc"))
                .ReadJsonAsync(HttpStatusCode.OK);
            Assert.Null(body["total"]);
            Assert.Equal(page, body["page"]!.GetValue<int>());
            Assert.Equal(100, body["page_size"]!.GetValue<int>());
            seen.AddRange(body["data"]!.AsArray().Select(r => r!["id"]!.GetValue<long>()));
            if (page >= body["total_pages"]!.GetValue<int>())
            {
                break;
            }
        }
        Assert.Equal(expected, seen);
        Assert.DoesNotContain(_queries.All, q => q.Sql.Contains("COUNT", StringComparison.OrdinalIgnoreCase));

        foreach (var (query, param) in new[] { ("sort_order=asc", "sort_order"), ("sort_by=spend", "sort_by"), ("page=102&page_size=100", "page"), ("page_size=0", "page_size") })
        {
            var refused = await client.GetAsync($"/spend/logs/v2?team_id={_team}&{query}");
            Assert.Contains(param, await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
        }
    }

    /// <summary>A page deep in the log runs the same statement as the first: the cursor's slice of an index, no count, no OFFSET, no sort.</summary>
    [Fact]
    public async Task ADeepCursorPage_ReadsAnIndexRange_WithoutCountOffsetOrSort()
    {
        var team = await ExpectedAsync(u => u.TeamId == _team, byTime: true);
        var alpha = await ExpectedAsync(u => u.TeamId == _team && u.Model == "alpha", byTime: true);
        var all = await ExpectedAsync(_ => true, byTime: false);
        foreach (var (url, index) in new[]
        {
            ($"/spend/logs?team_id={_team}&size=100&after={team[9_000]}", "IX_usage_records_TeamId_StartedAt"),
            ($"/spend/logs?team_id={_team}&size=100&after={alpha[4_500]}&model=alpha&start_date=2026-11-01&end_date=2026-11-02", "IX_usage_records_TeamId_StartedAt"),
            ($"/spend/logs?size=100&after={all[9_000]}", "PRIMARY KEY"),
        })
        {
            _queries.All.Clear();
            (await _gateway.Client().GetAsync(url)).EnsureSuccessStatusCode();
            var reads = _queries.All.Where(q => q.Sql.Contains("usage_records", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(reads);
            Assert.All(reads, q =>
            {
                Assert.DoesNotContain("COUNT", q.Sql, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("OFFSET", q.Sql, StringComparison.OrdinalIgnoreCase);
            });
            if (GatewayFactory.OnPostgres)
            {
                continue; // SQLite's EXPLAIN QUERY PLAN below; PostgreSQL plans by its own statistics.
            }
            var page = await ExplainAsync(reads[^1]);
            Assert.Contains(index, page);
            Assert.StartsWith("SEARCH", page);
            Assert.DoesNotContain("TEMP B-TREE", page);
            Assert.DoesNotContain("SCAN", page);
            foreach (var lookup in reads.SkipLast(1))
            {
                Assert.Matches(@"^SEARCH u USING INTEGER PRIMARY KEY \(rowid=\?\)$", await ExplainAsync(lookup));
            }
        }
    }

    /// <summary>Follows the <c>Link: rel="next"</c> header page by page; returns the row ids in order and the number of pages read.</summary>
    private async Task<(List<long> Ids, int Pages)> WalkAsync(string first)
    {
        var client = _gateway.Client();
        var ids = new List<long>();
        var pages = 0;
        string? next = first;
        while (next is not null)
        {
            var response = await client.GetAsync(next);
            var rows = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            pages++;
            ids.AddRange(rows.Select(r => r!["id"]!.GetValue<long>()));
            next = response.Headers.TryGetValues("Link", out var links)
                ? System.Text.RegularExpressions.Regex.Match(links.Single(), "^<(.+)>; rel=\"next\"$").Groups[1].Value
                : null;
            Assert.True(pages < 500, "the walk does not end");
        }
        return (ids, pages);
    }

    /// <summary>The rows' ids in the order /spend/logs shows them: by start time then id (a team), or by id (all teams).</summary>
    private async Task<List<long>> ExpectedAsync(Func<UsageRecord, bool> matches, bool byTime)
    {
        await using var scope = _gateway.Services.CreateAsyncScope();
        var rows = (await scope.ServiceProvider.GetRequiredService<PortalDb>().Usage.AsNoTracking().ToListAsync()).Where(matches);
        return [.. (byTime ? rows.OrderByDescending(u => u.StartedAt).ThenByDescending(u => u.Id) : rows.OrderByDescending(u => u.Id)).Select(u => u.Id)];
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
}
