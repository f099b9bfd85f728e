using System.Net;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// LiteLLM's tests/test_keys.py, replayed against the gateway (see /work/research/litellm-fields.md section 10): the same
/// bodies, LiteLLM's documented answers. The master key stands in for LiteLLM's sk-1234.
/// </summary>
[Trait("Category", "Database")]
public sealed class KeyCompatibilityTests(TeamsKeysModelsFixture fixture) : IClassFixture<TeamsKeysModelsFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    [Fact]
    public async Task TestKeyGen_TenDefaultBodiesWithExplicitNullsInParallel_AllSucceed()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Gateway.Client().PostAsync("/key/generate", Replay.KeyGenerateDefault()).OkAsync()));

        Assert.Equal(10, answers.Select(a => a["key"]!.GetValue<string>()).Distinct().Count());
        Assert.All(answers, a =>
        {
            Assert.Equal(["azure-models", "gpt-4", "dall-e-3"], a["models"]!.AsArray().Select(m => m!.GetValue<string>()));
            Assert.Null(a["expires"]);
            Assert.Null(a["max_budget"]);
            Assert.Null(a["team_id"]);
        });
    }

    [Fact]
    public async Task TestSimpleKeyGen_AnswerHasTokenNotEqualToKey_TokenIdAndTimestamps()
    {
        var answer = await Gateway.Client().PostAsync("/key/generate", Replay.KeyGenerateDefault()).OkAsync();

        var token = answer["token"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(token));
        Assert.NotEqual(answer["key"]!.GetValue<string>(), token);
        Assert.False(string.IsNullOrEmpty(answer["token_id"]?.GetValue<string>()));
        Assert.NotNull(answer["created_at"]);
        Assert.NotNull(answer["updated_at"]);
    }

    [Theory]
    [InlineData("""{"test": "new"}""")]
    [InlineData("{}")]
    public async Task TestKeyUpdate_MetadataIsReplacedExactly_AndTheKeyStillCalls(string metadata)
    {
        var generated = await Gateway.Client().PostAsync("/key/generate", Replay.KeyGenerateDefault(metadata: """{"test": "test"}""")).OkAsync();
        var key = generated["key"]!.GetValue<string>();
        Assert.Equal("test", generated["metadata"]!["test"]!.GetValue<string>());

        var updated = await Gateway.Client().PostAsync("/key/update", $$"""{"key": "{{key}}", "metadata": {{metadata}}}""").OkAsync();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(metadata), updated["metadata"]), $"metadata is {updated["metadata"]?.ToJsonString()}, not {metadata}");
        var info = await Gateway.Client().GetAsync($"/key/info?key={key}").OkAsync();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(metadata), info["info"]!["metadata"]));
        // LiteLLM's test then resets its global proxy budget (/user/update {"user_id": "litellm-proxy-budget", "spend": 0}):
        // a user row LiteLLM keeps for its proxy-wide budget. The gateway has no proxy-wide budget, so that step is left out.
        await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat("gpt-4")).OkAsync();
    }

    [Fact]
    public async Task TestKeyDelete_DeleteByRawKey_Is200_AndTheKeyIsGone()
    {
        var key = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault());

        await Gateway.Client().PostAsync("/key/delete", $$"""{"keys": ["{{key}}"]}""").OkAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await Gateway.Client().GetAsync($"/key/info?key={key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat("gpt-4"))).StatusCode);
    }

    [Fact]
    public async Task TestKeyInfo_OwnKeyAndMasterSeeIt_RandomKeyIs404()
    {
        var key = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault());

        await Gateway.Client().GetAsync($"/key/info?key={key}").OkAsync();
        await Gateway.Client(key).GetAsync($"/key/info?key={key}").OkAsync();
        var own = await Gateway.Client(key).GetAsync("/key/info").OkAsync();
        Assert.Equal($"sk-...{key[^4..]}", own["info"]!["key_name"]!.GetValue<string>());

        var random = await Gateway.Client(key).GetAsync($"/key/info?key=sk-{Guid.NewGuid()}");
        await random.ReadErrorAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TestModelInfo_AdminSeesMoreModelsThanAKey_AndTheKeySeesSome()
    {
        var key = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault());

        var admin = (await Gateway.Client().GetAsync("/model/info").OkAsync())["data"]!.AsArray();
        var ofKey = (await Gateway.Client(key).GetAsync("/model/info").OkAsync())["data"]!.AsArray();

        Assert.True(admin.Count > ofKey.Count && ofKey.Count > 0, $"admin sees {admin.Count}, the key {ofKey.Count}");
        Assert.All(ofKey, m => Assert.Equal("gpt-4", m!["model_name"]!.GetValue<string>()));
    }

    /// <summary>
    /// test_keys.py::test_key_crossing_budget and test_key_info_spend_values_with_budget: a key with max_budget 1e-07.
    /// LiteLLM lets the first call through (its cost lands far over the budget) and refuses the second. Here a call
    /// reserves its worst case first, so the first call is refused already and the budget is never crossed
    /// (docs/compatibility.md, "Budgets"); the refusal is the same 400 "Budget has been exceeded!".
    /// </summary>
    [Fact]
    public async Task TestKeyCrossingBudget_TheFirstCallIsRefused_BeforeItCouldCrossTheBudget()
    {
        var key = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault(maxBudget: "1e-07"));

        var first = await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat("gpt-4"));

        var message = await first.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.Contains("Budget has been exceeded!", message);
        Assert.Contains("Current cost: 0, Reserved by calls in flight: 0, This call may cost up to:", message);
        var info = await Gateway.Client(key).GetAsync("/key/info").OkAsync();
        Assert.Equal(1e-07, info["info"]!["max_budget"]!.GetValue<double>());
        Assert.Equal(0, info["info"]!["spend"]!.GetValue<double>());
    }

    [Fact]
    public async Task TestKeyRateLimit_MaxParallelRequestsZeroRefuses_OneCalls()
    {
        var none = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault(maxParallelRequests: "0"));
        var one = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault(maxParallelRequests: "1"));
        var before = fixture.Upstream.ReceivedBy(fixture.Gpt4UpstreamId).Count;

        var refused = await Gateway.Client(none).PostAsync("/chat/completions", Replay.Chat("gpt-4"));
        await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Equal(before, fixture.Upstream.ReceivedBy(fixture.Gpt4UpstreamId).Count);

        await Gateway.Client(one).PostAsync("/chat/completions", Replay.Chat("gpt-4")).OkAsync();
    }

    [Fact]
    public async Task TestKeyUserNotInDb_KeyForAnUnknownUserId_Calls()
    {
        var key = await Replay.KeyAsync(Gateway, Replay.KeyGenerateDefault(userId: $"\"{Guid.NewGuid()}\""));

        await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat("gpt-4")).OkAsync();
    }

    /// <summary>
    /// test_key_model_list with a model name: a team "litellm_dashboard_&lt;uuid&gt;" whose models are [model] ("team") or
    /// null ("key"), then a key of that team whose models are [] ("team") or [model] ("key").
    /// In LiteLLM the "key" team is refused (422: TeamBase.models may not be null) and the key points at a team that does
    /// not exist (no foreign key). Here /team/new takes the null as "not given" and creates the team with models [] (every
    /// global model); a key for a missing team would be a 400 "Team id=X does not exist.". The listed models agree.
    /// </summary>
    [Theory]
    [InlineData("key", "/v1/models")]
    [InlineData("key", "/model/info")]
    [InlineData("team", "/v1/models")]
    [InlineData("team", "/model/info")]
    public async Task TestKeyModelList_Gpt35TurboOnKeyOrTeam_ListsExactlyIt(string setOn, string route)
    {
        var key = await KeyModelListKeyAsync("gpt-3.5-turbo", setOn);

        var data = (await Gateway.Client(key).GetAsync(route).OkAsync())["data"]!.AsArray();

        var entry = Assert.Single(data);
        Assert.Equal("gpt-3.5-turbo", entry![route == "/v1/models" ? "id" : "model_name"]!.GetValue<string>());
    }

    /// <summary>test_key_model_list with LiteLLM's special value <c>all-team-models</c>: "every model the key's team may use".</summary>
    [Theory]
    [InlineData("key", "/v1/models")]
    [InlineData("key", "/model/info")]
    [InlineData("team", "/v1/models")]
    [InlineData("team", "/model/info")]
    public async Task TestKeyModelList_AllTeamModelsOnKeyOrTeam_ListsTheTeamsModels(string setOn, string route)
    {
        var key = await KeyModelListKeyAsync("all-team-models", setOn);

        var data = (await Gateway.Client(key).GetAsync(route).OkAsync())["data"]!.AsArray();

        Assert.NotEmpty(data);
        if (route == "/v1/models")
        {
            Assert.Equal(System.Text.Json.JsonValueKind.String, data[0]!["id"]!.GetValueKind());
        }
    }

    private async Task<string> KeyModelListKeyAsync(string model, string setOn)
    {
        var teamId = $"litellm_dashboard_{Guid.NewGuid()}";
        var teamModels = setOn == "team" ? $"[\"{model}\"]" : "null";
        await Gateway.Client().PostAsync("/team/new", $$"""{"team_id": "{{teamId}}", "models": {{teamModels}}}""").OkAsync();
        var keyModels = setOn == "key" ? $"[\"{model}\"]" : "[]";
        return await Replay.KeyAsync(Gateway, $$"""{"team_id": "{{teamId}}", "models": {{keyModels}}}""");
    }
}
