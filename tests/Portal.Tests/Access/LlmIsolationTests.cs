using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Access;

/// <summary>Nobody but the team reaches a team's model, and a refused call never reaches any provider.</summary>
public sealed class LlmIsolationTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    [Fact]
    public async Task OtherTeamsKey_KeyWithoutTheModel_AndNoTeamKey_AllGetTheSame400_AndNoUpstreamRequest()
    {
        var setup = await fixture.TeamWithModelAsync(name: "isolated-model");
        var otherTeamKey = await Gateway.GenerateKeyAsync(await Gateway.CreateTeamAsync());
        var narrowKey = await Gateway.GenerateKeyAsync(await Gateway.CreateTeamAsync(), new { models = new[] { "something-else" } });
        var noTeamKey = await Gateway.GenerateKeyAsync(teamId: null);
        var missing = await Gateway.Client(otherTeamKey).PostAsJsonAsync("/v1/chat/completions", Chat("no-such-model-anywhere"));
        var expected = (await missing.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error")).Replace("no-such-model-anywhere", "isolated-model");

        foreach (var key in new[] { otherTeamKey, narrowKey, noTeamKey })
        {
            var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("isolated-model"));
            Assert.Equal(expected, await response.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        }
        // Nor by its internal name.
        var internalName = (await Gateway.Client().GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/team/info?team_id={setup.TeamId}"))!
            ["team_info"]!["litellm_model_table"]!["model_aliases"]!["isolated-model"]!.GetValue<string>();
        await (await Gateway.Client(otherTeamKey).PostAsJsonAsync("/v1/chat/completions", Chat(internalName))).ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Equal("Invalid model name passed in model=isolated-model. Call /v1/models to view available models for your key.", expected);
        Assert.Empty(fixture.Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task OneConnection_TwoTeamsKeysInTurn_EachCallIsItsOwnKeys_AndADeletedKeyStopsAtOnce()
    {
        // Keys are hashed once per header string and Kestrel reuses a connection's repeated header strings: what is
        // reused must never be another call's key, nor a key that has since been deleted.
        var a = await fixture.TeamWithModelAsync(name: "turn-model");
        var b = await fixture.TeamWithModelAsync(name: "turn-model");
        using var connection = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = Gateway.BaseAddress };

        async Task<HttpResponseMessage> CallAsync(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat("turn-model")) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            return await connection.SendAsync(request);
        }

        foreach (var setup in new[] { a, a, b, b, a, b })
        {
            var response = await CallAsync(setup.Key);
            await response.ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(setup.ModelId, response.Headers.GetValues("x-litellm-model-id").Single());
        }
        (await Gateway.Client().PostAsJsonAsync("/key/delete", new { keys = new[] { a.Key } })).EnsureSuccessStatusCode();

        await (await CallAsync(a.Key)).ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error");
        await (await CallAsync(b.Key)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeyModelsList_RestrictsEvenTheTeamsOwnModels_OnlyThroughGlobalResolution()
    {
        // The team may use every global model; the key's models list names one of two. The team's own model is reached
        // through its alias table, which the key's list does not filter.
        var setup = await fixture.TeamWithModelAsync(name: "team-visible");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (allowed, refused) = ($"global-allowed-{suffix}", $"global-refused-{suffix}");
        foreach (var name in new[] { allowed, refused })
        {
            (await Gateway.Client().PostAsJsonAsync("/model/new", new
            {
                model_name = name,
                litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-global-0001", api_base = fixture.Upstream.ApiBase("ok", out _) },
            })).EnsureSuccessStatusCode();
        }
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, models = new[] { "team-visible", "all-proxy-models" } })).EnsureSuccessStatusCode();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { models = new[] { allowed } });

        var listed = (await (await Gateway.Client(key).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK))["data"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal);

        Assert.Equal([allowed, "team-visible"], listed);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("team-visible"))).ReadJsonAsync(HttpStatusCode.OK);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat(allowed))).ReadJsonAsync(HttpStatusCode.OK);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat(refused))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
    }

    [Fact]
    public async Task ManagementKey_CannotCallModels()
    {
        var setup = await fixture.TeamWithModelAsync();
        var managementKey = await Gateway.GenerateKeyAsync(setup.TeamId, new { key_type = "management" });

        var response = await Gateway.Client(managementKey).PostAsJsonAsync("/v1/chat/completions", Chat("my-team-model"));

        await response.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        Assert.Empty(fixture.Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task BadBodies_Get400_WithoutReachingTheProvider()
    {
        var setup = await fixture.TeamWithModelAsync();
        var client = Gateway.Client(setup.Key);

        foreach (var body in new[] { "{not json", "[1]", "{\"model\": 5}", "{\"messages\": []}", "" })
        {
            var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            await response.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        }
        Assert.Empty(fixture.Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task Changes_TakeEffectOnTheVeryNextRequest()
    {
        var setup = await fixture.TeamWithModelAsync(name: "live-model");
        var client = Gateway.Client(setup.Key);
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("live-model"))).ReadJsonAsync(HttpStatusCode.OK);

        // A deleted model is refused at once...
        (await client.PostAsJsonAsync("/model/delete", new { id = setup.ModelId })).EnsureSuccessStatusCode();
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("live-model"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        // ...a new one is callable at once...
        var apiBase = fixture.Upstream.ApiBase("ok", out _);
        (await client.PostAsJsonAsync("/model/new", new { model_name = "live-model-2", litellm_params = new { model = "openai/gpt-4o", api_base = apiBase, api_key = "sk-provider-live-2-abcd" }, model_info = new { team_id = setup.TeamId } }))
            .EnsureSuccessStatusCode();
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("live-model-2"))).ReadJsonAsync(HttpStatusCode.OK);

        // ...and a blocked key is refused at once.
        (await Gateway.Client().PostAsJsonAsync("/key/update", new { key = setup.Key, blocked = true })).EnsureSuccessStatusCode();
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("live-model-2"))).ReadErrorAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task HotPath_RunsNoDatabaseCommand()
    {
        var setup = await fixture.TeamWithModelAsync(name: "hot-model");
        var client = Gateway.Client(setup.Key);
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("hot-model"))).ReadJsonAsync(HttpStatusCode.OK);
        var before = Gateway.DatabaseCommandPaths.Count();

        var calls = Enumerable.Range(0, 50).Select(async i =>
        {
            var response = await client.PostAsJsonAsync(i % 2 == 0 ? "/v1/chat/completions" : "/chat/completions", Chat(i % 5 == 0 ? "not-a-model" : "hot-model"));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest);
        });
        await Task.WhenAll(calls);
        var models = await client.GetStringAsync("/v1/models");

        Assert.Contains("hot-model", models);
        // The interceptor does see commands made while serving requests: the management call above made some.
        Assert.Contains(Gateway.DatabaseCommandPaths, p => p == "/model/new");
        Assert.DoesNotContain(Gateway.DatabaseCommandPaths.Skip(before), p => p.Contains("completions") || p == "/v1/models");
    }
}
