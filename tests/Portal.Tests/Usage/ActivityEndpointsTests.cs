using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Persistence;
using Proxy.Core.Reports;
using Proxy.Core.Routing;

namespace Portal.Tests.Usage;

/// <summary>
/// <c>GET /team/daily/activity</c> and <c>GET /user/daily/activity</c> over aggregate rows written straight to the
/// table: LiteLLM's JSON shape, pages of days, the 400s of bad input, and who reads which team and user.
/// </summary>
[Trait("Category", "Database")]
public sealed class ActivityEndpointsTests : IAsyncLifetime
{
    private static readonly DateOnly First = new(2026, 10, 1);
    private const int Days = 25;

    private readonly GatewayFactory _gateway = new();
    private string _team = "", _other = "";
    private string _leadId = "", _devId = "", _outsiderId = "";
    private string _leadKey = "", _devKey = "", _teamKey = "", _outsiderKey = "";

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("activity");
        _other = await _gateway.CreateTeamAsync("elsewhere");
        _leadId = await DailyActivityTests.AddMemberAsync(_gateway, _team, "lead@example.com", "admin");
        _devId = await DailyActivityTests.AddMemberAsync(_gateway, _team, "dev@example.com", "user");
        _outsiderId = await DailyActivityTests.AddMemberAsync(_gateway, _other, "outsider@example.com", "admin");
        _leadKey = await _gateway.GenerateKeyAsync(_team, new { user_id = _leadId, key_alias = "lead-key" });
        _devKey = await _gateway.GenerateKeyAsync(_team, new { user_id = _devId, key_alias = "dev-key" });
        _teamKey = await _gateway.GenerateKeyAsync(_team, new { key_alias = "team-key" });
        _outsiderKey = await _gateway.GenerateKeyAsync(_other, new { user_id = _outsiderId });

        // Every day of 25: the dev's key 2 calls of alpha (1 failed), the team key 1 of beta; the other team 5 of alpha.
        await using var scope = _gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        for (var i = 0; i < Days; i++)
        {
            var day = First.AddDays(i);
            db.DailyUsage.Add(Row(day, _team, _devKey, _devId, "alpha", "openai", requests: 2, failed: 1, spend: 0.5));
            db.DailyUsage.Add(Row(day, _team, _teamKey, "", "beta", "anthropic", requests: 1, failed: 0, spend: 0.25));
            db.DailyUsage.Add(Row(day, _other, _outsiderKey, _outsiderId, "alpha", "openai", requests: 5, failed: 0, spend: 2));
        }
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static DailyUsage Row(DateOnly day, string team, string key, string user, string model, string provider, long requests, long failed, double spend) => new()
    {
        Day = day, TeamId = team, KeyHash = KeyMaterial.ToHash(key), UserId = user, Model = model, Provider = provider,
        ApiRequests = requests, SuccessfulRequests = requests - failed, FailedRequests = failed,
        PromptTokens = 10 * requests, CompletionTokens = 5 * requests, CacheReadTokens = requests, CacheCreationTokens = 2 * requests, Spend = spend,
    };

    private const string AllDays = "start_date=2026-10-01&end_date=2026-10-25";

    private async Task<JsonObject> GetAsync(string key, string path) => await (await _gateway.Client(key).GetAsync(path)).ReadJsonAsync(HttpStatusCode.OK);

