using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// Budgets that hold when calls run in parallel (issue 26): each call reserves its worst case before it is forwarded,
/// so calls in flight together never pass a budget. The <c>gated</c> stand-in holds every admitted stream open until
/// the test releases it, so the calls surely overlap.
/// </summary>
[Trait("Category", "Database")]
public sealed class ReservationTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    /// <summary>A streamed call with max_tokens 7; the <c>gated</c> stand-in answers it 11 prompt and 3 completion tokens.</summary>
    private static readonly object Stream = new
    {
        model = "my-team-model", stream = true, max_tokens = 7, messages = new[] { new { role = "user", content = "What is the weather like in Boston today?" } },
    };

    private const double StreamCost = 11 * 0.001 + 3 * 0.002;

    /// <summary>What <see cref="Stream"/> reserves: its body's bytes as input tokens and its 7 output tokens, at <see cref="BudgetTests.Priced"/>.</summary>
    private static readonly double WorstCase = JsonSerializer.SerializeToUtf8Bytes(Stream, JsonSerializerOptions.Web).Length * 0.001 + 7 * 0.002;

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Theory]
    [InlineData("key")]
    [InlineData("team")]
    [InlineData("user")]
    public async Task FortyParallelCalls_AgainstABudgetWorthThree_AnswerThree_AndSpendStaysWithinIt(string budgetOn)
    {
        var setup = await fixture.TeamWithModelAsync("gated", extraParams: BudgetTests.Priced);
        var budget = 3.5 * WorstCase;
        string[] keys;
        switch (budgetOn)
        {
            case "key":
                keys = [await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = budget })];
                break;
            case "team":
                (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, max_budget = budget })).EnsureSuccessStatusCode();
                keys = [setup.Key, await Gateway.GenerateKeyAsync(setup.TeamId)];
                break;
            default:
                var user = await (await Gateway.Client().PostAsJsonAsync("/user/new", new { user_email = $"burst-{Guid.NewGuid():N}@example.com", max_budget = budget, auto_create_key = false }))
                    .ReadJsonAsync(HttpStatusCode.OK);
                var userId = user["user_id"]!.GetValue<string>();
                keys = [await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = userId }), await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = userId })];
                break;
        }

        var calls = Enumerable.Range(0, 40).Select(i => Gateway.Client(keys[i % keys.Length]).PostAsJsonAsync("/v1/chat/completions", Stream)).ToList();
        // The refused calls answer at once; the admitted ones wait at the gate until every other has been answered.
        await WaitUntilAsync(() => calls.Count(c => c.IsCompleted) == 37 && Upstream.ReceivedBy(setup.UpstreamId).Count == 3);
        Upstream.Release(setup.UpstreamId);
        var answers = await Task.WhenAll(calls);

        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
        {
            Assert.StartsWith("Budget has been exceeded!", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        }
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);
        var logs = await Spend.LogsAsync(Gateway, setup.TeamId, expected: 3);
        Assert.Equal(3, logs.Count);
        var spent = logs.Sum(l => l["spend"]!.GetValue<double>());
        Assert.Equal(3 * StreamCost, spent, 9);
        Assert.True(spent <= budget);
    }

    /// <summary>
    /// Two instances on one database each hold their own reservations: in a burst neither has seen the other's spend
    /// yet, so each admits what fits in the budget on its own, and the budget can be passed by what the other admitted
    /// (docs/budgets.md states this bound), never by more.
    /// </summary>
    [Fact]
    public async Task TwoInstances_EachAdmitWhatFitsOnItsOwn_TheStatedBound()
    {
        var setup = await fixture.TeamWithModelAsync("gated", extraParams: BudgetTests.Priced);
        var budget = 3.5 * WorstCase;
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = budget });
        await using var second = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = Gateway.ConnectionString } };
        using var one = Gateway.Client(key);
        using var other = second.Client(key);

        var calls = Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? one : other).PostAsJsonAsync("/v1/chat/completions", Stream)).ToList();
        await WaitUntilAsync(() => calls.Count(c => c.IsCompleted) == 34 && Upstream.ReceivedBy(setup.UpstreamId).Count == 6);
        Upstream.Release(setup.UpstreamId);
        var answers = await Task.WhenAll(calls);

        Assert.Equal(3, answers.Where((_, i) => i % 2 == 0).Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(3, answers.Where((_, i) => i % 2 == 1).Count(a => a.StatusCode == HttpStatusCode.OK));
        var spent = await Spend.KeySpendAsync(Gateway, key, 6 * StreamCost);
        Assert.Equal(6 * StreamCost, spent, 9);
        Assert.True(spent <= 2 * budget);
    }

    [Fact]
    public async Task AClientThatLeavesMidStream_GivesItsReservationBack()
    {
        var setup = await fixture.TeamWithModelAsync("gated", extraParams: BudgetTests.Priced);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 1.5 * WorstCase });
        using var leaving = new CancellationTokenSource();
        using var client = Gateway.Client(key);
        var first = client.PostAsJsonAsync("/v1/chat/completions", Stream, leaving.Token);
        await WaitUntilAsync(() => Upstream.ReceivedBy(setup.UpstreamId).Count == 1);

        var whileInFlight = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Stream);
        await whileInFlight.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        // Once the gateway has seen the client go, the reservation is back and the next call is admitted (and not held).
        Upstream.Release(setup.UpstreamId);
        HttpResponseMessage? next = null;
        await WaitUntilAsync(async () =>
        {
            next = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Stream);
            return next.StatusCode != HttpStatusCode.BadRequest;
        });
        Assert.Equal(HttpStatusCode.OK, next!.StatusCode);
    }

    /// <summary>
    /// A team's Claude model registered without a price is priced from the built-in table (claude-sonnet-4-5: 3e-06 in,
    /// 1.5e-05 out, 3.75e-06 a cache write), so the team's budget binds on it: it once cost $0 and bound nothing.
    /// </summary>
    [Fact]
    public async Task ATeamBudget_BindsATeamsClaudeModel_PricedFromTheTable()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "claude",
            litellm_params = new { model = "anthropic/claude-sonnet-4-5", api_key = "sk-ant-team-budget-0001", api_base = Upstream.ApiBase("claude", out var upstream) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();
        var body = new { model = "claude", max_tokens = 10, messages = new[] { new { role = "user", content = "Weather in Boston?" } } };
        var worstCase = JsonSerializer.SerializeToUtf8Bytes(body, JsonSerializerOptions.Web).Length * 3.75e-06 + 10 * 1.5e-05;
        const double CallCost = 21 * 3e-06 + 9 * 1.5e-05;
        // Room for one call's worst case, not for a second's after the first's cost.
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, max_budget = worstCase + CallCost / 2 })).EnsureSuccessStatusCode();

        (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", body)).EnsureSuccessStatusCode();
        await Spend.WaitForAsync(async () => (await (await Gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK))["team_info"]!["spend"]!.GetValue<double>(), CallCost);
        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", body);

        Assert.Contains($"Team={team}", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        Assert.Single(Upstream.ReceivedBy(upstream));
        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(CallCost, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task AnUnpricedModel_UnderABudget_IsRefusedNamingIt_AndWithoutABudgetAnswers()
    {
        var team = await Gateway.CreateTeamAsync();
        var budgeted = await Gateway.GenerateKeyAsync(team, new { max_budget = 10 });
        var free = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(free).PostAsJsonAsync("/model/new", new
        {
            model_name = "local-llama",
            litellm_params = new { model = "hosted_vllm/meta-llama/Llama-3-8B", api_base = Upstream.ApiBase("ok", out var upstream) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        var refused = await Gateway.Client(budgeted).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("local-llama"));
        var answered = await Gateway.Client(free).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("local-llama"));

        var message = await refused.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Model local-llama has no price", message);
        Assert.Contains("input_cost_per_token", message);
        Assert.Contains("Proxy:Budgets:UnpricedModels=allow", message);
        answered.EnsureSuccessStatusCode();
        Assert.Single(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task UnpricedModelsAllowed_PassUnderABudget_AtNoCost()
    {
        await using var allowing = new GatewayFactory { Settings = { ["Proxy:Budgets:UnpricedModels"] = "allow" } };
        var team = await allowing.CreateTeamAsync();
        var key = await allowing.GenerateKeyAsync(team, new { max_budget = 10 });
        (await allowing.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "local-llama",
            litellm_params = new { model = "hosted_vllm/meta-llama/Llama-3-8B", api_base = Upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        (await allowing.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("local-llama"))).EnsureSuccessStatusCode();

        var log = Assert.Single(await Spend.LogsAsync(allowing, team, expected: 1));
        Assert.Equal(0, log["spend"]!.GetValue<double>());
    }

    private static Task WaitUntilAsync(Func<bool> done) => WaitUntilAsync(() => Task.FromResult(done()));

    private static async Task WaitUntilAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(50);
        }
    }
}
