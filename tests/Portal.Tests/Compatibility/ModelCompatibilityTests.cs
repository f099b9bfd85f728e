using System.Net;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// LiteLLM's tests/test_models.py, replayed against the gateway (see /work/research/litellm-fields.md section 10): the same
/// bodies, LiteLLM's documented answers. The master key stands in for LiteLLM's sk-1234.
/// </summary>
[Trait("Category", "Database")]
public sealed class ModelCompatibilityTests(TeamsKeysModelsFixture fixture) : IClassFixture<TeamsKeysModelsFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    /// <summary>test_models.py's generate_key body.</summary>
    private static string KeyGenerate(string models) => $$"""{"models": {{models}}, "duration": null}""";

    /// <summary>
    /// test_models.py's add_models body. Adapted: <c>api_base</c> points at the stand-in (LiteLLM's goes to OpenAI), and the
    /// key is the key itself: an <c>os.environ/</c> reference is refused (docs/compatibility.md).
    /// </summary>
    private string AddModel(string modelId, string modelName, string? teamId, out string upstreamId, string apiKey = "sk-provider-literal-key-0001")
    {
        var apiBase = fixture.Upstream.ApiBase("ok", out upstreamId);
        var team = teamId is null ? "" : $", \"team_id\": \"{teamId}\"";
        return $$$"""
            {"model_name": "{{{modelName}}}", "litellm_params": {"model": "openai/gpt-4.1-nano", "api_key": "{{{apiKey}}}", "api_base": "{{{apiBase}}}"}, "model_info": {"id": "{{{modelId}}}"{{{team}}}}}
            """;
    }

    [Fact]
    public async Task TestGetModels_KeyLimitedToGpt4_ModelInfoListsOnlyGpt4()
    {
        var key = await Replay.KeyAsync(Gateway, KeyGenerate("""["gpt-4"]"""));

        var data = (await Gateway.Client(key).GetAsync("/model/info").OkAsync())["data"]!.AsArray();

        Assert.NotEmpty(data);
        Assert.All(data, m => Assert.Equal("gpt-4", m!["model_name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task TestGetSpecificModel_ByLitellmModelId_IsTheSameEntryAsInTheList()
    {
        var key = await Replay.KeyAsync(Gateway, KeyGenerate("""["gpt-4"]"""));
        var listed = Assert.Single((await Gateway.Client(key).GetAsync("/model/info").OkAsync())["data"]!.AsArray())!;
        var id = listed["model_info"]!["id"]!.GetValue<string>();

        var specific = (await Gateway.Client(key).GetAsync($"/model/info?litellm_model_id={id}").OkAsync())["data"]!.AsArray();

        Assert.Equal(id, specific[0]!["model_info"]!["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(listed, specific[0]), $"listed {listed.ToJsonString()}, by id {specific[0]!.ToJsonString()}");
    }

    /// <summary>LiteLLM's test names the provider key as <c>os.environ/OPENAI_API_KEY</c>: refused by name here, then sent as the key itself.</summary>
    [Fact]
    public async Task TestAddAndDeleteModels_CallerChosenId_CallableAtOnce_GoneAfterDelete()
    {
        var key = await Replay.KeyAsync(Gateway, KeyGenerate("[]"));
        var modelId = $"12345_{Guid.NewGuid()}";
        var modelName = Guid.NewGuid().ToString();

        var byReference = await Gateway.Client().PostAsync("/model/new", AddModel(modelId, modelName, null, out _, apiKey: "os.environ/OPENAI_API_KEY"));
        Assert.Contains("os.environ/ references are not supported", await byReference.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        var added = await Gateway.Client().PostAsync("/model/new", AddModel(modelId, modelName, null, out var upstreamId)).OkAsync();

        Assert.Equal(modelId, added["model_id"]!.GetValue<string>());
        // LiteLLM's test sleeps 10 s here; docs/api.md: "The model is callable immediately after the 200".
        await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat(modelName)).OkAsync();
        Assert.Equal("Bearer sk-provider-literal-key-0001", Assert.Single(fixture.Upstream.ReceivedBy(upstreamId)).Header("authorization"));
        await Gateway.Client().PostAsync("/model/delete", $$"""{"id": "{{modelId}}"}""").OkAsync();
        var after = await Gateway.Client(key).PostAsync("/chat/completions", Replay.Chat(modelName));
        await after.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Single(fixture.Upstream.ReceivedBy(upstreamId));
    }

    [Fact]
    public async Task TestTeamModelE2e_TeamAdminsPersonalKey_AddsUpdatesAndDeletesATeamModel()
    {
        var user = await Gateway.Client().PostAsync("/user/new", Replay.NewUser(null)).OkAsync();
        var userKey = user["key"]!.GetValue<string>();
        var teamId = (await Gateway.Client().PostAsync("/team/new",
            $$"""{"team_alias": "my-new-team", "members_with_roles": [{"role": "admin", "user_id": "{{user["user_id"]!.GetValue<string>()}}"}]}""").OkAsync())["team_id"]!.GetValue<string>();
        var modelId = $"12345_{Guid.NewGuid()}";
        var body = AddModel(modelId, Guid.NewGuid().ToString(), teamId, out _);

        var added = await Gateway.Client(userKey).PostAsync("/model/new", body).OkAsync();
        var updated = await Gateway.Client(userKey).PostAsync("/model/update", body).OkAsync();
        await Gateway.Client(userKey).PostAsync("/model/delete", $$"""{"id": "{{modelId}}"}""").OkAsync();

        Assert.Equal(modelId, added["model_id"]!.GetValue<string>());
        Assert.Equal(modelId, updated["model_id"]!.GetValue<string>());
        Assert.Equal(teamId, added["model_info"]!["team_id"]!.GetValue<string>());
    }
}
