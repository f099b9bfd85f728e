using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// Model budgets on keys (LiteLLM's <c>model_max_budget</c>, issue 26): a budget per public model, reserved on by each
/// attempt at that model exactly as the key's own budget is, so it holds under parallel calls, and reset per time_period.
/// </summary>
[Trait("Category", "Database")]
public sealed class ModelBudgetTests(ClockedLlmFixture fixture) : IClassFixture<ClockedLlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task AModelBudget_RefusesItsModel_WhileTheKeysOtherModelAnswers()
    {
        var (setup, other) = await TeamWithTwoModelsAsync();
        // Room for a third call's worst case after two (0.05 + 0.137), not for a fourth's after three (0.075 + 0.137).
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 0.19 } } });

        for (var i = 0; i < 3; i++)
        {
            await Spend.CallAsync(Gateway, key);
        }
        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var answered = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("other-model"));

        var message = await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Equal(
            $"Budget has been exceeded! Key=sk-...{key[^4..]} exceeded budget for model=my-team-model (model_max_budget). Current cost: 0.075, " +
            "Reserved by calls in flight: 0, This call may cost up to: 0.137, Max budget: 0.19. Set max_tokens to reserve less, or wait for calls in flight to finish.",
            message);
        await answered.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);
        Assert.Single(Upstream.ReceivedBy(other));
    }

    [Fact]
    public async Task KeyInfo_ShowsModelMaxBudgetAsGiven_AndModelSpendPerModelBudget()
    {
        var (setup, _) = await TeamWithTwoModelsAsync();
        var generated = await (await Gateway.Client().PostAsJsonAsync("/key/generate", new
        {
            team_id = setup.TeamId,
            model_max_budget = new Dictionary<string, object>
            {
                ["my-team-model"] = new { budget_limit = 10.0, time_period = "1d" },
                ["other-model"] = new { budget_limit = 0 },
            },
        })).ReadJsonAsync(HttpStatusCode.OK);
        var key = generated["key"]!.GetValue<string>();
        Assert.Equal(10.0, generated["model_max_budget"]!["my-team-model"]!["budget_limit"]!.GetValue<double>());

        await Spend.CallAsync(Gateway, key);
        await Spend.CallAsync(Gateway, key);
        // A budget of 0 refuses its model at once.
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("other-model"))).ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");

        var spent = await Spend.WaitForAsync(async () => (await InfoAsync(key))["model_spend"]!["my-team-model"]!.GetValue<double>(), 2 * BudgetTests.CallCost);
        Assert.Equal(2 * BudgetTests.CallCost, spent, 9);
        var info = await InfoAsync(key);
        Assert.Equal(
            """{"my-team-model":{"budget_limit":10,"time_period":"1d"},"other-model":{"budget_limit":0,"time_period":null}}""",
            info["model_max_budget"]!.ToJsonString());
        Assert.Equal(0, info["model_spend"]!["other-model"]!.GetValue<double>());
        // The key's own spend counts every model.
        Assert.Equal(2 * BudgetTests.CallCost, info["spend"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task Update_ReplacesTheSet_KeepingSpendOfAModelThatStays_NullRemovesIt_AndRegenerateKeepsIt()
    {
        var (setup, _) = await TeamWithTwoModelsAsync();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 5 } } });
        await Spend.CallAsync(Gateway, key);
        await Spend.WaitForAsync(async () => (await InfoAsync(key))["model_spend"]!["my-team-model"]!.GetValue<double>(), BudgetTests.CallCost);

        var updated = await (await Gateway.Client().PostAsJsonAsync("/key/update", new
        {
            key,
            model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 6 }, ["other-model"] = new { budget_limit = 1, time_period = "7d" } },
        })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(6, updated["model_max_budget"]!["my-team-model"]!["budget_limit"]!.GetValue<double>());
        Assert.Equal("7d", updated["model_max_budget"]!["other-model"]!["time_period"]!.GetValue<string>());
        Assert.Equal(BudgetTests.CallCost, updated["model_spend"]!["my-team-model"]!.GetValue<double>(), 9);

        var regenerated = await (await Gateway.Client().PostAsJsonAsync("/key/regenerate", new { key })).ReadJsonAsync(HttpStatusCode.OK);
        var fresh = regenerated["key"]!.GetValue<string>();
        Assert.Equal(updated["model_max_budget"]!.ToJsonString(), regenerated["model_max_budget"]!.ToJsonString());
        Assert.Equal(BudgetTests.CallCost, regenerated["model_spend"]!["my-team-model"]!.GetValue<double>(), 9);

        // Absent keeps the set; null removes it, and the model then answers without a model budget.
        var kept = await (await Gateway.Client().PostAsJsonAsync("/key/update", new { key = fresh, key_alias = $"kept-{Guid.NewGuid():N}" })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, kept["model_max_budget"]!.AsObject().Count);
        var removed = await (await Gateway.Client().PostAsync("/key/update", Json($$"""{"key": "{{fresh}}", "model_max_budget": null}"""))).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Empty(removed["model_max_budget"]!.AsObject());
        Assert.Empty(removed["model_spend"]!.AsObject());
        await Spend.CallAsync(Gateway, fresh, "other-model");
    }

    [Fact]
    public async Task AModelBudget_ResetsAfterItsTimePeriod()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: BudgetTests.Priced);
        // Two calls (the second reserves 0.025 + 0.137), not three.
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 0.17, time_period = "1h" } } });
        await Spend.CallAsync(Gateway, key);
        await Spend.CallAsync(Gateway, key);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        await Spend.WaitForAsync(async () => (await InfoAsync(key))["model_spend"]!["my-team-model"]!.GetValue<double>(), 2 * BudgetTests.CallCost);

        fixture.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        // The spend sync notices within a round (one second of real time).
        HttpStatusCode status;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        do
        {
            await Task.Delay(100);
            status = (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(BudgetTests.CallCost,
            await Spend.WaitForAsync(async () => (await InfoAsync(key))["model_spend"]!["my-team-model"]!.GetValue<double>(), BudgetTests.CallCost), 9);
        // The key's own spend has no period: it kept all three calls.
        Assert.Equal(3 * BudgetTests.CallCost, await Spend.KeySpendAsync(Gateway, key, 3 * BudgetTests.CallCost), 9);
    }

    [Fact]
    public async Task FortyParallelCalls_AgainstAModelBudgetWorthThree_AnswerThree()
    {
        var stream = new
        {
            model = "my-team-model", stream = true, max_tokens = 7, messages = new[] { new { role = "user", content = "What is the weather like in Boston today?" } },
        };
        var worstCase = JsonSerializer.SerializeToUtf8Bytes(stream, JsonSerializerOptions.Web).Length * 0.001 + 7 * 0.002;
        var setup = await fixture.TeamWithModelAsync("gated", extraParams: BudgetTests.Priced);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 3.5 * worstCase } } });

        var calls = Enumerable.Range(0, 40).Select(_ => Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", stream)).ToList();
        await WaitUntilAsync(() => calls.Count(c => c.IsCompleted) == 37 && Upstream.ReceivedBy(setup.UpstreamId).Count == 3);
        Upstream.Release(setup.UpstreamId);
        var answers = await Task.WhenAll(calls);

        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
        {
            Assert.Contains("exceeded budget for model=my-team-model", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        }
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);
        var spent = await Spend.WaitForAsync(async () => (await InfoAsync(key))["model_spend"]!["my-team-model"]!.GetValue<double>(), 3 * (11 * 0.001 + 3 * 0.002));
        Assert.True(spent <= 3.5 * worstCase);
    }

    [Fact]
    public async Task AFallback_ReservesOnItsOwnModelsBudget_AndIsRefusedWhenThatBudgetHasNoRoom()
    {
        // my-team-model's only deployment fails (503), so each call falls back to other-model.
        var (setup, other) = await TeamWithTwoModelsAsync("error503");
        var roomy = await Gateway.GenerateKeyAsync(setup.TeamId, new
        {
            model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 1.0 }, ["other-model"] = new { budget_limit = 1.0 } },
        });
        // Below one call's worst case (0.165 with the fallbacks field): the fallback may not start, whatever my-team-model's budget allows.
        var tight = await Gateway.GenerateKeyAsync(setup.TeamId, new
        {
            model_max_budget = new Dictionary<string, object> { ["my-team-model"] = new { budget_limit = 1.0 }, ["other-model"] = new { budget_limit = 0.1 } },
        });
        var withFallback = new
        {
            model = "my-team-model", max_tokens = 7, fallbacks = new[] { "other-model" },
            messages = new[] { new { role = "user", content = "What is the weather like in Boston today?" } },
        };

        var answered = await Gateway.Client(roomy).PostAsJsonAsync("/v1/chat/completions", withFallback);
        var refused = await Gateway.Client(tight).PostAsJsonAsync("/v1/chat/completions", withFallback);

        await answered.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains("exceeded budget for model=other-model", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        Assert.Single(Upstream.ReceivedBy(other));
        var spend = await Spend.WaitForAsync(async () => (await InfoAsync(roomy))["model_spend"]!["other-model"]!.GetValue<double>(), BudgetTests.CallCost);
        Assert.Equal(BudgetTests.CallCost, spend, 9);
        // The failed attempt cost nothing, and the answer's cost went to the model that gave it.
        Assert.Equal(0, (await InfoAsync(roomy))["model_spend"]!["my-team-model"]?.GetValue<double>() ?? 0);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { """{"model_max_budget": {"gpt-4o": {"budget_limit": -1}}}""", "model_max_budget.gpt-4o.budget_limit" },
        { """{"model_max_budget": {"gpt-4o": {"budget_limit": "ten"}}}""", "model_max_budget.gpt-4o.budget_limit" },
        { """{"model_max_budget": {"gpt-4o": {"time_period": "1d"}}}""", "model_max_budget.gpt-4o.budget_limit" },
        { """{"model_max_budget": {"gpt-4o": {"budget_limit": 1, "time_period": "30x"}}}""", "model_max_budget.gpt-4o.time_period" },
        { """{"model_max_budget": {"gpt-4o": {"budget_limit": 1, "time_period": "2mo"}}}""", "model_max_budget.gpt-4o.time_period" },
        { """{"model_max_budget": {"gpt-4o": {"budget_limit": 1, "max_budget": 2}}}""", "model_max_budget.gpt-4o.max_budget" },
        { """{"model_max_budget": {"gpt-4o": 10}}""", "model_max_budget.gpt-4o" },
        { """{"model_max_budget": {"gpt-4o": null}}""", "model_max_budget.gpt-4o" },
        { """{"model_max_budget": {" ": {"budget_limit": 1}}}""", "model_max_budget" },
        { """{"model_max_budget": [1]}""", "model_max_budget" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task AnInvalidModelBudget_Is400NamingTheField_AndNothingIsStored(string body, string param)
    {
        var before = (await Gateway.Client().GetFromJsonAsync<JsonObject>("/key/list?size=100"))!["total_count"]!.GetValue<int>();

        var response = await Gateway.Client().PostAsync("/key/generate", Json(body));

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal(param, json["error"]!["param"]!.GetValue<string>());
        Assert.Equal(before, (await Gateway.Client().GetFromJsonAsync<JsonObject>("/key/list?size=100"))!["total_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("/team/new")]
    [InlineData("/user/new")]
    public async Task ModelMaxBudget_OnTeamsAndUsers_IsStillRefused(string path)
    {
        var response = await Gateway.Client().PostAsync(path, Json("""{"model_max_budget": {"gpt-4o": {"budget_limit": 1}}}"""));

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("model_max_budget", json["error"]!["param"]!.GetValue<string>());
    }

    /// <summary>A team with its priced <c>my-team-model</c> (answering as <paramref name="scenario"/>) and a second priced model, <c>other-model</c>, on another stand-in.</summary>
    private async Task<(TeamSetup Setup, string OtherUpstream)> TeamWithTwoModelsAsync(string scenario = "ok")
    {
        var setup = await fixture.TeamWithModelAsync(scenario, extraParams: BudgetTests.Priced);
        (await Gateway.Client(setup.Key).PostAsJsonAsync("/model/new", new
        {
            model_name = "other-model",
            litellm_params = new
            {
                model = "openai/gpt-4o", api_key = "sk-provider-other-0001", api_base = Upstream.ApiBase("ok", out var other),
                input_cost_per_token = 0.001, output_cost_per_token = 0.002,
            },
            model_info = new { team_id = setup.TeamId },
        })).EnsureSuccessStatusCode();
        return (setup, other);
    }

    private async Task<JsonNode> InfoAsync(string key) =>
        (await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!;

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(50);
        }
    }
}