    [Fact]
    public async Task TheTeamReport_HasLiteLlmsShape_DaysNewestFirst_AndTotalsOverEveryPage()
    {
        var page = await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_id={_team}&{AllDays}");

        Assert.Equal(["results", "metadata"], page.Select(p => p.Key));
        var results = page["results"]!.AsArray();
        Assert.Equal(10, results.Count); // LiteLLM's default page_size for teams
        Assert.Equal(Enumerable.Range(0, 10).Select(i => First.AddDays(Days - 1 - i).ToString("yyyy-MM-dd")), results.Select(r => r!["date"]!.GetValue<string>()));
        var day = results[0]!.AsObject();
        Assert.Equal(["date", "metrics", "breakdown"], day.Select(p => p.Key));
        Assert.Equal(["spend", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "total_tokens", "api_requests",
            "successful_requests", "failed_requests"], day["metrics"]!.AsObject().Select(p => p.Key));
        Assert.Equal(3, day["metrics"]!["api_requests"]!.GetValue<long>());
        Assert.Equal(2, day["metrics"]!["successful_requests"]!.GetValue<long>());
        Assert.Equal(45, day["metrics"]!["total_tokens"]!.GetValue<long>());
        Assert.Equal(0.75, day["metrics"]!["spend"]!.GetValue<double>(), 12);
        var breakdown = day["breakdown"]!.AsObject();
        Assert.Equal(["models", "providers", "api_keys"], breakdown.Select(p => p.Key));
        Assert.Equal(["alpha", "beta"], breakdown["models"]!.AsObject().Select(m => m.Key).Order());
        Assert.Equal(["metrics", "metadata"], breakdown["models"]!["alpha"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["anthropic", "openai"], breakdown["providers"]!.AsObject().Select(m => m.Key).Order());
        var devKey = breakdown["api_keys"]![KeyMaterial.ToHash(_devKey)]!.AsObject();
        Assert.Equal("dev-key", devKey["metadata"]!["key_alias"]!.GetValue<string>());
        Assert.Equal(_team, devKey["metadata"]!["team_id"]!.GetValue<string>());
        Assert.Equal(2, devKey["metrics"]!["api_requests"]!.GetValue<long>());
        Assert.DoesNotContain(_devKey, page.ToJsonString());

        var metadata = page["metadata"]!.AsObject();
        Assert.Equal(["total_spend", "total_prompt_tokens", "total_completion_tokens", "total_tokens", "total_api_requests", "total_successful_requests",
            "total_failed_requests", "total_cache_read_input_tokens", "total_cache_creation_input_tokens", "page", "total_pages", "has_more"], metadata.Select(p => p.Key));
        Assert.Equal(Days * 3, metadata["total_api_requests"]!.GetValue<long>());
        Assert.Equal(Days * 0.75, metadata["total_spend"]!.GetValue<double>(), 9);
        Assert.Equal(Days * 3, metadata["total_cache_read_input_tokens"]!.GetValue<long>());
        Assert.Equal(3, metadata["total_pages"]!.GetValue<int>());
        Assert.True(metadata["has_more"]!.GetValue<bool>());

        var last = await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_ids={_team}&{AllDays}&page=3");
        Assert.Equal(5, last["results"]!.AsArray().Count);
        Assert.Equal("2026-10-01", last["results"]![4]!["date"]!.GetValue<string>());
        Assert.False(last["metadata"]!["has_more"]!.GetValue<bool>());
        Assert.Equal(Days * 3, last["metadata"]!["total_api_requests"]!.GetValue<long>());

        var wide = await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_id={_team}&{AllDays}&page_size=1000");
        Assert.Equal(Days, wide["results"]!.AsArray().Count);
        Assert.Equal(1, wide["metadata"]!["total_pages"]!.GetValue<int>());
        var beta = await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_id={_team}&{AllDays}&model=beta&api_key={KeyMaterial.ToHash(_teamKey)}");
        Assert.Equal(Days, beta["metadata"]!["total_api_requests"]!.GetValue<long>());
        var outside = await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_id={_team}&start_date=2026-11-01&end_date=2026-11-30");
        Assert.Empty(outside["results"]!.AsArray());
        Assert.Equal(0, outside["metadata"]!["total_api_requests"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("/team/daily/activity?end_date=2026-10-25", "start_date")]
    [InlineData("/team/daily/activity?start_date=2026-10-01", "end_date")]
    [InlineData("/team/daily/activity?start_date=not-a-date&end_date=2026-10-25", "start_date")]
    [InlineData("/team/daily/activity?start_date=2026-10-01&end_date=2026-13-01", "end_date")]
    [InlineData("/team/daily/activity?start_date=2026-10-01T00:00:00Z&end_date=2026-10-25", "start_date")]
    [InlineData("/team/daily/activity?start_date=2026-10-25&end_date=2026-10-01", "end_date")]
    [InlineData("/team/daily/activity?start_date=2026-10-01&end_date=2026-10-25&page_size=0", "page_size")]
    [InlineData("/team/daily/activity?start_date=2026-10-01&end_date=2026-10-25&page_size=1001", "page_size")]
    [InlineData("/team/daily/activity?start_date=2026-10-01&end_date=2026-10-25&page=0", "page")]
    [InlineData("/team/daily/activity?start_date=2026-10-01&end_date=2026-10-25&exclude_team_ids=x", "exclude_team_ids")]
    [InlineData("/user/daily/activity?start_date=2026-10-01&end_date=2026-10-25&team_id=x", "team_id")]
    [InlineData("/user/daily/activity?start_date=2026-10-01&end_date=yesterday", "end_date")]
    public async Task BadInput_IsA400_NamingTheParameter_InOpenAIsEnvelope(string path, string param)
    {
        var response = await _gateway.Client().GetAsync(path);
        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains(param, message);
        Assert.Equal(param, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task TeamAdmins_Members_AndTeamKeys_ReadTheirTeam_AnotherTeamIsRefused()
    {
        foreach (var key in new[] { _leadKey, _devKey, _teamKey })
        {
            // LiteLLM lets every member of a team read its daily activity (sums, never a call): the member too.
            var own = await GetAsync(key, $"/team/daily/activity?team_id={_team}&{AllDays}");
            Assert.Equal(Days * 3, own["metadata"]!["total_api_requests"]!.GetValue<long>());
            // Without a team: the caller's own teams, never another's.
            var mine = await GetAsync(key, $"/team/daily/activity?{AllDays}");
            Assert.Equal(Days * 3, mine["metadata"]!["total_api_requests"]!.GetValue<long>());

            var refused = await _gateway.Client(key).GetAsync($"/team/daily/activity?team_id={_other}&{AllDays}");
            Assert.Contains(_other, await refused.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error"));
            var mixed = await _gateway.Client(key).GetAsync($"/team/daily/activity?team_ids={_team},{_other}&{AllDays}");
            await mixed.ReadErrorAsync(HttpStatusCode.Forbidden);
        }
        var outsider = await _gateway.Client(_outsiderKey).GetAsync($"/team/daily/activity?team_id={_team}&{AllDays}");
        await outsider.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        Assert.Equal(Days * 5, (await GetAsync(_outsiderKey, $"/team/daily/activity?{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());

        // The proxy admin reads every team, together or named.
        Assert.Equal(Days * 8, (await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());
        Assert.Equal(Days * 8, (await GetAsync(GatewayFactory.MasterKey, $"/team/daily/activity?team_ids={_team},{_other}&{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task AUser_ReadsTheirOwnActivity_TheProxyAdminAnyones()
    {
        var own = await GetAsync(_devKey, $"/user/daily/activity?{AllDays}");
        Assert.Equal(Days * 2, own["metadata"]!["total_api_requests"]!.GetValue<long>());
        Assert.Equal(Days, own["metadata"]!["total_failed_requests"]!.GetValue<long>());
        Assert.Equal(25, own["results"]!.AsArray().Count); // LiteLLM's default page_size for users: 50
        Assert.Equal(Days * 2, (await GetAsync(_devKey, $"/user/daily/activity?user_id={_devId}&{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());

        // The lead administers the dev's team, but a user's report is the user's and the proxy admin's.
        var refused = await _gateway.Client(_leadKey).GetAsync($"/user/daily/activity?user_id={_devId}&{AllDays}");
        await refused.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        Assert.Equal(0, (await GetAsync(_leadKey, $"/user/daily/activity?{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());
        // A team key belongs to no user.
        var noUser = await _gateway.Client(_teamKey).GetAsync($"/user/daily/activity?{AllDays}");
        await noUser.ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Equal(Days * 5, (await GetAsync(GatewayFactory.MasterKey, $"/user/daily/activity?user_id={_outsiderId}&{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());
        Assert.Equal(Days * 8, (await GetAsync(GatewayFactory.MasterKey, $"/user/daily/activity?{AllDays}"))["metadata"]!["total_api_requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task ThePortalsCallers_GetTheSameRules_FromTheReportService()
    {
        await _gateway.Services.GetRequiredService<RouteTable>().RefreshAsync();
        var resolver = _gateway.Services.GetRequiredService<CallerResolver>();
        await using var scope = _gateway.Services.CreateAsyncScope();
        var activity = scope.ServiceProvider.GetRequiredService<DailyActivity>();
        var query = new ActivityQuery(First, First.AddDays(Days - 1)) { TeamIds = [_team] };

        var member = await activity.ForTeamsAsync(resolver.FromUser(_devId), query);
        Assert.Equal(Days * 3, member.Totals.ApiRequests);
        var refused = await Assert.ThrowsAsync<ProxyError>(() => activity.ForTeamsAsync(resolver.FromUser(_outsiderId), query));
        Assert.Equal(403, refused.Status);
        var user = await activity.ForUserAsync(resolver.FromUser(_devId), new ActivityQuery(First, First.AddDays(Days - 1)));
        Assert.Equal(Days * 2, user.Totals.ApiRequests);
    }
}
