using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>Cost per call, spend per key/team/user, and budgets that refuse calls before they reach the provider.</summary>
[Trait("Category", "Database")]
public sealed class BudgetTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    /// <summary>The stand-in answers with 11 prompt and 7 completion tokens: 11 × 0.001 + 7 × 0.002 = 0.025 USD a call.</summary>
    public static readonly object Priced = new { input_cost_per_token = 0.001, output_cost_per_token = 0.002 };
    public const double CallCost = 0.025;

    /// <summary>
    /// What <see cref="Spend.Chat"/> reserves before it is forwarded: its 123 body bytes as input tokens and its
    /// max_tokens of 7, 123 × 0.001 + 7 × 0.002 = 0.137 USD. A budget admits a call while spend + 0.137 fits in it.
    /// </summary>
    public const double WorstCase = 0.137;

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task EachCall_CostsItsTokensAtTheModelsPrice_InSpendLogs_KeyInfo_KeyList_TeamInfo()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);

        await Spend.CallAsync(Gateway, setup.Key);

        var log = Assert.Single((await Spend.LogsAsync(Gateway, setup.TeamId, expected: 1)));
        Assert.Equal(CallCost, log["spend"]!.GetValue<double>(), 9);
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
        Assert.Equal(CallCost, await Spend.KeySpendAsync(Gateway, setup.Key, CallCost), 9);
        var team = await (await Gateway.Client().GetAsync($"/team/info?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(CallCost, team["team_info"]!["spend"]!.GetValue<double>(), 9);
        var list = await (await Gateway.Client().GetAsync($"/key/list?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(CallCost, list["keys"]![0]!["spend"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task APriceInModelInfo_WinsOverTheBuiltInTable_AndGpt4oWithoutOne_UsesTheTable()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        foreach (var (name, info) in new[] { ("priced", (object)new { team_id = team, input_cost_per_token = 0.01, output_cost_per_token = 0.0 }), ("table", new { team_id = team }) })
        {
            (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
            {
                model_name = name,
                litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-price-test-0001", api_base = Upstream.ApiBase("ok", out _) },
                model_info = info,
            })).EnsureSuccessStatusCode();
            await Spend.CallAsync(Gateway, key, name);
        }

        var logs = await Spend.LogsAsync(Gateway, team, expected: 2);
        Assert.Equal(11 * 0.01, logs.Single(l => l["model"]!.GetValue<string>() == "priced")["spend"]!.GetValue<double>(), 9);
        // gpt-4o in Spend/prices.json: 2.5e-06 in, 1e-05 out.
        Assert.Equal(11 * 2.5e-06 + 7 * 1e-05, logs.Single(l => l["model"]!.GetValue<string>() == "table")["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task KeyBudget_ReachedAfterThreeCalls_RefusesTheFourthWith400_AndNothingReachesTheProvider()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        // Room for a third call's worst case after two (0.05 + 0.137), not for a fourth's after three (0.075 + 0.137).
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 0.19 });

        for (var i = 0; i < 3; i++)
        {
            await Spend.CallAsync(Gateway, key);
        }
        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        var message = await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.StartsWith("Budget has been exceeded!", message);
        Assert.Contains($"Key=sk-...{key[^4..]} Current cost: 0.075, Reserved by calls in flight: 0, This call may cost up to: 0.137, Max budget: 0.19.", message);
        Assert.DoesNotContain(key, message);
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);
        // Still refused after the spend is stored, and the stored spend is the three calls'.
        Assert.Equal(3 * CallCost, await Spend.KeySpendAsync(Gateway, key, 3 * CallCost), 9);
        Assert.Equal(HttpStatusCode.BadRequest, (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).StatusCode);
    }

    [Fact]
    public async Task ABudgetOfZero_RefusesTheFirstCall()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 0 });

        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Empty(Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task TeamBudget_BindsEveryKeyOfTheTeam_WhileAnotherTeamIsUnaffected()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, max_budget = 0.17 })).EnsureSuccessStatusCode();
        var second = await Gateway.GenerateKeyAsync(setup.TeamId);
        var other = await fixture.TeamWithModelAsync(extraParams: Priced);

        await Spend.CallAsync(Gateway, setup.Key);
        await Spend.CallAsync(Gateway, second);
        var refused = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var refusedToo = await Gateway.Client(second).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Contains($"Team={setup.TeamId} Current cost: 0.05, Reserved by calls in flight: 0, This call may cost up to: 0.137, Max budget: 0.17.", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        await refusedToo.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Equal(2, Upstream.ReceivedBy(setup.UpstreamId).Count);
        for (var i = 0; i < 3; i++)
        {
            await Spend.CallAsync(Gateway, other.Key);
        }
    }

    [Fact]
    public async Task UserBudget_BindsTheUsersKeys()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        var user = await (await Gateway.Client().PostAsJsonAsync("/user/new", new
        {
            user_email = $"budget-{Guid.NewGuid():N}@example.com", max_budget = 0.17, auto_create_key = false,
        })).ReadJsonAsync(HttpStatusCode.OK);
        var userId = user["user_id"]!.GetValue<string>();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = userId });

        await Spend.CallAsync(Gateway, key);
        await Spend.CallAsync(Gateway, key);
        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Contains($"User={userId} Current cost: 0.05, Reserved by calls in flight: 0, This call may cost up to: 0.137, Max budget: 0.17.", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        var info = await (await Gateway.Client().GetAsync($"/user/info?user_id={userId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0.17, info["user_info"]!["max_budget"]!.GetValue<double>());
        Assert.Equal(2 * CallCost, await Spend.WaitForAsync(async () =>
            (await (await Gateway.Client().GetAsync($"/user/info?user_id={userId}")).ReadJsonAsync(HttpStatusCode.OK))["user_info"]!["spend"]!.GetValue<double>(), 2 * CallCost), 9);
    }

    [Fact]
    public async Task RemovingTheBudgetWithNull_LetsCallsThroughAgain()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 0.14 });
        await Spend.CallAsync(Gateway, key);
        Assert.Equal(HttpStatusCode.BadRequest, (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).StatusCode);

        var updated = await (await Gateway.Client().PostAsJsonAsync("/key/update", new JsonObject { ["key"] = key, ["max_budget"] = null })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Null(updated["max_budget"]);
        await Spend.CallAsync(Gateway, key);
    }

    [Fact]
    public async Task AStreamWithoutUsage_IsChargedAnEstimate_MarkedAsSuch()
    {
        var setup = await fixture.TeamWithModelAsync("nousage", extraParams: Priced);

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "my-team-model", stream = true, messages = new[] { new { role = "user", content = "What is the weather like in Boston?" } },
        });
        Assert.Contains("Boston.", await response.Content.ReadAsStringAsync());

        var log = Assert.Single(await Spend.LogsAsync(Gateway, setup.TeamId, expected: 1));
        Assert.True(log["tokens_estimated"]!.GetValue<bool>());
        // "Sunny in Boston." is 16 bytes: 4 tokens; the request body's bytes / 4 are the prompt.
        Assert.Equal(4, log["completion_tokens"]!.GetValue<int>());
        Assert.InRange(log["prompt_tokens"]!.GetValue<int>(), 20, 40);
        Assert.True(log["spend"]!.GetValue<double>() > 0);
    }

    [Fact]
    public async Task SpendOfTwoInstancesOnOneDatabase_AddsUp_NoIncrementIsLost()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        await using var second = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = Gateway.ConnectionString } };
        using var first = Gateway.Client(setup.Key);
        using var other = second.Client(setup.Key);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            (await (i % 2 == 0 ? first : other).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).EnsureSuccessStatusCode()));

        Assert.Equal(40 * CallCost, await Spend.KeySpendAsync(Gateway, setup.Key, 40 * CallCost), 9);
        var team = await (await Gateway.Client().GetAsync($"/team/info?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(40 * CallCost, team["team_info"]!["spend"]!.GetValue<double>(), 9);
        Assert.Equal(40, (await Spend.LogsAsync(Gateway, setup.TeamId, expected: 40)).Count);
    }

    [Fact]
    public async Task SpendAndBudget_SurviveARestart()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Priced);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 0.17 });
        var restartable = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = Gateway.ConnectionString } };
        await Spend.CallAsync(restartable, key);
        await Spend.CallAsync(restartable, key);
        // An orderly stop drains the usage writer: the spend is stored before the process is gone.
        await restartable.DisposeAsync();

        await using var restarted = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = Gateway.ConnectionString } };
        var refused = await restarted.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Equal(2 * CallCost, await Spend.KeySpendAsync(restarted, key, 2 * CallCost), 9);
    }
}

