using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Responses;
using Portal.Tests.Infrastructure;

#pragma warning disable OPENAI001 // The SDK marks its Responses client as evaluation-only; it is the client Codex users' SDK code calls.

namespace Portal.Tests.Dialects;

/// <summary>
/// OpenAI's Responses API on a team's chat-only model: the official OpenAI .NET SDK's Responses client calls the gateway,
/// and the call reaches the team's Anthropic deployment (through chat completions, then Anthropic's Messages API) or an
/// OpenAI-compatible one (as a chat completion), with the team's key; the answer comes back as a response object or
/// <c>response.*</c> events, and is counted.
/// </summary>
[Trait("Category", "Database")]
public sealed class TranslatedResponsesTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const string AnthropicKey = "sk-ant-team-provider-key-0004";
    private const string GroqKey = "sk-groq-team-provider-key-0004";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private ResponsesClient Sdk(string key) => new(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    private static readonly ResponseTool Weather = ResponseTool.CreateFunctionTool(
        "get_weather", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}"""), strictModeEnabled: false, "Weather at a place");

    [Fact]
    public async Task Sdk_Create_OnATeamsClaudeModel_ReachesAnthropicWithTheTeamsKey_AndIsCounted()
    {
        var (team, key, upstream) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claude");

        var response = (await Sdk(key).CreateResponseAsync(new CreateResponseOptions
        {
            Model = "team-model", Instructions = "You are a weather assistant.",
            InputItems = { ResponseItem.CreateUserMessageItem("What's the weather like in Boston today?") },
        })).Value;

        Assert.Equal("Sunny in Boston.", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.StartsWith("resp_", response.Id);
        Assert.Equal(21, response.Usage.InputTokenCount);
        Assert.Equal(9, response.Usage.OutputTokenCount);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/v1/messages", received.Path);
        Assert.Equal(AnthropicKey, received.Header("x-api-key"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(key, StringComparison.Ordinal));
        Assert.Equal("You are a weather assistant.", received.Json["system"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(9, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(21 * 3e-06 + 9 * 1.5e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task Sdk_Streaming_OnATeamsClaudeModel_GetsResponseEvents_InSequence_AndIsCounted()
    {
        var (team, key, upstream) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claude");
        var text = new StringBuilder();
        ResponseResult? completed = null;

        var stream = await Sdk(key).CreateResponseStreamingAsync(new CreateResponseOptions
        {
            Model = "team-model", InputItems = { ResponseItem.CreateUserMessageItem("Weather?") }, StreamingEnabled = true,
        });
        await foreach (var update in stream)
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal("Sunny in Boston.", completed.GetOutputText());
        Assert.Equal(21, completed.Usage.InputTokenCount);
        Assert.Equal(12, completed.Usage.OutputTokenCount);
        Assert.True(Assert.Single(Upstream.ReceivedBy(upstream)).Json["stream"]!.GetValue<bool>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(12, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Sdk_FunctionCallRoundTrip_OnATeamsClaudeModel()
    {
        var (_, key, upstream) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claude");
        var sdk = Sdk(key);

        var first = (await sdk.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "team-model", Tools = { Weather }, InputItems = { ResponseItem.CreateUserMessageItem("Weather in Boston?") },
        })).Value;
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());

        var second = (await sdk.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "team-model", Tools = { Weather },
            InputItems =
            {
                ResponseItem.CreateUserMessageItem("Weather in Boston?"),
                ResponseItem.CreateFunctionCallItem(call.CallId, call.FunctionName, call.FunctionArguments),
                ResponseItem.CreateFunctionCallOutputItem(call.CallId, "22 C"),
            },
        })).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.GetOutputText());
        var sent = Upstream.ReceivedBy(upstream)[1].Json["messages"]!.AsArray();
        Assert.Equal("tool_use", sent[1]!["content"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(call.CallId, sent[2]!["content"]![0]!["tool_use_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACodingToolsOwnHeaders_DoNotReachTheOtherProvider()
    {
        var (_, key, upstream) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claude");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = JsonContent.Create(new { model = "team-model", input = "hi" }) };
        request.Headers.Add("session_id", "codex-session-0001");
        request.Headers.Add("originator", "codex_exec");
        request.Headers.Add("OpenAI-Beta", "responses=experimental");

        (await Gateway.Client(key).SendAsync(request)).EnsureSuccessStatusCode();

        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Null(received.Header("session_id"));
        Assert.Null(received.Header("originator"));
        Assert.Null(received.Header("openai-beta"));
        Assert.Equal(AnthropicKey, received.Header("x-api-key"));
        Assert.Equal("2023-06-01", received.Header("anthropic-version"));
    }

    [Fact]
    public async Task OnAnOpenAICompatibleModel_ResponsesBecomeChatCompletions()
    {
        var (team, key, upstream) = await TeamModelAsync("groq/llama-3.3-70b", GroqKey, "gpt");

        var response = (await Sdk(key).CreateResponseAsync(new CreateResponseOptions
        {
            Model = "team-model", InputItems = { ResponseItem.CreateUserMessageItem("Weather?") },
        })).Value;

        Assert.Equal(OpenAIChatStandIn.Answer, response.GetOutputText());
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/chat/completions", received.Path);
        Assert.Equal($"Bearer {GroqKey}", received.Header("authorization"));
        Assert.Equal("llama-3.3-70b", received.Json["model"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(OpenAIChatStandIn.PromptTokens, log["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task OnATeamsOpenAIModel_ResponsesStillPassThrough()
    {
        var (_, key, upstream) = await TeamModelAsync("openai/gpt-4o", "sk-openai-team-0004", "ok");

        var answer = await Gateway.Client(key).PostAsJsonAsync("/v1/responses", new { model = "team-model", input = "hi" });

        answer.EnsureSuccessStatusCode();
        Assert.EndsWith("/responses", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
    }

    [Fact]
    public async Task PreviousResponseId_IsA400SayingTheGatewayStoresNoResponses()
    {
        var (_, key, upstream) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claude");

        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/responses", new { model = "team-model", input = "and then?", previous_response_id = "resp_123" });

        var error = (await refused.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!;
        Assert.Equal("previous_response_id", error["param"]!.GetValue<string>());
        Assert.Contains("store", error["message"]!.GetValue<string>());
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task AnthropicsErrors_ReachTheCallerInOpenAIsShape()
    {
        var (_, key, _) = await TeamModelAsync("anthropic/claude-sonnet-4-5", AnthropicKey, "claudelong");

        var refused = await Gateway.Client(key).PostAsJsonAsync("/v1/responses", new { model = "team-model", input = "hi" });

        var error = (await refused.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!;
        Assert.Contains("prompt is too long", error["message"]!.GetValue<string>());
    }

    private async Task<(string Team, string Key, string Upstream)> TeamModelAsync(string model, string providerKey, string scenario)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "team-model",
            ["litellm_params"] = new JsonObject { ["model"] = model, ["api_key"] = providerKey, ["api_base"] = Upstream.ApiBase(scenario, out var upstream) },
            ["model_info"] = new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 3e-06, ["output_cost_per_token"] = 1.5e-05 },
        })).EnsureSuccessStatusCode();
        return (team, key, upstream);
    }
}
