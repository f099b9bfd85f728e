using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// Wildcard deployments (<c>openai/*</c>, <c>*</c>), as LiteLLM's proxy_server_config and its tests use them: one
/// provider key, any of the provider's models by <c>provider/model</c>, through the same pipeline as an exact model.
/// </summary>
[Trait("Category", "Database")]
public sealed class WildcardTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    private static async Task<JsonObject> AddModelAsync(GatewayFactory gateway, string by, string name, string model, string apiBase, string? teamId, string apiKey = "sk-provider-wildcard-secret-1234")
    {
        var response = await gateway.Client(by).PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = new { model, api_key = apiKey, api_base = apiBase },
            model_info = teamId is null ? new JsonObject() : new JsonObject { ["team_id"] = teamId },
        });
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>A team with an <c>openai/*</c> deployment against the stand-in, and its key.</summary>
    private async Task<(string Team, string Key, string UpstreamId)> TeamWildcardAsync()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        await AddModelAsync(Gateway, key, "openai/*", "openai/*", Upstream.ApiBase("ok", out var id), team, "sk-provider-team-wildcard-9876");
        return (team, key, id);
    }

    [Fact]
    public async Task TeamWildcard_ProviderSlashModel_ReachesTheProviderWithTheBareModelAndTheTeamsKey_AndIsRecordedAndPriced()
    {
        var (team, key, id) = await TeamWildcardAsync();

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("openai/gpt-4o-mini"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var received = Assert.Single(Upstream.ReceivedBy(id));
        Assert.Equal("gpt-4o-mini", received.Json["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-provider-team-wildcard-9876", received.Header("authorization"));
        var row = (await Spend.Spend.LogsAsync(Gateway, team, 1)).Single();
        Assert.Equal("openai/gpt-4o-mini", row["model"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini", row["deployment"]!.GetValue<string>());
        // The price table's gpt-4o-mini: 11 prompt tokens at 1.5e-7 and 7 completion tokens at 6e-7.
        Assert.Equal(11 * 1.5e-7 + 7 * 6e-7, row["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task AnotherTeamsKey_NeverReachesTheWildcard_InvalidModel()
    {
        var (_, _, id) = await TeamWildcardAsync();
        var stranger = await Gateway.GenerateKeyAsync(await Gateway.CreateTeamAsync());

        var message = await (await Gateway.Client(stranger).PostAsJsonAsync("/v1/chat/completions", Chat("openai/gpt-4o-mini"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Contains("Invalid model name", message);
        Assert.Empty(Upstream.ReceivedBy(id));
    }

    [Fact]
    public async Task ThePatternItself_IsNoModelToCall()
    {
        var (_, key, id) = await TeamWildcardAsync();

        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("openai/*"))).ReadErrorAsync(HttpStatusCode.BadRequest);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("openai/"))).ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Empty(Upstream.ReceivedBy(id));
    }

    [Fact]
    public async Task V1Models_ListsThePattern_AndThePriceTablesModelsOfItsProvider()
    {
        var (_, key, _) = await TeamWildcardAsync();

        var ids = (await Gateway.Client(key).GetFromJsonAsync<JsonObject>("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();

        Assert.Contains("openai/*", ids);
        Assert.Contains("openai/gpt-4o-mini", ids);
        Assert.Contains("openai/gpt-4o", ids);
        Assert.DoesNotContain(ids, i => i.StartsWith("openai/azure/", StringComparison.Ordinal) || i == "*");
    }

    [Fact]
    public async Task ModelNameWithAStarInside_IsRefused()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "gpt-*-mini",
            litellm_params = new { model = "openai/*", api_key = "sk-x", api_base = Upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team },
        });

        Assert.Contains("model_name", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    /// <summary>Global wildcards reach every team, so these run on a gateway of their own.</summary>
    [Fact]
    public async Task TestOpenAIWildcardChatCompletion_GlobalStar_KeyModelsStar_SendsTheNameAsIs()
    {
        await using var gateway = new GatewayFactory();
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "*", "openai/*", Upstream.ApiBase("ok", out var id), null);
        var key = await gateway.GenerateKeyAsync(null, new { models = new[] { "*" } });

        await (await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("gpt-3.5-turbo-0125"))).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("openai/gpt-4o"))).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["gpt-3.5-turbo-0125", "gpt-4o"], Upstream.ReceivedBy(id).Select(r => r.Json["model"]!.GetValue<string>()));
        var ids = (await gateway.Client(key).GetFromJsonAsync<JsonObject>("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["*"], ids);
    }

    [Fact]
    public async Task TestUserModelAccess_AWildcardInTheKeysModels_AllowsItsProvidersModelsOnly()
    {
        await using var gateway = new GatewayFactory();
        var apiBase = Upstream.ApiBase("ok", out var id);
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "good-model", "openai/gpt-4o", apiBase, null);
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "openai/*", "openai/*", apiBase, null);
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "groq/*", "groq/*", apiBase, null);
        var key = await gateway.GenerateKeyAsync(null, new { models = new[] { "good-model", "openai/*" } });
        var client = gateway.Client(key);

        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("openai/gpt-4o-mini"))).ReadJsonAsync(HttpStatusCode.OK);
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("good-model"))).ReadJsonAsync(HttpStatusCode.OK);
        await (await client.PostAsJsonAsync("/v1/chat/completions", Chat("groq/llama-3.1-8b-instant"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Equal(["gpt-4o-mini", "gpt-4o"], Upstream.ReceivedBy(id).Select(r => r.Json["model"]!.GetValue<string>()));
        var ids = (await client.GetFromJsonAsync<JsonObject>("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("openai/*", ids);
        Assert.Contains("good-model", ids);
        Assert.DoesNotContain("groq/*", ids);
    }

    [Fact]
    public async Task TestGetPersonalModelsForUser_ModelGroupInfo_ListsOnlyTheKeysModels()
    {
        await using var gateway = new GatewayFactory();
        var apiBase = Upstream.ApiBase("ok", out _);
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "gpt-3.5-turbo", "openai/gpt-3.5-turbo", apiBase, null);
        await AddModelAsync(gateway, GatewayFactory.MasterKey, "gpt-4", "openai/gpt-4", apiBase, null);
        var key = await gateway.GenerateKeyAsync(null, new { models = new[] { "gpt-3.5-turbo" } });

        var data = (await (await gateway.Client(key).GetAsync("/model_group/info")).ReadJsonAsync(HttpStatusCode.OK))["data"]!.AsArray();

        var group = Assert.Single(data)!;
        Assert.Equal("gpt-3.5-turbo", group["model_group"]!.GetValue<string>());
        Assert.Equal(["openai"], group["providers"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(5e-07, group["input_cost_per_token"]!.GetValue<double>());
        Assert.Equal("chat", group["mode"]!.GetValue<string>());
        Assert.False(group["supports_vision"]!.GetValue<bool>());
        var all = (await (await gateway.Client().GetAsync("/model_group/info")).ReadJsonAsync(HttpStatusCode.OK))["data"]!.AsArray();
        Assert.Equal(2, all.Count);
    }
}
