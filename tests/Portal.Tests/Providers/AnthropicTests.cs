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
/// A team model on Anthropic, called through the official OpenAI .NET SDK: the gateway speaks Anthropic's Messages API
/// to the stand-in (which checks headers and body as Anthropic does) and OpenAI's shapes back, streams included.
/// </summary>
[Trait("Category", "Database")]
public sealed class AnthropicTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const string ProviderKey = "sk-ant-team-provider-key-0001";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_Chat_IsTranslatedToMessagesAndBack_WithTheTeamsAnthropicKey()
    {
        var (team, key, upstream, _) = await ClaudeAsync();

        var completion = (await Sdk(key).GetChatClient("claude").CompleteChatAsync(
            [new SystemChatMessage("You are a weather assistant."), new UserChatMessage("What's the weather like in Boston today?")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(21, completion.Usage.InputTokenCount);
        Assert.Equal(9, completion.Usage.OutputTokenCount);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/v1/messages", received.Path);
        Assert.Equal(ProviderKey, received.Header("x-api-key"));
        Assert.Equal("2023-06-01", received.Header("anthropic-version"));
        Assert.Null(received.Header("authorization"));
        var body = received.Json;
        Assert.Equal("claude-sonnet-4-5", body["model"]!.GetValue<string>());
        Assert.Equal(4096, body["max_tokens"]!.GetValue<int>());
        Assert.Equal("You are a weather assistant.", body["system"]!.GetValue<string>());
        var message = Assert.Single(body["messages"]!.AsArray())!;
        Assert.Equal("user", message["role"]!.GetValue<string>());
        Assert.Equal("What's the weather like in Boston today?", message["content"]![0]!["text"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(9, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(21 * 3e-06 + 9 * 1.5e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task OpenAISdk_Streaming_GetsChatCompletionChunks_AsAnthropicSendsEvents()
    {
        var (team, key, upstream, _) = await ClaudeAsync();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("claude").CompleteChatStreamingAsync([new UserChatMessage("weather?")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.True(Assert.Single(Upstream.ReceivedBy(upstream)).Json["stream"]!.GetValue<bool>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(12, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
        if (usage is not null)
        {
            Assert.Equal(12, usage.OutputTokenCount);
        }
    }

    [Fact]
    public async Task Streaming_IsRelayedEventByEvent_AndUsageComesLastWhenAskedFor()
    {
        var (_, key, _, _) = await ClaudeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "claude", stream = true, stream_options = new { include_usage = true }, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await Gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).ToList();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal(["Sunny in", " Boston."], chunks.Select(c => c["choices"]!.AsArray() is [{ } choice] ? choice["delta"]?["content"]?.GetValue<string>() : null)
            .Where(t => !string.IsNullOrEmpty(t)).ToList());
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(33, usage["usage"]!["total_tokens"]!.GetValue<int>());
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tools_RoundTrip_ToolUseBecomesToolCalls_AndToolResultsGoBack()
    {
        var (_, key, upstream, _) = await ClaudeAsync();
        var client = Sdk(key).GetChatClient("claude");
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.",
            BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}"""));
        var options = new ChatCompletionOptions { Tools = { weather }, ToolChoice = ChatToolChoice.CreateAutoChoice() };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));

        var second = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Upstream.ReceivedBy(upstream);
        var tools = sent[0].Json["tools"]![0]!;
        Assert.Equal("get_weather", tools["name"]!.GetValue<string>());
        Assert.Equal("object", tools["input_schema"]!["type"]!.GetValue<string>());
        Assert.Equal("auto", sent[0].Json["tool_choice"]!["type"]!.GetValue<string>());
        var messages = sent[1].Json["messages"]!.AsArray();
        Assert.Equal("tool_use", messages[1]!["content"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "tool_use")!["type"]!.GetValue<string>());
        var result = messages[2]!["content"]![0]!;
        Assert.Equal("tool_result", result["type"]!.GetValue<string>());
        Assert.Equal(call.Id, result["tool_use_id"]!.GetValue<string>());
        Assert.Equal("22 degrees, sunny", result["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamedToolCalls_ArriveAsToolCallDeltas()
    {
        var (_, key, _, _) = await ClaudeAsync();
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.", BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}}"""));
        string? name = null, id = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("claude").CompleteChatStreamingAsync([new UserChatMessage("weather in Boston?")], new ChatCompletionOptions { Tools = { weather } }))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                name ??= tool.FunctionName;
                id ??= tool.ToolCallId;
                arguments.Append(tool.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("toolu_standin_2", id);
        Assert.Equal("Boston", JsonNode.Parse(arguments.ToString())!["location"]!.GetValue<string>());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Images_AreSentAsImageBlocks()
    {
        var (_, key, upstream, _) = await ClaudeAsync();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

        await Sdk(key).GetChatClient("claude").CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in this picture?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"),
            ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/boston.jpg")))]);

        var blocks = Assert.Single(Upstream.ReceivedBy(upstream)).Json["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("base64", blocks[1]!["source"]!["type"]!.GetValue<string>());
        Assert.Equal("image/png", blocks[1]!["source"]!["media_type"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(png), blocks[1]!["source"]!["data"]!.GetValue<string>());
        Assert.Equal("https://example.com/boston.jpg", blocks[2]!["source"]!["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnAnthropicError_ComesBackInTheOpenAIEnvelope_WithItsStatus()
    {
        var (_, key, _, _) = await ClaudeAsync(scenario: "claude", providerKey: "");
        var anthropicRefusal = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("claude"));

        var message = await anthropicRefusal.ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error");
        Assert.StartsWith("Anthropic: x-api-key is required", message);
    }

    [Fact]
    public async Task Overloaded529_IsA503_RetriedOnTheGroupsOtherDeployment()
    {
        var (team, key, overloaded, _) = await ClaudeAsync(scenario: "claude529", order: 1);
        var healthy = await AddClaudeAsync(key, team, "claude", order: 2);

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("claude"));
        var only = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "claude", num_retries = 0, messages = new[] { new { role = "user", content = "hi" } } });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("1", response.Headers.GetValues("x-litellm-attempted-retries").Single());
        Assert.Single(Upstream.ReceivedBy(healthy));
        Assert.Contains("Overloaded", await only.ReadErrorAsync(HttpStatusCode.ServiceUnavailable, "upstream_error"));
        Assert.Equal(2, Upstream.ReceivedBy(overloaded).Count);
    }

    [Fact]
    public async Task PromptTooLong_MovesToTheContextWindowFallback()
    {
        var (team, key, _, _) = await ClaudeAsync(scenario: "claudelong");
        var large = await AddClaudeAsync(key, team, "claude-large");

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "claude", context_window_fallbacks = new[] { "claude-large" }, messages = new[] { new { role = "user", content = "a very long prompt" } },
        });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Single(Upstream.ReceivedBy(large));
    }

    [Fact]
    public async Task ATeamsAnthropicKey_ReachesOnlyItsOwnModels()
    {
        var (_, _, upstream, _) = await ClaudeAsync();
        var otherTeam = await Gateway.CreateTeamAsync();
        var otherKey = await Gateway.GenerateKeyAsync(otherTeam);

        var refused = await Gateway.Client(otherKey).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("claude"));

        Assert.Equal("Invalid model name passed in model=claude. Call /v1/models to view available models for your key.", await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task WhatAnthropicCannotDo_IsA400NamingIt_AndNothingIsSent()
    {
        var (_, key, upstream, _) = await ClaudeAsync();

        var jsonMode = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "claude", response_format = new { type = "json_object" }, messages = new[] { new { role = "user", content = "hi" } },
        });
        var embeddings = await Gateway.Client(key).PostAsJsonAsync("/v1/embeddings", new { model = "claude", input = "hi" });
        // A tool call whose arguments are JSON but no object: tool_use input must be one, so it is refused here, by name.
        var listArguments = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "claude",
            messages = new object[]
            {
                new { role = "user", content = "weather?" },
                new { role = "assistant", tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = "[\"Boston\"]" } } } },
                new { role = "tool", tool_call_id = "call_1", content = "22 degrees" },
            },
        });

        Assert.Contains("response_format is not supported for anthropic models", await jsonMode.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("chat/completions, responses only", await embeddings.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Equal("messages[1].tool_calls[0].function.arguments must be a JSON object in a string.", await listArguments.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task TestConnection_SpeaksAnthropicToo()
    {
        var (_, key, upstream, modelId) = await ClaudeAsync();

        var health = await (await Gateway.Client(key).GetAsync("/health?model=claude")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, health["healthy_count"]!.GetValue<int>());
        Assert.Equal(modelId, health["healthy_endpoints"]![0]!["model_id"]!.GetValue<string>());
        Assert.Equal(1, Assert.Single(Upstream.ReceivedBy(upstream)).Json["max_tokens"]!.GetValue<int>());
    }

    private async Task<(string Team, string Key, string Upstream, string ModelId)> ClaudeAsync(string scenario = "claude", string providerKey = ProviderKey, int? order = null)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var litellmParams = new JsonObject
        {
            ["model"] = "anthropic/claude-sonnet-4-5",
            ["custom_llm_provider"] = "anthropic",
            ["api_base"] = Upstream.ApiBase(scenario, out var upstream),
        };
        if (providerKey.Length > 0) litellmParams["api_key"] = providerKey;
        if (order is { } o) litellmParams["order"] = o;
        var model = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "claude",
            ["litellm_params"] = litellmParams,
            ["model_info"] = new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 3e-06, ["output_cost_per_token"] = 1.5e-05 },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return (team, key, upstream, model["model_id"]!.GetValue<string>());
    }

    private async Task<string> AddClaudeAsync(string key, string team, string name, int? order = null)
    {
        var litellmParams = new JsonObject { ["model"] = "anthropic/claude-sonnet-4-5", ["api_key"] = ProviderKey, ["api_base"] = Upstream.ApiBase("claude", out var upstream) };
        if (order is { } o) litellmParams["order"] = o;
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name, ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();
        return upstream;
    }
}
