using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Providers;

/// <summary>
/// A team's Claude model on Vertex AI, called through the official OpenAI .NET SDK and as Claude Code calls: the
/// gateway gets an access token for the team's service account (the token stand-in verifies the signed assertion) and
/// calls <c>:rawPredict</c> / <c>:streamRawPredict</c> with it; the Vertex stand-in checks the token, the path and
/// the body Vertex wants (<c>anthropic_version</c>, no <c>model</c>).
/// </summary>
[Trait("Category", "Database")]
public sealed class VertexClaudeTests(VertexFixture fixture) : IClassFixture<VertexFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private VertexStandIn Vertex => fixture.Vertex;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_Chat_GoesToRawPredict_WithTheServiceAccountsToken_AndVertexsBody()
    {
        var setup = await fixture.TeamWithModelAsync();

        var completion = (await Sdk(setup.Key).GetChatClient("vmodel").CompleteChatAsync(
            [new SystemChatMessage("You are a weather assistant."), new UserChatMessage("What's the weather like in Boston today?")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Equal(21, completion.Usage.InputTokenCount);
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/v1/projects/{VertexFixture.Project}/locations/{VertexFixture.Location}/publishers/anthropic/models/{VertexFixture.Claude}:rawPredict", received.Path);
        Assert.StartsWith("Bearer ya29.standin-", received.Header("authorization"));
        Assert.Equal(setup.Email, fixture.Google.AccountOf(received.Header("authorization")!["Bearer ".Length..]));
        var body = received.Json;
        Assert.Equal("vertex-2023-10-16", body["anthropic_version"]!.GetValue<string>());
        Assert.False(body.ContainsKey("model"));
        Assert.Equal("You are a weather assistant.", body["system"]!.GetValue<string>());
        Assert.Null(received.Header("x-api-key"));
        Assert.Null(received.Header("anthropic-version"));
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, setup.TeamId, expected: 1));
        // The price table's vertex_ai/claude-sonnet-4-5@20250929 row.
        Assert.Equal(21 * 3e-06 + 9 * 1.5e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task TheToken_IsExchangedOnce_ForManyCalls()
    {
        var setup = await fixture.TeamWithModelAsync();
        var before = fixture.Google.Exchanges;

        for (var i = 0; i < 3; i++)
        {
            await Sdk(setup.Key).GetChatClient("vmodel").CompleteChatAsync([new UserChatMessage("hi")]);
        }

        Assert.Equal(1, fixture.Google.Exchanges - before);
        Assert.Single(Vertex.ReceivedBy(setup.UpstreamId).Select(r => r.Header("authorization")).Distinct());
    }

    [Fact]
    public async Task OpenAISdk_Streaming_GoesToStreamRawPredict()
    {
        var setup = await fixture.TeamWithModelAsync();
        var text = new StringBuilder();

        await foreach (var update in Sdk(setup.Key).GetChatClient("vmodel").CompleteChatStreamingAsync([new UserChatMessage("weather?")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.EndsWith($"/models/{VertexFixture.Claude}:streamRawPredict", received.Path);
        Assert.True(received.Json["stream"]!.GetValue<bool>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, setup.TeamId, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(12, log["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Tools_RoundTrip()
    {
        var setup = await fixture.TeamWithModelAsync();
        var client = Sdk(setup.Key).GetChatClient("vmodel");
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.",
            BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}"""));
        var options = new ChatCompletionOptions { Tools = { weather } };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));

        var second = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Vertex.ReceivedBy(setup.UpstreamId);
        Assert.Equal("get_weather", sent[0].Json["tools"]![0]!["name"]!.GetValue<string>());
        var messages = sent[1].Json["messages"]!.AsArray();
        var result = messages[^1]!["content"]![0]!;
        Assert.Equal("tool_result", result["type"]!.GetValue<string>());
        Assert.Equal(call.Id, result["tool_use_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClaudeCodesMessagesCall_PassesThrough_WithoutModel_AndWithVertexsVersion()
    {
        var setup = await fixture.TeamWithModelAsync(scenario: "vertexcode");
        const string Body = """
            {"model":"vmodel","max_tokens":32000,"stream":true,"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"say hi","cache_control":{"type":"ephemeral"}}]}],"tools":[{"name":"Bash","description":"Run","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}],"thinking":{"type":"enabled","budget_tokens":16000},"metadata":{"user_id":"user_abc_session_1"},"temperature":1}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", setup.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219");
        request.Headers.Add("x-app", "cli");

        var answer = await Gateway.Client(null).SendAsync(request);

        var text = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("text/event-stream", answer.Content.Headers.ContentType!.ToString());
        Assert.Contains("event: message_stop", text);
        var said = string.Concat(text.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l[6..])!["delta"]?["text"]?.GetValue<string>()));
        Assert.Equal(AnthropicStandIn.CodingToolAnswer, said);
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.EndsWith(":streamRawPredict", received.Path);
        var expected = JsonNode.Parse(Body)!.AsObject();
        expected.Remove("model");
        var sent = received.Json;
        Assert.Equal("vertex-2023-10-16", sent["anthropic_version"]!.GetValue<string>());
        sent.Remove("anthropic_version");
        Assert.True(JsonNode.DeepEquals(expected, sent), sent.ToJsonString());
        Assert.Equal("claude-code-20250219", received.Header("anthropic-beta"));
        Assert.Null(received.Header("x-app"));
        Assert.Null(received.Header("x-api-key"));
        Assert.StartsWith("Bearer ya29.", received.Header("authorization"));
    }

    [Theory]
    [InlineData("vertex429", HttpStatusCode.TooManyRequests, "rate_limit_error", "Quota exceeded")]
    [InlineData("vertex500", HttpStatusCode.InternalServerError, "api_error", "Internal error encountered")]
    public async Task AMessagesCaller_GetsGooglesErrorsInAnthropicsShape(string scenario, HttpStatusCode status, string type, string message)
    {
        var setup = await fixture.TeamWithModelAsync(scenario: scenario, name: "vmsgerr");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { model = "vmsgerr", max_tokens = 100, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Add("x-api-key", setup.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        var answer = await (await Gateway.Client(null).SendAsync(request)).ReadJsonAsync(status);

        Assert.Equal("error", answer["type"]!.GetValue<string>());
        Assert.Equal(type, answer["error"]!["type"]!.GetValue<string>());
        Assert.Contains(message, answer["error"]!["message"]!.GetValue<string>());
        Assert.NotEmpty(Vertex.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task CountTokens_IsCountedByTheGateway_AsVertexHasNoSuchOperation()
    {
        var setup = await fixture.TeamWithModelAsync(name: "vcount");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens")
        {
            Content = JsonContent.Create(new { model = "vcount", messages = new[] { new { role = "user", content = "How many tokens is this sentence?" } } }),
        };
        request.Headers.Add("x-api-key", setup.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        var answer = await (await Gateway.Client(null).SendAsync(request)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.InRange(answer["input_tokens"]!.GetValue<int>(), 5, 30);
        Assert.Empty(Vertex.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task ResponsesCall_ReachesClaudeThroughChatCompletions()
    {
        var setup = await fixture.TeamWithModelAsync();

        var answer = await (await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/responses", new { model = "vmodel", input = "weather in Boston?" }))
            .ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("completed", answer["status"]!.GetValue<string>());
        Assert.Equal("Sunny in Boston.", answer["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.EndsWith(":rawPredict", Assert.Single(Vertex.ReceivedBy(setup.UpstreamId)).Path);
    }

    [Fact]
    public async Task ARateLimitedDeployment_IsRetriedOnAnother()
    {
        var setup = await fixture.TeamWithModelAsync(scenario: "vertex429", name: "vretry", order: 1);
        var other = await fixture.AddDeploymentAsync(setup, "vertex", name: "vretry", order: 2);

        var completion = (await Sdk(setup.Key).GetChatClient("vretry").CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.Single(Vertex.ReceivedBy(other));
    }

    [Fact]
    public async Task AGoogleServerError_IsA503_WithGooglesMessage()
    {
        var setup = await fixture.TeamWithModelAsync(scenario: "vertex500", name: "vbroken");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", new { model = "vbroken", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Contains("Internal error encountered", await response.ReadErrorAsync(HttpStatusCode.ServiceUnavailable));
    }

    [Fact]
    public async Task AServiceAccountTheEndpointRefuses_FailsTheCall_NamingTheModel_NeverTheKey()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var (keyFile, _) = fixture.Google.NewAccount(VertexFixture.Project);
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var forged = JsonNode.Parse(keyFile)!.AsObject();
        forged["private_key"] = other.ExportPkcs8PrivateKeyPem();
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", VertexFixture.Registration(team, "vforged", VertexFixture.Claude, forged.ToJsonString(), Vertex.ApiBase("vertex", out var upstream))))
            .EnsureSuccessStatusCode();

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "vforged", messages = new[] { new { role = "user", content = "hi" } } });

        var message = await response.ReadErrorAsync(HttpStatusCode.BadGateway);
        Assert.Contains("vforged", message);
        Assert.Contains("invalid_grant", message);
        Assert.DoesNotContain("PRIVATE KEY", message);
        Assert.Empty(Vertex.ReceivedBy(upstream));
        var fragment = forged["private_key"]!.GetValue<string>().Split('\n')[1][..32];
        Assert.DoesNotContain(Gateway.Logs, line => line.Contains(fragment, StringComparison.Ordinal) || line.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheServiceAccountsKey_IsInNoAnswerOrLog()
    {
        var setup = await fixture.TeamWithModelAsync();
        await Sdk(setup.Key).GetChatClient("vmodel").CompleteChatAsync([new UserChatMessage("hi")]);

        var modelInfo = await (await Gateway.Client(setup.Key).GetAsync($"/model/info?litellm_model_id={setup.ModelId}")).Content.ReadAsStringAsync();
        var teamInfo = await (await Gateway.Client(setup.Key).GetAsync($"/team/info?team_id={setup.TeamId}")).Content.ReadAsStringAsync();
        var adminInfo = await (await Gateway.Client().GetAsync("/model/info")).Content.ReadAsStringAsync();

        Assert.Contains(setup.ModelId, modelInfo);
        Assert.Contains(setup.Email, modelInfo);
        foreach (var text in new[] { modelInfo, teamInfo, adminInfo }.Concat(Gateway.Logs))
        {
            Assert.DoesNotContain(setup.KeyFragment, text);
            Assert.DoesNotContain("PRIVATE KEY", text);
        }
    }

    [Fact]
    public async Task Health_CallsTheModel_WithAToken()
    {
        var setup = await fixture.TeamWithModelAsync(name: "vhealth");

        var health = await (await Gateway.Client(setup.Key).GetAsync("/health?model=vhealth")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, health["healthy_count"]!.GetValue<int>());
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.EndsWith(":rawPredict", received.Path);
        Assert.StartsWith("Bearer ya29.", received.Header("authorization"));
    }
}
