using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;
using Proxy.Core.Keys;
using Proxy.Core.Spend;

namespace Portal.Tests.Spend;

/// <summary>A gateway on a fake clock: rate windows and budget periods move only when a test moves the clock.</summary>
public sealed class ClockedLlmFixture : LlmFixture
{
    public ClockedLlmFixture()
        : this(new FakeTimeProvider(DateTimeOffset.UtcNow))
    {
    }

    private ClockedLlmFixture(FakeTimeProvider clock)
        : base(new GatewayFactory { Clock = clock }) => Clock = clock;

    public FakeTimeProvider Clock { get; }
}

/// <summary>rpm, tpm and max_parallel_requests on keys, teams and deployments: refused with 429 before the provider is called.</summary>
[Trait("Category", "Database")]
public sealed class RateLimitTests(ClockedLlmFixture fixture) : IClassFixture<ClockedLlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task RpmLimit_RefusesTheThirdCallOfAMinute_With429RetryAfterAndOpenAIHeaders_UntilTheNextMinute()
    {
        var setup = await fixture.TeamWithModelAsync();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { rpm_limit = 2 });
        using var client = Gateway.Client(key);

        var first = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var second = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var third = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2", Header(first, "x-ratelimit-limit-requests"));
        Assert.Equal("1", Header(first, "x-ratelimit-remaining-requests"));
        Assert.Equal("0", Header(second, "x-ratelimit-remaining-requests"));
        var message = await third.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("rpm_limit=2", message);
        Assert.Contains($"key sk-...{key[^4..]}", message);
        Assert.InRange(int.Parse(Header(third, "Retry-After")!), 1, 60);
        Assert.Equal("0", Header(third, "x-ratelimit-remaining-requests"));
        Assert.Equal(2, Upstream.ReceivedBy(setup.UpstreamId).Count);

        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        var nextMinute = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        Assert.Equal(HttpStatusCode.OK, nextMinute.StatusCode);
        Assert.Equal("1", Header(nextMinute, "x-ratelimit-remaining-requests"));
    }

    [Fact]
    public async Task TpmLimit_AdmitsCallsWhileTokensAreLeft_ThenRefusesWith429()
    {
        var setup = await fixture.TeamWithModelAsync();
        // Each stand-in answer uses 18 tokens: the first leaves 2, the second is admitted and uses them up.
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { tpm_limit = 20 });
        using var client = Gateway.Client(key);

        var first = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var second = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        var third = await client.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("20", Header(first, "x-ratelimit-limit-tokens"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("2", Header(second, "x-ratelimit-remaining-tokens"));
        Assert.Contains("tpm_limit=20", await third.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.NotNull(Header(third, "Retry-After"));
        Assert.Equal(2, Upstream.ReceivedBy(setup.UpstreamId).Count);
    }

    [Fact]
    public async Task TeamRpmLimit_IsSharedByTheTeamsKeys()
    {
        var setup = await fixture.TeamWithModelAsync();
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, rpm_limit = 3 })).EnsureSuccessStatusCode();
        var second = await Gateway.GenerateKeyAsync(setup.TeamId);

        await Spend.CallAsync(Gateway, setup.Key);
        await Spend.CallAsync(Gateway, setup.Key);
        await Spend.CallAsync(Gateway, second);
        var refused = await Gateway.Client(second).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Contains($"team {setup.TeamId}", await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);
    }

    [Fact]
    public async Task ConcurrentCalls_CannotOvershootMaxParallelRequests()
    {
        var setup = await fixture.TeamWithModelAsync("gated");
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_parallel_requests = 3 });
        using var client = Gateway.Client(key);

        // Twenty at once; the admitted ones stay in flight (the provider holds the stream open) until released.
        var calls = Enumerable.Range(0, 20).Select(_ => client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "my-team-model", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        }, HttpCompletionOption.ResponseHeadersRead)).ToList();
        var answers = await Task.WhenAll(calls);

        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(17, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Contains("max_parallel_requests=3", await answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests).ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.Equal(3, Upstream.ReceivedBy(setup.UpstreamId).Count);

        Upstream.Release(setup.UpstreamId);
        foreach (var answer in answers.Where(a => a.StatusCode == HttpStatusCode.OK))
        {
            Assert.Contains("[DONE]", await answer.Content.ReadAsStringAsync());
        }
        // Their places are free again.
        var after = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task RateLimitHeaders_ComeOnEveryAnswer_EvenARefusedOne()
    {
        var setup = await fixture.TeamWithModelAsync();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { rpm_limit = 100, tpm_limit = 1000 });

        var badModel = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("no-such-model"));

        await badModel.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Equal("99", Header(badModel, "x-ratelimit-remaining-requests"));
        Assert.Equal("1000", Header(badModel, "x-ratelimit-remaining-tokens"));
        Assert.EndsWith("s", Header(badModel, "x-ratelimit-reset-requests"));

        var broke = await Gateway.GenerateKeyAsync(setup.TeamId, new { rpm_limit = 100, max_budget = 0 });
        var overBudget = await Gateway.Client(broke).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
        await overBudget.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Equal("100", Header(overBudget, "x-ratelimit-remaining-requests"));
    }

    [Fact]
    public async Task DeploymentRpm_SpreadsAGroupByCapacity_And429sWhenEveryDeploymentIsFull()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var upstreams = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
            {
                model_name = "balanced",
                litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-rpm-test-0001", api_base = Upstream.ApiBase("ok", out var id), rpm = 2 },
                model_info = new { team_id = team },
            })).EnsureSuccessStatusCode();
            upstreams.Add(id);
        }

        for (var i = 0; i < 4; i++)
        {
            await Spend.CallAsync(Gateway, key, "balanced");
        }
        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("balanced"));

        Assert.All(upstreams, id => Assert.Equal(2, Upstream.ReceivedBy(id).Count));
        Assert.Contains("Every deployment of model balanced", await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.NotNull(Header(refused, "Retry-After"));
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabase_ShareAKeysRpmLimit()
    {
        var setup = await fixture.TeamWithModelAsync();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { rpm_limit = 10 });
        await using var second = new GatewayFactory { Clock = fixture.Clock, Settings = { ["ConnectionStrings:Portal"] = Gateway.ConnectionString } };
        using var other = second.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).StatusCode);

        for (var i = 0; i < 5; i++)
        {
            await Spend.CallAsync(Gateway, key);
        }
        // Once the second instance has read the first one's window (within a sync round or two), it has 4 left of 10.
        var account = second.Services.GetRequiredService<SpendLedger>().Find(AccountKind.Key, KeyMaterial.Hash(key))!;
        var minute = second.Services.GetRequiredService<SpendLedger>().Minute;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (account.RemainingRequests(minute) > 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add((await other.PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).StatusCode);
        }

        Assert.Equal(4, answers.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(10, Upstream.ReceivedBy(setup.UpstreamId).Count);
    }

    [Fact]
    public async Task KeyBudget_ResetsAfterItsBudgetDuration()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: BudgetTests.Priced);
        // Two calls (the second reserves 0.025 + 0.137), not three.
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { max_budget = 0.17, budget_duration = "1h" });
        var resetAt = (await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!["budget_reset_at"]!.GetValue<DateTime>();
        Assert.InRange(resetAt, fixture.Clock.GetUtcNow().UtcDateTime.AddMinutes(59), fixture.Clock.GetUtcNow().UtcDateTime.AddMinutes(61));
        await Spend.CallAsync(Gateway, key);
        await Spend.CallAsync(Gateway, key);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"))).ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        await Spend.KeySpendAsync(Gateway, key, 2 * BudgetTests.CallCost);

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
        var info = (await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!;
        Assert.True(info["budget_reset_at"]!.GetValue<DateTime>() > resetAt.AddMinutes(59));
        Assert.Equal(BudgetTests.CallCost, await Spend.KeySpendAsync(Gateway, key, BudgetTests.CallCost), 9);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;
}
