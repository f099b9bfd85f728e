using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;
using Proxy.Core.Keys;

namespace Portal.Tests.Compatibility;

/// <summary>
/// LiteLLM's tests/test_spend_logs.py against the gateway: a call is found in <c>/spend/logs</c> by the chat answer's id
/// or the gateway's call id, by its key (raw or hashed), its user and its team, the filters AND-ed, and never across teams.
/// </summary>
[Trait("Category", "Database")]
public sealed class SpendLogCompatibilityTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    private sealed record Called(string TeamId, string Key, string UserId, string ResponseId, string CallId);

    /// <summary>A team whose admin user has a key; one chat call with it.</summary>
    private async Task<Called> CallAsync()
    {
        var setup = await fixture.TeamWithModelAsync();
        var userId = $"spend-user-{Guid.NewGuid():N}";
        await (await Gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = setup.TeamId, member = new { user_id = userId, role = "admin" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = userId, models = Array.Empty<string>() });
        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions",
            new { model = "my-team-model", messages = new[] { new { role = "user", content = "hi" } } });
        var chat = await response.ReadJsonAsync(HttpStatusCode.OK);
        var called = new Called(setup.TeamId, key, userId, chat["id"]!.GetValue<string>(), response.Headers.GetValues("x-litellm-call-id").Single());
        await LogsAsync($"/spend/logs?team_id={called.TeamId}", Gateway.Client(), expected: 1);
        return called;
    }

    private static async Task<JsonArray> LogsAsync(string path, HttpClient client, int expected = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var logs = JsonNode.Parse(await (await client.GetAsync(path)).Content.ReadAsStringAsync())!.AsArray();
            if (logs.Count >= expected || DateTime.UtcNow > deadline)
            {
                return logs;
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task TestSpendLogs_RequestIdOfTheChatAnswer_ReturnsExactlyThatRow()
    {
        var called = await CallAsync();
        await CallAsync();

        var row = Assert.Single(await LogsAsync($"/spend/logs?request_id={called.ResponseId}", Gateway.Client()))!;

        Assert.StartsWith("chatcmpl-", called.ResponseId);
        Assert.Equal(called.ResponseId, row["response_id"]!.GetValue<string>());
        Assert.Equal(called.CallId, row["request_id"]!.GetValue<string>());
        Assert.Equal(called.TeamId, row["team_id"]!.GetValue<string>());
        Assert.Equal(called.TeamId, row["metadata"]!["user_api_key_team_id"]!.GetValue<string>());
        Assert.Equal(called.UserId, row["metadata"]!["user_api_key_user_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task RequestId_TheGatewaysCallId_FindsTheRowToo()
    {
        var called = await CallAsync();

        var row = Assert.Single(await LogsAsync($"/spend/logs?request_id={called.CallId}", Gateway.Client()))!;

        Assert.Equal(called.ResponseId, row["response_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task ApiKey_RawOrHashed_UserId_AndTeamId_EachFilter_AndTogetherTheyAnd()
    {
        var called = await CallAsync();
        var other = await CallAsync();
        var hash = KeyMaterial.Hash(called.Key);

        foreach (var filter in new[] { $"api_key={called.Key}", $"api_key={hash}", $"user_id={called.UserId}", $"team_id={called.TeamId}",
                     $"team_id={called.TeamId}&api_key={called.Key}&user_id={called.UserId}&request_id={called.ResponseId}" })
        {
            var row = Assert.Single(await LogsAsync($"/spend/logs?{filter}", Gateway.Client()))!;
            Assert.Equal(called.CallId, row["request_id"]!.GetValue<string>());
            Assert.Equal(hash, row["api_key"]!.GetValue<string>());
        }
        // AND, not LiteLLM v1's first-match: a key with another call's id, or another user in the team, is no row.
        Assert.Empty(await LogsAsync($"/spend/logs?api_key={called.Key}&request_id={other.ResponseId}", Gateway.Client()));
        Assert.Empty(await LogsAsync($"/spend/logs?team_id={called.TeamId}&user_id={other.UserId}", Gateway.Client()));
    }

    [Fact]
    public async Task TeamAdmin_SeesOwnTeamsRowsByEveryFilter_NeverAnotherTeamsRow()
    {
        var own = await CallAsync();
        var other = await CallAsync();
        var admin = Gateway.Client(own.Key);

        Assert.Single(await LogsAsync($"/spend/logs?team_id={own.TeamId}&request_id={own.ResponseId}", admin));
        // Another team's call id or key within the admin's own team: no row; asking for the other team: 403; no team: 400.
        Assert.Empty(await LogsAsync($"/spend/logs?team_id={own.TeamId}&request_id={other.ResponseId}", admin));
        Assert.Empty(await LogsAsync($"/spend/logs?team_id={own.TeamId}&api_key={other.Key}", admin));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync($"/spend/logs?team_id={other.TeamId}&request_id={other.ResponseId}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"/spend/logs?request_id={other.ResponseId}")).StatusCode);
    }

    [Fact]
    public async Task StartAndEndDate_BoundTheRows_ADayAsEndDateIncludesTheWholeDay_AndModelFilters()
    {
        var called = await CallAsync();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var hourAgo = DateTime.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var team = $"/spend/logs?team_id={called.TeamId}";

        Assert.Single(await LogsAsync($"{team}&start_date={today}&end_date={today}", Gateway.Client()));
        Assert.Single(await LogsAsync($"{team}&start_date={hourAgo}", Gateway.Client()));
        Assert.Single(await LogsAsync($"{team}&model=my-team-model&end_date={today}", Gateway.Client()));
        // The range LiteLLM users try first: last month's rows only, so not today's call.
        Assert.Empty(await LogsAsync($"{team}&start_date=2020-01-01&end_date=2020-01-31", Gateway.Client()));
        Assert.Empty(await LogsAsync($"{team}&end_date={hourAgo}", Gateway.Client()));
        Assert.Empty(await LogsAsync($"{team}&model=another-model", Gateway.Client()));
    }

    [Theory]
    [InlineData("start_date=not-a-date", "start_date")]
    [InlineData("end_date=2026-13-01", "end_date")]
    [InlineData("start_date=31/01/2026", "start_date")]
    [InlineData("start_date=2026-02-01&end_date=2026-01-31", "start_date")]
    public async Task ABadDateOrRange_Is400NamingIt_NeverIgnored(string query, string param)
    {
        var response = await Gateway.Client().GetAsync($"/spend/logs?{query}");

        var error = (await response.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
    }
}