/// <summary>Calls and reads of spend that the spend-control tests share.</summary>
internal static class Spend
{
    /// <summary>A chat call whose max_tokens, 7, is what the stand-in answers: it reserves <see cref="BudgetTests.WorstCase"/>.</summary>
    public static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "What is the weather like in Boston today?" } }, max_tokens = 7 };

    public static async Task CallAsync(GatewayFactory gateway, string key, string model = "my-team-model")
    {
        var response = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat(model));
        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>The team's spend logs once <paramref name="expected"/> rows are written (the writer runs in the background).</summary>
    public static async Task<List<JsonObject>> LogsAsync(GatewayFactory gateway, string teamId, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var logs = (await gateway.Client().GetFromJsonAsync<JsonArray>($"/spend/logs?team_id={teamId}&size=100"))!.Select(l => l!.AsObject()).ToList();
            if (logs.Count >= expected || DateTime.UtcNow > deadline)
            {
                return logs;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The key's stored spend once it reaches <paramref name="expected"/> (or after 15 s, whatever it is then).</summary>
    public static Task<double> KeySpendAsync(GatewayFactory gateway, string key, double expected) =>
        WaitForAsync(async () => (await (await gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!["spend"]!.GetValue<double>(), expected);

    public static async Task<double> WaitForAsync(Func<Task<double>> read, double expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var value = await read();
            if (Math.Abs(value - expected) < 1e-9 || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(50);
        }
    }
}

/// <summary>The built-in price table can be changed by configuration, without a release.</summary>
[Trait("Category", "Database")]
public sealed class PriceConfigurationTests
{
    [Fact]
    public async Task ProxyPrices_InConfiguration_OverrideTheBuiltInTable()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory
        {
            Settings = { ["Proxy:Prices:gpt-4o:input_cost_per_token"] = "0.5", ["Proxy:Prices:gpt-4o:output_cost_per_token"] = "1" },
        };
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        (await gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "configured",
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-configured-price-1", api_base = upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        await Spend.CallAsync(gateway, key, "configured");

        Assert.Equal(11 * 0.5 + 7 * 1.0, (await Spend.LogsAsync(gateway, team, expected: 1)).Single()["spend"]!.GetValue<double>(), 9);
    }
}
