using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;
using Portal.Tests.Infrastructure;
using Proxy.Core.Keys;
using Proxy.Core.Persistence;
using Calls = Portal.Tests.Spend.Spend;

namespace Portal.Tests.Usage;

/// <summary>
/// Issue 27: the daily reports equal what was called, per day, model, key and provider, across a UTC midnight (the
/// gateway's clock is a <see cref="FakeTimeProvider"/>), with real calls through the gateway to stand-in providers
/// made with the OpenAI SDK; and the aggregates the reports read agree with the raw rows after the writer's transaction.
/// </summary>
[Trait("Category", "Database")]
public sealed class DailyActivityTests
{
    /// <summary>Five minutes before a UTC midnight: the calls before it and after it land on two days.</summary>
    private static readonly DateTimeOffset BeforeMidnight = new(2026, 11, 30, 23, 55, 0, TimeSpan.Zero);

    private const double In = 1e-06, Out = 2e-06, CacheWrite = 4e-06, CacheRead = 5e-07;

    /// <summary>The stand-in's OpenAI answer: 11 prompt and 7 completion tokens.</summary>
    private const double GptCall = (11 * In) + (7 * Out);

    private const int ClaudePrompt = 21 + AnthropicStandIn.CacheWriteTokens + AnthropicStandIn.CacheReadTokens;
    private const double ClaudeCall = (21 * In) + (AnthropicStandIn.CacheWriteTokens * CacheWrite) + (AnthropicStandIn.CacheReadTokens * CacheRead) + (9 * Out);

