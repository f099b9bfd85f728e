using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using Portal.Tests.Infrastructure;
using static Portal.Tests.Infrastructure.AnthropicCalls;

namespace Portal.Tests.Dialects;

/// <summary>
/// Anthropic's Messages API on a team's OpenAI-shaped model: the official Anthropic .NET SDK calls the gateway as it would
/// call Anthropic, and the call reaches the team's OpenAI deployment (the stand-in, which checks what OpenAI checks) as a
/// chat completion with the team's key; the answer comes back as Anthropic's message or event stream, and is counted.
/// </summary>
[Trait("Category", "Database")]
public sealed class TranslatedMessagesTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const string ProviderKey = "sk-openai-team-provider-key-0003";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private AnthropicClient Sdk(string key) => new() { BaseUrl = Gateway.BaseAddress.ToString().TrimEnd('/'), AuthToken = key, ApiKey = null, MaxRetries = 0 };

    private static MessageCreateParams Ask(string text = "What's the weather like in Boston today?", IReadOnlyList<ToolUnion>? tools = null) => new()
    {
        Model = "gpt",
        MaxTokens = 256,
        System = "You are a weather assistant.",
        Messages = [new UserMessageParam { Content = text }],
        Tools = tools,
    };

    private static readonly Tool WeatherTool = new()
    {
        Name = "get_weather", Description = "Weather at a place",
        InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) } },
    };

    private static readonly ToolUnion[] Weather = [WeatherTool];

    [Fact]
    public async Task Sdk_Create_ReachesTheTeamsOpenAIModel_AsAChatCompletion_AndIsCounted()
    {
        var (team, key, upstream) = await GptAsync();

        var message = await Sdk(key).Messages.Create(Ask());

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal(OpenAIChatStandIn.Answer, text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason?.Value());
        Assert.Equal(OpenAIChatStandIn.PromptTokens, message.Usage.InputTokens);
        Assert.Equal(OpenAIChatStandIn.CompletionTokens, message.Usage.OutputTokens);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/chat/completions", received.Path);
        Assert.Equal($"Bearer {ProviderKey}", received.Header("authorization"));
        Assert.Null(received.Header("x-api-key"));
        Assert.Null(received.Header("anthropic-version"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(key, StringComparison.Ordinal));
        var body = received.Json;
        Assert.Equal("gpt-4o", body["model"]!.GetValue<string>());
        Assert.Equal(256, body["max_tokens"]!.GetValue<int>());
        var messages = body["messages"]!.AsArray();
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Equal("You are a weather assistant.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("user", messages[1]!["role"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(OpenAIChatStandIn.PromptTokens, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(OpenAIChatStandIn.CompletionTokens, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
        Assert.Equal(13 * 2.5e-06 + 5 * 1e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task Sdk_Streaming_GetsAnthropicsEvents_AndTheStreamsUsageIsCounted()
    {
        var (team, key, upstream) = await GptAsync();
        var text = new StringBuilder();
        var events = new List<string>();
        long? outputTokens = null;

        await foreach (var e in Sdk(key).Messages.CreateStreaming(Ask()))
        {
            if (e.TryPickStart(out _)) events.Add("message_start");
            if (e.TryPickContentBlockStart(out _)) events.Add("content_block_start");
            if (e.TryPickContentBlockStop(out _)) events.Add("content_block_stop");
            if (e.TryPickDelta(out var delta))
            {
                events.Add("message_delta");
                outputTokens = delta!.Usage.OutputTokens;
            }
            if (e.TryPickStop(out _)) events.Add("message_stop");
            if (e.TryPickContentBlockDelta(out var part) && part!.Delta.TryPickText(out var t))
            {
                text.Append(t!.Text);
            }
        }

        Assert.Equal(OpenAIChatStandIn.Answer, text.ToString());
        Assert.Equal(["message_start", "content_block_start", "content_block_stop", "message_delta", "message_stop"], events);
        Assert.Equal(OpenAIChatStandIn.CompletionTokens, outputTokens);
        var sent = Assert.Single(Upstream.ReceivedBy(upstream)).Json;
        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.True(sent["stream_options"]!["include_usage"]!.GetValue<bool>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(OpenAIChatStandIn.PromptTokens, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(OpenAIChatStandIn.CompletionTokens, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Sdk_ToolRoundTrip_ToolUseBecomesToolCalls_AndTheResultATollMessage()
    {
        var (_, key, upstream) = await GptAsync();
        var sdk = Sdk(key);

        var first = await sdk.Messages.Create(Ask(tools: Weather));
        Assert.Equal(StopReason.ToolUse, first.StopReason?.Value());
        Assert.True(Assert.Single(first.Content).TryPickToolUse(out var toolUse));
        Assert.Equal("get_weather", toolUse!.Name);
        Assert.Equal("Boston", toolUse.Input["city"].GetString());

        var second = await sdk.Messages.Create(new MessageCreateParams
        {
            Model = "gpt", MaxTokens = 256, Tools = Weather,
            Messages =
            [
                new UserMessageParam { Content = "What's the weather like in Boston today?" },
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = toolUse.ID, Name = toolUse.Name, Input = toolUse.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = toolUse.ID, Content = "22 C and sunny" } } },
            ],
        });

        Assert.True(Assert.Single(second.Content).TryPickText(out var text));
        Assert.Equal(OpenAIChatStandIn.Answer, text!.Text);
        var sent = Upstream.ReceivedBy(upstream)[1].Json;
        Assert.Equal("get_weather", sent["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        var messages = sent["messages"]!.AsArray();
        var call = messages[1]!["tool_calls"]![0]!;
        Assert.Equal(toolUse.ID, call["id"]!.GetValue<string>());
        Assert.Equal("Boston", JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>())!["city"]!.GetValue<string>());
        Assert.Equal("tool", messages[2]!["role"]!.GetValue<string>());
        Assert.Equal(toolUse.ID, messages[2]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("22 C and sunny", messages[2]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streaming_ToolUse_ArrivesAsInputJsonDeltas_ThatMakeTheCallsArguments()
    {
        var (_, key, _) = await GptAsync();
        var json = new StringBuilder();
        string? name = null;

        await foreach (var e in Sdk(key).Messages.CreateStreaming(Ask(tools: Weather)))
        {
            if (e.TryPickContentBlockStart(out var start) && start!.ContentBlock.TryPickToolUse(out var tool))
            {
                name = tool!.Name;
            }
            if (e.TryPickContentBlockDelta(out var part) && part!.Delta.TryPickInputJson(out var input))
            {
                json.Append(input!.PartialJson);
            }
        }

        Assert.Equal("get_weather", name);
        Assert.Equal(OpenAIChatStandIn.ToolArguments, json.ToString());
    }

    [Fact]
    public async Task CountTokens_OnAnOpenAIModel_IsCountedByTheGateway_WithNoCallAndNoUsageRow()
    {
        var (team, key, upstream) = await GptAsync();
        var sdk = Sdk(key);

        var shortCount = await sdk.Messages.CountTokens(new MessageCountTokensParams { Model = "gpt", Messages = [new UserMessageParam { Content = "hello world" }] });
        var longCount = await sdk.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "gpt", Messages = [new UserMessageParam { Content = string.Join(' ', Enumerable.Repeat("hello world", 50)) }], Tools = [WeatherTool],
        });
        await sdk.Messages.Create(Ask());

        Assert.True(shortCount.InputTokens is > 0 and < 20, $"{shortCount.InputTokens}");
        Assert.True(longCount.InputTokens >= shortCount.InputTokens + 100, $"{shortCount.InputTokens} then {longCount.InputTokens}");
        // Only the create reached the provider, and only it left a usage row.
        Assert.EndsWith("/chat/completions", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
        Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
    }

    [Fact]
    public async Task ClaudeCodesRequest_IsTranslated_ItsCachingAndThinkingHintsDropped_NotRefused()
    {
        var (_, key, upstream) = await GptAsync();
        const string Body = """
            {"model":"gpt","max_tokens":32000,"stream":true,"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"say hi","cache_control":{"type":"ephemeral"}}]}],"tools":[{"name":"Bash","description":"Run","input_schema":{"type":"object","properties":{"command":{"type":"string"}}},"cache_control":{"type":"ephemeral"}}],"thinking":{"type":"enabled","budget_tokens":16000},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"metadata":{"user_id":"user_abc_session_1"},"temperature":1}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14");

        var answer = await Gateway.Client(null).SendAsync(request);

        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, text);
        Assert.StartsWith("text/event-stream", answer.Content.Headers.ContentType!.ToString());
        Assert.Contains("event: message_stop", text);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Null(received.Header("anthropic-beta"));
        var sent = received.Json;
        Assert.Equal("You are Claude Code.", sent["messages"]![0]!["content"]!.ToJsonString().Contains("You are Claude Code.", StringComparison.Ordinal) ? "You are Claude Code." : sent["messages"]![0]!.ToJsonString());
        Assert.Equal("Bash", sent["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("user_abc_session_1", sent["user"]!.GetValue<string>());
        Assert.DoesNotContain("cache_control", received.Body);
        Assert.DoesNotContain("thinking", received.Body);
    }

    [Fact]
    public async Task ProviderErrors_ReachTheCallerInAnthropicsShape()
    {
        var (_, key, _) = await GptAsync("error429");
        var (_, other, _) = await GptAsync("error500");

        var limited = await PostAsync(Gateway, key, Message("gpt"));
        var failed = await PostAsync(Gateway, other, Message("gpt"));

        Assert.Equal("Rate limit reached for gpt-4o (provider side).", await AnthropicErrorAsync(limited, HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.Contains("stand-in", await AnthropicErrorAsync(failed, HttpStatusCode.InternalServerError, "api_error"));
    }

    [Fact]
    public async Task AFieldTheTranslationCannotKeep_IsA400NamingIt_AndNothingIsSent()
    {
        var (_, key, upstream) = await GptAsync();
        var body = Message("gpt");
        body["tools"] = new JsonArray(new JsonObject { ["type"] = "web_search_20250305", ["name"] = "web_search" });

        var refused = await PostAsync(Gateway, key, body);

        Assert.Contains("web_search", await AnthropicErrorAsync(refused, HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    private async Task<(string Team, string Key, string Upstream)> GptAsync(string scenario = "gpt")
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "gpt",
            ["litellm_params"] = new JsonObject { ["model"] = "openai/gpt-4o", ["api_key"] = ProviderKey, ["api_base"] = Upstream.ApiBase(scenario, out var upstream) },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();
        return (team, key, upstream);
    }
}
