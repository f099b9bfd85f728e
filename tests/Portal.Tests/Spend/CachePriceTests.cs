using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// Anthropic's prompt caching priced as LiteLLM prices it: the cache tokens of a call's usage (written, read) cost
/// <c>cache_creation_input_token_cost</c> and <c>cache_read_input_token_cost</c>, the other input tokens the input
/// price. The stand-in's <c>claudecache</c> usage: 21 input tokens, 100 written to the cache, 1000 read from it.
/// </summary>
[Trait("Category", "Database")]
public sealed class CachePriceTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const int Input = 21;
    private const int Write = AnthropicStandIn.CacheWriteTokens;
    private const int Read = AnthropicStandIn.CacheReadTokens;

    private GatewayFactory Gateway => fixture.Gateway;

    /// <summary>Prices unlike any in the table, so a spend that matches them came from model_info.</summary>
    private static JsonObject OwnPrices(string team) => new()
    {
        ["team_id"] = team, ["input_cost_per_token"] = 1e-06, ["output_cost_per_token"] = 2e-06,
        ["cache_creation_input_token_cost"] = 4e-06, ["cache_read_input_token_cost"] = 5e-07,
    };

    [Theory]
    [InlineData(false, 9)]
    [InlineData(true, 12)]
    public async Task Messages_CacheTokens_AreChargedAtTheModelInfoCachePrices(bool stream, int completion)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        await ClaudeAsync(team, key, OwnPrices(team));

        await MessagesAsync(key, stream);

        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(Input + Write + Read, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(completion, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(Input * 1e-06 + Write * 4e-06 + Read * 5e-07 + completion * 2e-06, log["spend"]!.GetValue<double>(), 12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_WithoutAPriceOfItsOwn_AreChargedAtThePriceTablesClaudePrices(bool stream)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        await ClaudeAsync(team, key, new JsonObject { ["team_id"] = team });

        await MessagesAsync(key, stream);

        // LiteLLM's claude-sonnet-4-5: 3e-06 in, 1.5e-05 out, 3.75e-06 a cache write, 3e-07 a cache read.
        var completion = stream ? 12 : 9;
        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(Input * 3e-06 + Write * 3.75e-06 + Read * 3e-07 + completion * 1.5e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task Messages_WithoutCachePrices_PriceTheCacheTokensAsInputTokens()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        await ClaudeAsync(team, key, new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 1e-06, ["output_cost_per_token"] = 2e-06 });

        await MessagesAsync(key, stream: false);

        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal((Input + Write + Read) * 1e-06 + 9 * 2e-06, log["spend"]!.GetValue<double>(), 12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChatCompletions_TranslatedToClaude_AreChargedAtTheCachePrices(bool stream)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        await ClaudeAsync(team, key, OwnPrices(team));

        var body = new JsonObject
        {
            ["model"] = "claude", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Weather in Boston?" }), ["stream"] = stream,
        };
        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();

        var completion = stream ? 12 : 9;
        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(Input + Write + Read, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(Input * 1e-06 + Write * 4e-06 + Read * 5e-07 + completion * 2e-06, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task ModelUpdate_TakesCachePrices_AndTheNextCallIsChargedAtThem()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var id = await ClaudeAsync(team, key, new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 1e-06, ["output_cost_per_token"] = 2e-06 });
        var prices = OwnPrices(team);
        prices["id"] = id;

        var updated = await Gateway.Client(key).PostAsJsonAsync("/model/update", new JsonObject { ["model_info"] = prices });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        await MessagesAsync(key, stream: false);

        var log = Assert.Single(await Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(Input * 1e-06 + Write * 4e-06 + Read * 5e-07 + 9 * 2e-06, log["spend"]!.GetValue<double>(), 12);
    }

    [Theory]
    [InlineData("model_info", "cache_read_input_token_cost", "\"cheap\"")]
    [InlineData("model_info", "cache_creation_input_token_cost", "-1e-06")]
    [InlineData("litellm_params", "cache_read_input_token_cost", "-0.1")]
    public async Task ABadCachePrice_Is400NamingTheField(string section, string field, string value)
    {
        var team = await Gateway.CreateTeamAsync();
        var body = new JsonObject
        {
            ["model_name"] = "c",
            ["litellm_params"] = new JsonObject { ["model"] = "anthropic/claude-sonnet-4-5", ["api_key"] = "sk-ant-x-0001" },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        };
        body[section]![Proxy.Core.Spend.Price.InputField] = 1e-06;
        body[section]![field] = JsonNode.Parse(value);

        var response = await Gateway.Client().PostAsJsonAsync("/model/new", body);

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal($"{section}.{field}", json["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACachePriceWithoutAnInputOrOutputPrice_Is400NamingIt()
    {
        var team = await Gateway.CreateTeamAsync();
        var body = new JsonObject
        {
            ["model_name"] = "c",
            ["litellm_params"] = new JsonObject { ["model"] = "anthropic/claude-sonnet-4-5", ["api_key"] = "sk-ant-x-0001" },
            ["model_info"] = new JsonObject { ["team_id"] = team, ["cache_read_input_token_cost"] = 3e-07 },
        };

        var response = await Gateway.Client().PostAsJsonAsync("/model/new", body);

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("model_info.cache_read_input_token_cost", json["error"]!["param"]!.GetValue<string>());
    }

    private async Task MessagesAsync(string key, bool stream)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["model"] = "claude", ["max_tokens"] = 256, ["stream"] = stream,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Weather in Boston?" }),
            }),
        };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await Gateway.Client(null).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
    }

    /// <summary>The team's Claude (claude-sonnet-4-5 on the stand-in's <c>claudecache</c> scenario) as <c>claude</c>; its model id.</summary>
    private async Task<string> ClaudeAsync(string team, string key, JsonObject modelInfo)
    {
        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "claude",
            ["litellm_params"] = new JsonObject
            {
                ["model"] = "anthropic/claude-sonnet-4-5", ["api_key"] = "sk-ant-cache-provider-key-0001",
                ["api_base"] = fixture.Upstream.ApiBase("claudecache", out _),
            },
            ["model_info"] = modelInfo,
        });
        return (await response.ReadJsonAsync(HttpStatusCode.OK))["model_id"]!.GetValue<string>();
    }
}