    [Fact]
    public async Task TheTeamReport_EqualsWhatWasCalled_PerDayModelKeyAndProvider_AcrossAUtcMidnight()
    {
        var clock = new FakeTimeProvider(BeforeMidnight);
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory { Clock = clock };
        var team = await gateway.CreateTeamAsync("reports");
        var ana = await gateway.GenerateKeyAsync(team, new { key_alias = "ana-laptop" });
        var ci = await gateway.GenerateKeyAsync(team, new { key_alias = "ci" });
        await AddModelAsync(gateway, team, "gpt", "openai/gpt-4o", upstream.ApiBase("ok", out _));
        await AddModelAsync(gateway, team, "claude", "anthropic/claude-sonnet-4-5", upstream.ApiBase("claudecache", out _));
        await AddModelAsync(gateway, team, "broken", "openai/gpt-4o", upstream.ApiBase("error400", out _));

        // Before midnight: ana calls gpt three times and broken once (a 400), ci calls claude twice.
        await CallAsync(gateway, ana, "gpt", 3);
        await CallAsync(gateway, ci, "claude", 2);
        await CallAsync(gateway, ana, "broken", 1, fails: true);
        clock.Advance(TimeSpan.FromMinutes(10));
        // After it: ci calls gpt once, ana claude once.
        await CallAsync(gateway, ci, "gpt", 1);
        await CallAsync(gateway, ana, "claude", 1);

        var report = await TeamReportAsync(gateway, GatewayFactory.MasterKey, $"team_id={team}&start_date=2026-11-30&end_date=2026-12-01", requests: 8);
        var days = report["results"]!.AsArray();
        Assert.Equal(["2026-12-01", "2026-11-30"], days.Select(d => d!["date"]!.GetValue<string>()));
        var (before, after) = (days[1]!, days[0]!);

        AssertMetrics(before["metrics"]!, requests: 6, failed: 1, prompt: (3 * 11) + (2 * ClaudePrompt), completion: (3 * 7) + (2 * 9),
            cacheRead: 2 * AnthropicStandIn.CacheReadTokens, cacheWrite: 2 * AnthropicStandIn.CacheWriteTokens, spend: (3 * GptCall) + (2 * ClaudeCall));
        var models = before["breakdown"]!["models"]!.AsObject();
        Assert.Equal(["broken", "claude", "gpt"], models.Select(m => m.Key).Order());
        AssertMetrics(models["gpt"]!["metrics"]!, requests: 3, failed: 0, prompt: 33, completion: 21, cacheRead: 0, cacheWrite: 0, spend: 3 * GptCall);
        AssertMetrics(models["broken"]!["metrics"]!, requests: 1, failed: 1, prompt: 0, completion: 0, cacheRead: 0, cacheWrite: 0, spend: 0);
        Assert.Empty(models["claude"]!["metadata"]!.AsObject());
        var providers = before["breakdown"]!["providers"]!.AsObject();
        Assert.Equal(["anthropic", "openai"], providers.Select(p => p.Key).Order());
        AssertMetrics(providers["openai"]!["metrics"]!, requests: 4, failed: 1, prompt: 33, completion: 21, cacheRead: 0, cacheWrite: 0, spend: 3 * GptCall);
        AssertMetrics(providers["anthropic"]!["metrics"]!, requests: 2, failed: 0, prompt: 2 * ClaudePrompt, completion: 18,
            cacheRead: 2 * AnthropicStandIn.CacheReadTokens, cacheWrite: 2 * AnthropicStandIn.CacheWriteTokens, spend: 2 * ClaudeCall);
        var keys = before["breakdown"]!["api_keys"]!.AsObject();
        Assert.Equal(new[] { KeyMaterial.ToHash(ana), KeyMaterial.ToHash(ci) }.Order(StringComparer.Ordinal), keys.Select(k => k.Key).Order(StringComparer.Ordinal));
        Assert.Equal("ana-laptop", keys[KeyMaterial.ToHash(ana)]!["metadata"]!["key_alias"]!.GetValue<string>());
        Assert.Equal(team, keys[KeyMaterial.ToHash(ana)]!["metadata"]!["team_id"]!.GetValue<string>());
        AssertMetrics(keys[KeyMaterial.ToHash(ana)]!["metrics"]!, requests: 4, failed: 1, prompt: 33, completion: 21, cacheRead: 0, cacheWrite: 0, spend: 3 * GptCall);
        Assert.DoesNotContain(ana, report.ToJsonString());
        Assert.DoesNotContain(ci, report.ToJsonString());

        AssertMetrics(after["metrics"]!, requests: 2, failed: 0, prompt: 11 + ClaudePrompt, completion: 7 + 9,
            cacheRead: AnthropicStandIn.CacheReadTokens, cacheWrite: AnthropicStandIn.CacheWriteTokens, spend: GptCall + ClaudeCall);
        Assert.Equal("ci", after["breakdown"]!["api_keys"]![KeyMaterial.ToHash(ci)]!["metadata"]!["key_alias"]!.GetValue<string>());

        var metadata = report["metadata"]!;
        Assert.Equal(8, metadata["total_api_requests"]!.GetValue<long>());
        Assert.Equal(7, metadata["total_successful_requests"]!.GetValue<long>());
        Assert.Equal(1, metadata["total_failed_requests"]!.GetValue<long>());
        Assert.Equal((4 * GptCall) + (3 * ClaudeCall), metadata["total_spend"]!.GetValue<double>(), 12);
        Assert.Equal(3 * AnthropicStandIn.CacheReadTokens, metadata["total_cache_read_input_tokens"]!.GetValue<long>());

        // The spend the report shows is the spend the calls were charged (the spend logs and the team's spend).
        var logs = await Calls.LogsAsync(gateway, team, 8);
        Assert.Equal(logs.Sum(l => l["spend"]!.GetValue<double>()), metadata["total_spend"]!.GetValue<double>(), 12);

        // Filters: one model, one key (raw or hashed), one day.
        var claude = await TeamReportAsync(gateway, GatewayFactory.MasterKey, $"team_id={team}&start_date=2026-11-30&end_date=2026-12-01&model=claude", requests: 3);
        Assert.Equal(3 * ClaudeCall, claude["metadata"]!["total_spend"]!.GetValue<double>(), 12);
        var byAna = await TeamReportAsync(gateway, GatewayFactory.MasterKey, $"team_id={team}&start_date=2026-11-30&end_date=2026-12-01&api_key={ana}", requests: 5);
        Assert.Equal([1L, 4L], byAna["results"]!.AsArray().Select(d => d!["metrics"]!["api_requests"]!.GetValue<long>()));
        var secondDay = await TeamReportAsync(gateway, GatewayFactory.MasterKey, $"team_ids={team}&start_date=2026-12-01&end_date=2026-12-01", requests: 2);
        Assert.Equal("2026-12-01", Assert.Single(secondDay["results"]!.AsArray())!["date"]!.GetValue<string>());

        await AssertAggregatesEqualRawRowsAsync(gateway);
    }

    [Fact]
    public async Task TheUserReport_IsTheCallsOfTheUsersKeys_AcrossTheirTeams()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory();
        var first = await gateway.CreateTeamAsync("first");
        var second = await gateway.CreateTeamAsync("second");
        var dana = await AddMemberAsync(gateway, first, "dana@example.com", "user");
        await AddMemberAsync(gateway, second, "dana@example.com", "user");
        var danaFirst = await gateway.GenerateKeyAsync(first, new { user_id = dana });
        var danaSecond = await gateway.GenerateKeyAsync(second, new { user_id = dana });
        var teamKey = await gateway.GenerateKeyAsync(first);
        await AddModelAsync(gateway, first, "gpt", "openai/gpt-4o", upstream.ApiBase("ok", out _));
        await AddModelAsync(gateway, second, "gpt", "openai/gpt-4o", upstream.ApiBase("ok", out _));

