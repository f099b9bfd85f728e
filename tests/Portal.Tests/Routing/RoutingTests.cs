using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Routing;

/// <summary>
/// Retries inside a team's model group, cooldowns, fallbacks to other models and the balancing strategies, with the
/// provider stand-in on real sockets: each test counts what every upstream received.
/// </summary>
[Trait("Category", "Database")]
public sealed class RoutingTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    /// <summary>Nothing listens on the discard port: the connection is refused.</summary>
    private const string Refusing = "http://127.0.0.1:9/v1";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task OneFailingAndOneLiveDeployment_EveryCallSucceeds_AndTheFailingOneCoolsDown()
    {
        var (team, key) = await TeamAsync();
        var failing = await DeployAsync(key, team, "ha-model", "error500");
        var live = await DeployAsync(key, team, "ha-model", "ok");

        for (var i = 0; i < 20; i++)
        {
            var response = await Call(key, "ha-model");
            await response.ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(live.ModelId, Header(response, "x-litellm-model-id"));
        }

        Assert.Equal(20, Upstream.ReceivedBy(live.UpstreamId).Count);
        // Three failures within a minute (allowed_fails) cool it down for 30 s: no fourth call reaches it. (Each call
        // picks it first with probability 1/2, so 20 calls make three failures all but certain.)
        var failures = Upstream.ReceivedBy(failing.UpstreamId).Count;
        Assert.InRange(failures, 1, 3);
        var health = await (await Gateway.Client(key).GetAsync("/health?model=ha-model")).ReadJsonAsync(HttpStatusCode.OK);
        var unhealthy = Assert.Single(health["unhealthy_endpoints"]!.AsArray())!;
        Assert.Equal(failing.ModelId, unhealthy["model_id"]!.GetValue<string>());
        Assert.Equal(failures == 3, unhealthy["cooling_down_until"] is not null);
        Assert.Equal(1, health["healthy_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task ARefusedConnection_IsRetriedOnTheOtherDeployment()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "refusing-first", apiBase: Refusing, order: 1);
        var live = await DeployAsync(key, team, "refusing-first", "ok", order: 2);

        var response = await Call(key, "refusing-first");

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("1", Header(response, "x-litellm-attempted-retries"));
        Assert.Single(Upstream.ReceivedBy(live.UpstreamId));
    }

    [Fact]
    public async Task A429ThenA200_IsRetried_AndEachAttemptIsLogged()
    {
        var (team, key) = await TeamAsync();
        var limited = await DeployAsync(key, team, "retried", "error429", order: 1);
        var live = await DeployAsync(key, team, "retried", "ok", order: 2);

        var response = await Call(key, "retried");

        var answer = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Sunny in Boston.", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("1", Header(response, "x-litellm-attempted-retries"));
        Assert.Equal("0", Header(response, "x-litellm-attempted-fallbacks"));
        Assert.Equal(live.ModelId, Header(response, "x-litellm-model-id"));
        Assert.Single(Upstream.ReceivedBy(limited.UpstreamId));
        Assert.Single(Upstream.ReceivedBy(live.UpstreamId));
        var logs = await Spend.Spend.LogsAsync(Gateway, team, expected: 2);
        Assert.Equal([(0, 429), (1, 200)], logs.Select(l => (l["attempt"]!.GetValue<int>(), l["status"]!.GetValue<int>())).Order().ToList());
        Assert.Single(logs.Select(l => l["request_id"]!.GetValue<string>()).Distinct());
    }

    [Fact]
    public async Task AnotherClientError_IsNeverRetried()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "bad-request", "error400", order: 1);
        var live = await DeployAsync(key, team, "bad-request", "ok", order: 2);

        var response = await Call(key, "bad-request");

        Assert.Contains("failed with 400", ProviderError(await response.ReadJsonAsync(HttpStatusCode.BadRequest)));
        Assert.Empty(Upstream.ReceivedBy(live.UpstreamId));
    }

    [Fact]
    public async Task AStreamThatFailsMidway_IsNotRetried_AndTheClientSeesTheBreak()
    {
        var (team, key) = await TeamAsync();
        var breaking = await DeployAsync(key, team, "breaking-stream", "reset", order: 1);
        var live = await DeployAsync(key, team, "breaking-stream", "ok", order: 2);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "breaking-stream", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await Gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[256];
        Assert.True(await stream.ReadAsync(first) > 0);
        Upstream.Release(breaking.UpstreamId);
        var rest = new StreamReader(stream);
        var broke = false;
        try
        {
            broke = !(await rest.ReadToEndAsync()).Contains("[DONE]");
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            broke = true;
        }

        Assert.True(broke, "the stream ended normally although the provider broke it off");
        Assert.Empty(Upstream.ReceivedBy(live.UpstreamId));
    }

    [Fact]
    public async Task WhenEveryDeploymentFails_TheTeamsFallbackAnswers_WithItsOwnProviderKey()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "primary", "error503", providerKey: "sk-provider-primary-key-0001");
        var backup = await DeployAsync(key, team, "backup", "ok", providerKey: "sk-provider-backup-key-0002");
        (await Gateway.Client().PostAsJsonAsync("/team/update", new
        {
            team_id = team,
            router_settings = new { fallbacks = new[] { new Dictionary<string, string[]> { ["primary"] = ["backup"] } } },
        })).EnsureSuccessStatusCode();

        var response = await Call(key, "primary");

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("1", Header(response, "x-litellm-attempted-fallbacks"));
        Assert.Equal(backup.ModelId, Header(response, "x-litellm-model-id"));
        var received = Assert.Single(Upstream.ReceivedBy(backup.UpstreamId));
        Assert.Equal("Bearer sk-provider-backup-key-0002", received.Header("authorization"));
        var info = await (await Gateway.Client(key).GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("backup", info["team_info"]!["router_settings"]!["fallbacks"]![0]!["primary"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task RequestFallbacks_AreTried_AndNeverReachTheProvider()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "asked-primary", "error500");
        var backup = await DeployAsync(key, team, "asked-backup", "ok");

        var response = await Gateway.Client(key).PostAsync("/v1/chat/completions", new StringContent(
            """{"model": "asked-primary", "fallbacks": ["asked-backup"], "num_retries": 1, "messages": [{"role": "user", "content": "hi"}]}""",
            System.Text.Encoding.UTF8, "application/json"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var body = Assert.Single(Upstream.ReceivedBy(backup.UpstreamId)).Body;
        Assert.Equal("""{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}""", body);
    }

    [Fact]
    public async Task AnotherTeamsModel_IsNeverAFallback()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "mine", "error500");
        var (otherTeam, otherKey) = await TeamAsync();
        var theirs = await DeployAsync(otherKey, otherTeam, "theirs", "ok");

        var asked = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "mine", fallbacks = new[] { "theirs" }, messages = new[] { new { role = "user", content = "hi" } },
        });
        var configured = await Gateway.Client().PostAsJsonAsync("/team/update", new
        {
            team_id = team,
            router_settings = new { fallbacks = new[] { new Dictionary<string, string[]> { ["mine"] = ["theirs"] } } },
        });

        Assert.Equal("Invalid model name passed in fallbacks=theirs. Call /v1/models to view available models for your key.",
            await asked.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("cannot call", await configured.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(theirs.UpstreamId));
    }

    [Fact]
    public async Task AContextWindowError_MovesToTheContextWindowFallback()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "small-context", "context");
        var large = await DeployAsync(key, team, "large-context", "ok");

        var withFallback = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "small-context", context_window_fallbacks = new[] { "large-context" }, messages = new[] { new { role = "user", content = "a long prompt" } },
        });
        var without = await Call(key, "small-context");

        await withFallback.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Single(Upstream.ReceivedBy(large.UpstreamId));
        Assert.Contains("maximum context length", ProviderError(await without.ReadJsonAsync(HttpStatusCode.BadRequest)));
    }

    [Fact]
    public async Task SimpleShuffle_HonoursWeights()
    {
        var (team, key) = await TeamAsync();
        var light = await DeployAsync(key, team, "weighted", "ok", weight: 1);
        var heavy = await DeployAsync(key, team, "weighted", "ok", weight: 3);

        using var client = Gateway.Client(key);
        await Task.WhenAll(Enumerable.Range(0, 400).Select(async _ => (await client.PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("weighted"))).EnsureSuccessStatusCode()));

        // Expected share 0.75; 400 calls give a standard deviation of about 0.022: these bounds are more than 3 of them.
        var share = Upstream.ReceivedBy(heavy.UpstreamId).Count / 400.0;
        Assert.InRange(share, 0.66, 0.84);
        Assert.Equal(400, Upstream.ReceivedBy(light.UpstreamId).Count + Upstream.ReceivedBy(heavy.UpstreamId).Count);
    }

    [Fact]
    public async Task LeastBusy_SendsEachCallToTheDeploymentWithFewestInFlight()
    {
        var (team, key) = await TeamAsync();
        var first = await DeployAsync(key, team, "busy", "gated");
        var second = await DeployAsync(key, team, "busy", "gated");
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, router_settings = new { routing_strategy = "least-busy" } })).EnsureSuccessStatusCode();
        using var client = Gateway.Client(key);

        var held = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            // One at a time, each held open by the provider: the next one sees who is busy.
            held.Add(await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "busy", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
            }, HttpCompletionOption.ResponseHeadersRead));
        }

        Assert.Equal(3, Upstream.ReceivedBy(first.UpstreamId).Count);
        Assert.Equal(3, Upstream.ReceivedBy(second.UpstreamId).Count);
        Upstream.Release(first.UpstreamId);
        Upstream.Release(second.UpstreamId);
        foreach (var response in held)
        {
            Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task LatencyBasedRouting_PrefersTheFasterDeployment()
    {
        var (team, key) = await TeamAsync();
        var slow = await DeployAsync(key, team, "latency", "lag");
        var fast = await DeployAsync(key, team, "latency", "ok");
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, router_settings = new { routing_strategy = "latency-based-routing" } })).EnsureSuccessStatusCode();

        for (var i = 0; i < 30; i++)
        {
            await Spend.Spend.CallAsync(Gateway, key, "latency");
        }

        // Each is tried once to be measured; after that the 60 ms one only by a tie it never wins.
        Assert.True(Upstream.ReceivedBy(fast.UpstreamId).Count >= 28, $"fast {Upstream.ReceivedBy(fast.UpstreamId).Count}, slow {Upstream.ReceivedBy(slow.UpstreamId).Count}");
    }

    [Fact]
    public async Task Order_IsStrictPriority_TheNextOnlyWhileTheFirstCoolsDown()
    {
        var (team, key) = await TeamAsync();
        var first = await DeployAsync(key, team, "ordered", "ok", order: 1);
        var second = await DeployAsync(key, team, "ordered", "ok", order: 2);
        for (var i = 0; i < 10; i++)
        {
            await Spend.Spend.CallAsync(Gateway, key, "ordered");
        }
        Assert.Equal(10, Upstream.ReceivedBy(first.UpstreamId).Count);
        Assert.Empty(Upstream.ReceivedBy(second.UpstreamId));

        // A deployment whose key the provider refuses cools down at once: the order-2 one takes over.
        var refusing = await DeployAsync(key, team, "ordered-refusing", "error401", order: 1);
        var standby = await DeployAsync(key, team, "ordered-refusing", "ok", order: 2);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Call(key, "ordered-refusing")).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            await Spend.Spend.CallAsync(Gateway, key, "ordered-refusing");
        }
        Assert.Single(Upstream.ReceivedBy(refusing.UpstreamId));
        Assert.Equal(5, Upstream.ReceivedBy(standby.UpstreamId).Count);
    }

    [Fact]
    public async Task AttemptsAreBoundedPerCall_NoRetryStorm()
    {
        var (team, key) = await TeamAsync();
        var group = new List<Deployed>();
        for (var i = 0; i < 3; i++)
        {
            group.Add(await DeployAsync(key, team, "storm", "error500"));
        }
        var backups = new List<Deployed>();
        for (var i = 0; i < 2; i++)
        {
            backups.Add(await DeployAsync(key, team, "storm-backup", "error500"));
        }

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "storm", num_retries = 10, fallbacks = new[] { "storm-backup" }, messages = new[] { new { role = "user", content = "hi" } },
        });

        // Each deployment is tried at most once per call: 3 of the group, then 2 of the fallback.
        Assert.Contains("failed with 500", ProviderError(await response.ReadJsonAsync(HttpStatusCode.InternalServerError)));
        Assert.All(group.Concat(backups), d => Assert.Single(Upstream.ReceivedBy(d.UpstreamId)));
        Assert.Equal("3", Header(response, "x-litellm-attempted-retries"));
        Assert.Equal("1", Header(response, "x-litellm-attempted-fallbacks"));
    }

    [Fact]
    public async Task Health_ChecksOnlyTheCallersModels()
    {
        var (team, key) = await TeamAsync();
        await DeployAsync(key, team, "checked", "ok");
        var (otherTeam, otherKey) = await TeamAsync();
        var theirs = await DeployAsync(otherKey, otherTeam, "their-checked", "ok");

        var mine = await (await Gateway.Client(key).GetAsync("/health")).ReadJsonAsync(HttpStatusCode.OK);
        var other = await Gateway.Client(key).GetAsync("/health?model=their-checked");

        Assert.Equal("checked", Assert.Single(mine["healthy_endpoints"]!.AsArray())!["model"]!.GetValue<string>());
        Assert.DoesNotContain("sk-provider", mine.ToJsonString());
        await other.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Empty(Upstream.ReceivedBy(theirs.UpstreamId));
    }

    private async Task<(string Team, string Key)> TeamAsync()
    {
        var team = await Gateway.CreateTeamAsync();
        return (team, await Gateway.GenerateKeyAsync(team));
    }

    private async Task<Deployed> DeployAsync(string key, string team, string name, string scenario = "ok", string? apiBase = null,
        int? order = null, double? weight = null, string providerKey = "sk-provider-routing-key-0001")
    {
        var upstreamId = "";
        var litellmParams = new JsonObject
        {
            ["model"] = "openai/gpt-4o",
            ["api_key"] = providerKey,
            ["api_base"] = apiBase ?? Upstream.ApiBase(scenario, out upstreamId),
        };
        if (order is { } o) litellmParams["order"] = o;
        if (weight is { } w) litellmParams["weight"] = w;
        var model = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name, ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return new Deployed(model["model_id"]!.GetValue<string>(), upstreamId);
    }

    private Task<HttpResponseMessage> Call(string key, string model) =>
        Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat(model));

    /// <summary>The provider's own error message: its answer reaches the client as the provider sent it.</summary>
    private static string ProviderError(JsonObject answer) => answer["error"]!["message"]!.GetValue<string>();

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;

    private sealed record Deployed(string ModelId, string UpstreamId);
}