        await CallAsync(gateway, danaFirst, "gpt", 2);
        await CallAsync(gateway, danaSecond, "gpt", 1);
        await CallAsync(gateway, teamKey, "gpt", 4);

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var own = await ReportAsync(gateway, danaFirst, $"/user/daily/activity?start_date={today}&end_date={today}", requests: 3);
        Assert.Equal(3 * GptCall, own["metadata"]!["total_spend"]!.GetValue<double>(), 12);
        Assert.Equal(new[] { KeyMaterial.ToHash(danaFirst), KeyMaterial.ToHash(danaSecond) }.Order(StringComparer.Ordinal),
            own["results"]![0]!["breakdown"]!["api_keys"]!.AsObject().Select(k => k.Key).Order(StringComparer.Ordinal));
        var byAdmin = await ReportAsync(gateway, GatewayFactory.MasterKey, $"/user/daily/activity?user_id={dana}&start_date={today}&end_date={today}", requests: 3);
        Assert.Equal(3, byAdmin["metadata"]!["total_api_requests"]!.GetValue<long>());
        await ReportAsync(gateway, GatewayFactory.MasterKey, $"/user/daily/activity?start_date={today}&end_date={today}", requests: 7);
        await AssertAggregatesEqualRawRowsAsync(gateway);
    }

    private static async Task AddModelAsync(GatewayFactory gateway, string team, string name, string model, string apiBase)
    {
        var response = await gateway.Client().PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name,
            ["litellm_params"] = new JsonObject { ["model"] = model, ["api_key"] = $"sk-provider-{name}-reports-0001", ["api_base"] = apiBase },
            ["model_info"] = new JsonObject
            {
                ["team_id"] = team, ["input_cost_per_token"] = In, ["output_cost_per_token"] = Out,
                ["cache_creation_input_token_cost"] = CacheWrite, ["cache_read_input_token_cost"] = CacheRead,
            },
        });
        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary><paramref name="times"/> chat calls with the OpenAI SDK, as a developer's code makes them.</summary>
    private static async Task CallAsync(GatewayFactory gateway, string key, string model, int times, bool fails = false)
    {
        var chat = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1") }).GetChatClient(model);
        for (var i = 0; i < times; i++)
        {
            if (fails)
            {
                var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Weather in Boston?")]));
                Assert.Equal(400, refused.Status);
                continue;
            }
            var answer = (await chat.CompleteChatAsync([new UserChatMessage("Weather in Boston?")])).Value;
            Assert.Equal("Sunny in Boston.", answer.Content[0].Text);
        }
    }

    private static Task<JsonObject> TeamReportAsync(GatewayFactory gateway, string key, string query, long requests) =>
        ReportAsync(gateway, key, $"/team/daily/activity?{query}", requests);

    /// <summary>The report once it counts <paramref name="requests"/> (the usage writer stores calls within about a second).</summary>
    internal static async Task<JsonObject> ReportAsync(GatewayFactory gateway, string key, string path, long requests)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var report = await (await gateway.Client(key).GetAsync(path)).ReadJsonAsync(HttpStatusCode.OK);
            var counted = report["metadata"]!["total_api_requests"]!.GetValue<long>();
            if (counted >= requests || DateTime.UtcNow > deadline)
            {
                Assert.Equal(requests, counted);
                return report;
            }
            await Task.Delay(50);
        }
    }

    private static void AssertMetrics(JsonNode metrics, long requests, long failed, long prompt, long completion, long cacheRead, long cacheWrite, double spend)
    {
        Assert.Equal(requests, metrics["api_requests"]!.GetValue<long>());
        Assert.Equal(requests - failed, metrics["successful_requests"]!.GetValue<long>());
        Assert.Equal(failed, metrics["failed_requests"]!.GetValue<long>());
        Assert.Equal(prompt, metrics["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(completion, metrics["completion_tokens"]!.GetValue<long>());
        Assert.Equal(prompt + completion, metrics["total_tokens"]!.GetValue<long>());
        Assert.Equal(cacheRead, metrics["cache_read_input_tokens"]!.GetValue<long>());
        Assert.Equal(cacheWrite, metrics["cache_creation_input_tokens"]!.GetValue<long>());
        Assert.Equal(spend, metrics["spend"]!.GetValue<double>(), 12);
    }

    internal static async Task<string> AddMemberAsync(GatewayFactory gateway, string team, string email, string role)
    {
        var added = await (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = email, role } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        return added["updated_team"]!["members_with_roles"]!.AsArray().Single(m => m!["user_email"]?.GetValue<string>() == email)!["user_id"]!.GetValue<string>();
    }

    private static async Task AssertAggregatesEqualRawRowsAsync(GatewayFactory gateway)
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = (System.Data.Common.DbConnection)db.Database.GetDbConnection();
        await connection.OpenAsync();
        await DailyActivityAgreement.AssertAsync(connection);
    }
}
