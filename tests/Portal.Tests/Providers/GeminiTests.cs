using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using Portal.Tests.Infrastructure;
using Caller = Proxy.Core.Access.Caller;

#pragma warning disable OPENAI001 // The SDK marks its Responses client as evaluation-only; it is the client Codex users' SDK code calls.

namespace Portal.Tests.Providers;

/// <summary>
/// A team model on Google's Gemini (AI Studio), called through the official OpenAI .NET SDK (and the Anthropic SDK and
/// OpenAI's Responses client for the coding tools' routes): the gateway speaks Gemini's generateContent to the stand-in,
/// which checks the key, path and body as Google does, and OpenAI's shapes back, streams included.
/// </summary>
[Trait("Category", "Database")]
public sealed class GeminiTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    /// <summary>The price table's gemini/gemini-2.5-flash (USD per token).</summary>
    private const double InputPrice = 3e-07, OutputPrice = 2.5e-06;

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.",
        BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"], "additionalProperties": false}"""));

    [Fact]
    public async Task OpenAISdk_Chat_IsTranslatedToGenerateContentAndBack_WithTheTeamsKey_CountedAndPriced()
    {
        var (team, key, upstream, _) = await GeminiAsync();

        var completion = (await Sdk(key).GetChatClient("gemini").CompleteChatAsync(
            [new SystemChatMessage("You are a weather assistant."), new UserChatMessage("What's the weather like in Boston today?")],
            new ChatCompletionOptions { Temperature = 0.2f, MaxOutputTokenCount = 100, StopSequences = { "END" } })).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("gemini-2.5-flash", completion.Model);
        Assert.Equal(21, completion.Usage.InputTokenCount);
        Assert.Equal(9, completion.Usage.OutputTokenCount);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/v1beta/models/gemini-2.5-flash:generateContent", received.Path);
        Assert.Equal(GeminiStandIn.Key, received.Header("x-goog-api-key"));
        Assert.Null(received.Header("authorization"));
        var body = received.Json;
        Assert.Equal("You are a weather assistant.", body["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        var content = Assert.Single(body["contents"]!.AsArray())!;
        Assert.Equal("user", content["role"]!.GetValue<string>());
        Assert.Equal("What's the weather like in Boston today?", content["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(0.2, body["generationConfig"]!["temperature"]!.GetValue<double>(), 5);
        Assert.Equal(100, body["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
        Assert.Equal("END", body["generationConfig"]!["stopSequences"]![0]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(9, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
        Assert.Equal(21 * InputPrice + 9 * OutputPrice, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task OpenAISdk_Streaming_GetsChunks_FromGeminisStream_AndIsCounted()
    {
        var (team, key, upstream, _) = await GeminiAsync();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("gemini").CompleteChatStreamingAsync([new UserChatMessage("weather?")]))
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
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/v1beta/models/gemini-2.5-flash:streamGenerateContent", received.Path);
        Assert.Equal("?alt=sse", received.Query);
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
    public async Task Streaming_EndsWithTheUsageChunkWhenAskedFor_ThenDone()
    {
        var (_, key, _, _) = await GeminiAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gemini", stream = true, stream_options = new { include_usage = true }, messages = new[] { new { role = "user", content = "hi" } } }),
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
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(33, chunks[^1]["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Tools_RoundTrip_FunctionCallBecomesToolCalls_AndTheResultGoesBackByFunctionName()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        var client = Sdk(key).GetChatClient("gemini");
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));

        var second = (await client.CompleteChatAsync(conversation, new ChatCompletionOptions { Tools = { Weather } })).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Upstream.ReceivedBy(upstream);
        var declaration = sent[0].Json["tools"]![0]!["functionDeclarations"]![0]!;
        Assert.Equal("get_weather", declaration["name"]!.GetValue<string>());
        Assert.False(declaration["parametersJsonSchema"]!["additionalProperties"]!.GetValue<bool>());
        Assert.Equal("ANY", sent[0].Json["toolConfig"]!["functionCallingConfig"]!["mode"]!.GetValue<string>());
        var contents = sent[1].Json["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c!["role"]!.GetValue<string>()));
        Assert.Equal("Boston", contents[1]!["parts"]![0]!["functionCall"]!["args"]!["location"]!.GetValue<string>());
        var result = contents[2]!["parts"]![0]!["functionResponse"]!;
        Assert.Equal("get_weather", result["name"]!.GetValue<string>());
        Assert.Equal("22 degrees, sunny", result["response"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Gemini3sThoughtSignature_RidesInTheToolCallId_AndGoesBackWithTheCall()
    {
        var (_, key, upstream, _) = await GeminiAsync(scenario: "gemini3");
        var client = Sdk(key).GetChatClient("gemini");
        var options = new ChatCompletionOptions { Tools = { Weather } };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;
        var call = Assert.Single(first.ToolCalls);
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));
        var second = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.EndsWith($"__thought__{GeminiStandIn.ThoughtSignature}", call.Id);
        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Upstream.ReceivedBy(upstream)[1].Json["contents"]![1]!["parts"]![0]!;
        Assert.Equal(GeminiStandIn.ThoughtSignature, sent["thoughtSignature"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamedFunctionCalls_ArriveAsToolCallDeltas()
    {
        var (_, key, _, _) = await GeminiAsync();
        string? name = null, id = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("gemini").CompleteChatStreamingAsync([new UserChatMessage("weather in Boston?")], new ChatCompletionOptions { Tools = { Weather } }))
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
        Assert.StartsWith("call_", id);
        Assert.Equal("Boston", JsonNode.Parse(arguments.ToString())!["location"]!.GetValue<string>());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task JsonResponseFormat_AsksGeminiForJson_WithTheSchema()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        var schema = BinaryData.FromString("""{"type": "object", "properties": {"city": {"type": "string"}, "sky": {"type": "string"}}, "required": ["city", "sky"], "additionalProperties": false}""");

        var completion = (await Sdk(key).GetChatClient("gemini").CompleteChatAsync([new UserChatMessage("Weather in Boston as JSON.")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("weather", schema, jsonSchemaIsStrict: true) })).Value;
        var jsonMode = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gemini", response_format = new { type = "json_object" }, messages = new[] { new { role = "user", content = "JSON please" } },
        });

        Assert.Equal("Boston", JsonNode.Parse(completion.Content[0].Text)!["city"]!.GetValue<string>());
        var sent = Upstream.ReceivedBy(upstream);
        var config = sent[0].Json["generationConfig"]!;
        Assert.Equal("application/json", config["responseMimeType"]!.GetValue<string>());
        Assert.Equal(["city", "sky"], config["responseJsonSchema"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(GeminiStandIn.JsonAnswer, (await jsonMode.ReadJsonAsync(HttpStatusCode.OK))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("application/json", sent[1].Json["generationConfig"]!["responseMimeType"]!.GetValue<string>());
        Assert.Null(sent[1].Json["generationConfig"]!["responseJsonSchema"]);
    }

    [Fact]
    public async Task Images_GoInline_AndAWebAddressIsA400NamingTheField()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

        await Sdk(key).GetChatClient("gemini").CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in this picture?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"))]);
        var byUrl = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gemini",
            messages = new[] { new { role = "user", content = new object[] { new { type = "text", text = "What is this?" }, new { type = "image_url", image_url = new { url = "https://example.com/boston.jpg" } } } } },
        });

        var parts = Assert.Single(Upstream.ReceivedBy(upstream)).Json["contents"]![0]!["parts"]!.AsArray();
        Assert.Equal("image/png", parts[1]!["inlineData"]!["mimeType"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(png), parts[1]!["inlineData"]!["data"]!.GetValue<string>());
        var refused = (await byUrl.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!;
        Assert.Equal("messages[0].content[1].image_url", refused["param"]!.GetValue<string>());
        Assert.Contains("data: URL", refused["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Embeddings_GoThroughBatchEmbedContents_InOrder_WithTheSdksBase64()
    {
        var (team, key, upstream, _) = await GeminiAsync(model: "gemini/gemini-embedding-001", name: "gemini-embed");

        var embeddings = (await Sdk(key).GetEmbeddingClient("gemini-embed").GenerateEmbeddingsAsync(["a", "Boston"])).Value;
        var floats = await (await Gateway.Client(key).PostAsJsonAsync("/v1/embeddings", new { model = "gemini-embed", input = "hello", dimensions = 4 })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(2, embeddings.Count);
        Assert.Equal([1f, 0.25f, 0.5f], embeddings[0].ToFloats().ToArray());
        Assert.Equal(6f, embeddings[1].ToFloats().Span[0]);
        var sent = Upstream.ReceivedBy(upstream);
        Assert.EndsWith("/v1beta/models/gemini-embedding-001:batchEmbedContents", sent[0].Path);
        Assert.Equal(["a", "Boston"], sent[0].Json["requests"]!.AsArray().Select(r => r!["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
        Assert.Equal("list", floats["object"]!.GetValue<string>());
        Assert.Equal([5, 0.25, 0.5, 0.75], floats["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal(4, sent[1].Json["requests"]![0]!["outputDimensionality"]!.GetValue<int>());
        var logs = await Spend.Spend.LogsAsync(Gateway, team, expected: 2);
        Assert.All(logs, log => Assert.True(log["tokens_estimated"]!.GetValue<bool>()));
        // The price table's gemini-embedding-001: USD 0.15 per million input tokens.
        Assert.All(logs, log => Assert.Equal(log["prompt_tokens"]!.GetValue<int>() * 1.5e-07, log["spend"]!.GetValue<double>(), 12));
        Assert.All(logs, log => Assert.True(log["spend"]!.GetValue<double>() > 0));
    }

    [Fact]
    public async Task CachedAndThinkingTokens_AreInTheUsage_AndCounted()
    {
        var (team, key, _, _) = await GeminiAsync(scenario: "geminicache");

        var completion = (await Sdk(key).GetChatClient("gemini").CompleteChatAsync([new UserChatMessage("weather?")])).Value;

        Assert.Equal(GeminiStandIn.PromptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(GeminiStandIn.CachedTokens, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(9 + GeminiStandIn.ThoughtTokens, completion.Usage.OutputTokenCount);
        Assert.Equal(GeminiStandIn.ThoughtTokens, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(9 + GeminiStandIn.ThoughtTokens, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(GeminiStandIn.PromptTokens * InputPrice + (9 + GeminiStandIn.ThoughtTokens) * OutputPrice, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task ResourceExhausted429_IsRetriedOnTheGroupsOtherDeployment()
    {
        var (team, key, exhausted, _) = await GeminiAsync(scenario: "gemini429", order: 1);
        var healthy = await AddGeminiAsync(key, team, "gemini", order: 2);

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("gemini"));

        Assert.Equal("Sunny in Boston.", (await response.ReadJsonAsync(HttpStatusCode.OK))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("1", response.Headers.GetValues("x-litellm-attempted-retries").Single());
        Assert.Single(Upstream.ReceivedBy(exhausted));
        Assert.Single(Upstream.ReceivedBy(healthy));
    }

    [Fact]
    public async Task GeminisErrors_ComeBackInTheOpenAIEnvelope_5xxAsA503()
    {
        var (_, key, _, _) = await GeminiAsync(scenario: "gemini500");
        var (_, badRequestKey, _, _) = await GeminiAsync(scenario: "gemini400");
        var (_, exhaustedKey, _, _) = await GeminiAsync(scenario: "gemini429");
        var once = new { model = "gemini", num_retries = 0, messages = new[] { new { role = "user", content = "hi" } } };

        var internalError = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", once);
        var badRequest = await Gateway.Client(badRequestKey).PostAsJsonAsync("/v1/chat/completions", once);
        var exhausted = await Gateway.Client(exhaustedKey).PostAsJsonAsync("/v1/chat/completions", once);

        Assert.StartsWith("Gemini: An internal error has occurred", await internalError.ReadErrorAsync(HttpStatusCode.ServiceUnavailable, "upstream_error"));
        Assert.Equal("Gemini: Please use a valid role: user, model. (INVALID_ARGUMENT)", await badRequest.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("RESOURCE_EXHAUSTED", await exhausted.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
    }

    [Fact]
    public async Task APromptTooLongForGemini_MovesToTheContextWindowFallback()
    {
        var (team, key, _, _) = await GeminiAsync(scenario: "geminilong");
        var large = await AddGeminiAsync(key, team, "gemini-large");

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gemini", context_window_fallbacks = new[] { "gemini-large" }, messages = new[] { new { role = "user", content = "a very long prompt" } },
        });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Single(Upstream.ReceivedBy(large));
    }

    [Fact]
    public async Task AWrongOrMissingKey_IsGooglesRefusal_InTheOpenAIEnvelope()
    {
        var (_, wrongKey, _, _) = await GeminiAsync(providerKey: "AIzaSy-not-the-teams-key");
        var (_, noKey, _, _) = await GeminiAsync(providerKey: "");

        var wrong = await Gateway.Client(wrongKey).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("gemini"));
        using var ownKey = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Spend.Spend.Chat("gemini")) };
        // A caller's own Google key does not stand in for the deployment's.
        ownKey.Headers.Add("x-goog-api-key", GeminiStandIn.Key);
        var none = await Gateway.Client(noKey).SendAsync(ownKey);

        Assert.Contains("API key not valid", await wrong.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("PERMISSION_DENIED", await none.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error"));
    }

    [Fact]
    public async Task WhatGeminiCannotDo_IsA400NamingIt_AndNothingIsSent()
    {
        var (_, key, upstream, _) = await GeminiAsync();

        var logprobs = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "gemini", logprobs = true, messages = new[] { new { role = "user", content = "hi" } } });
        var tokens = await Gateway.Client(key).PostAsJsonAsync("/v1/embeddings", new { model = "gemini", input = new[] { new[] { 1, 2, 3 } } });
        var speech = await Gateway.Client(key).PostAsJsonAsync("/v1/audio/speech", new { model = "gemini", input = "hi", voice = "alloy" });

        Assert.Contains("logprobs is not supported for gemini models", await logprobs.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("Gemini embeds text, not token ids", await tokens.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("chat/completions, embeddings, responses only", await speech.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task Health_AndTestConnection_SpeakGemini_AndTheFormListsGeminisModels()
    {
        var (team, key, upstream, modelId) = await GeminiAsync();
        await using var scope = Gateway.Services.CreateAsyncScope();
        var probe = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();

        var health = await (await Gateway.Client(key).GetAsync("/health?model=gemini")).ReadJsonAsync(HttpStatusCode.OK);
        var test = await probe.TestAsync(Caller.MasterKey, modelId);
        var listed = await probe.ProviderModelsAsync(Caller.MasterKey, team, "gemini", Upstream.ApiBase("gemini", out var listing), GeminiStandIn.Key, null);

        Assert.Equal(1, health["healthy_count"]!.GetValue<int>());
        Assert.Equal(modelId, health["healthy_endpoints"]![0]!["model_id"]!.GetValue<string>());
        Assert.True(test.Succeeded, test.Message);
        Assert.All(Upstream.ReceivedBy(upstream), r => Assert.Equal(1, r.Json["generationConfig"]!["maxOutputTokens"]!.GetValue<int>()));
        Assert.Equal(["gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001"], listed);
        var list = Assert.Single(Upstream.ReceivedBy(listing));
        Assert.EndsWith("/v1beta/models", list.Path);
        Assert.Equal(GeminiStandIn.Key, list.Header("x-goog-api-key"));
    }

    [Fact]
    public async Task AnthropicSdk_OnTheMessagesRoute_ReachesGemini_ThroughChatCompletions()
    {
        var (team, key, upstream, _) = await GeminiAsync();
        var sdk = new AnthropicClient { BaseUrl = Gateway.BaseAddress.ToString().TrimEnd('/'), AuthToken = key, ApiKey = null, MaxRetries = 0 };

        var message = await sdk.Messages.Create(new MessageCreateParams
        {
            Model = "gemini", MaxTokens = 256, System = "You are a weather assistant.", Messages = [new UserMessageParam { Content = "Weather in Boston?" }],
        });

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Sunny in Boston.", text!.Text);
        Assert.Equal(21, message.Usage.InputTokens);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith(":generateContent", received.Path);
        Assert.Equal("You are a weather assistant.", received.Json["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(256, received.Json["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
        Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
    }

    [Fact]
    public async Task MessagesStream_WithTools_AsClaudeCodeSendsIt_GetsToolUseFromGemini()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        var body = AnthropicCalls.Message("gemini");
        body["stream"] = true;
        body["tools"] = JsonNode.Parse("""[{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}]""");

        using var response = await AnthropicCalls.PostAsync(Gateway, key, body);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonNode.Parse(e.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])!).ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var toolUse = events.Single(e => (string?)e["type"] == "content_block_start" && (string?)e["content_block"]!["type"] == "tool_use");
        Assert.Equal("get_weather", (string?)toolUse["content_block"]!["name"]);
        var input = string.Concat(events.Where(e => (string?)e["delta"]?["type"] == "input_json_delta").Select(e => (string?)e["delta"]!["partial_json"]));
        Assert.Equal("Boston", (string?)JsonNode.Parse(input)!["location"]);
        Assert.Equal("tool_use", (string?)events.Single(e => (string?)e["type"] == "message_delta")["delta"]!["stop_reason"]);
        Assert.EndsWith(":streamGenerateContent", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
    }

    [Fact]
    public async Task CountTokens_OnAGeminiModel_IsCountedByTheGateway_WithoutCallingGoogle()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens") { Content = JsonContent.Create(AnthropicCalls.Message("gemini")) };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        var counted = await (await Gateway.Client(null).SendAsync(request)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.True(counted["input_tokens"]!.GetValue<int>() > 0);
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task ResponsesClient_Streaming_ReachesGemini_ThroughChatCompletions()
    {
        var (_, key, upstream, _) = await GeminiAsync();
        var sdk = new ResponsesClient(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });
        var text = new StringBuilder();
        ResponseResult? completed = null;

        await foreach (var update in await sdk.CreateResponseStreamingAsync(new CreateResponseOptions
        {
            Model = "gemini", InputItems = { ResponseItem.CreateUserMessageItem("Weather?") }, StreamingEnabled = true,
        }))
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
        Assert.Equal(21, completed!.Usage.InputTokenCount);
        Assert.EndsWith(":streamGenerateContent", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
    }

    private async Task<(string Team, string Key, string Upstream, string ModelId)> GeminiAsync(
        string scenario = "gemini", string providerKey = GeminiStandIn.Key, int? order = null, string model = "gemini/gemini-2.5-flash", string name = "gemini")
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var litellmParams = new JsonObject { ["model"] = model, ["api_base"] = Upstream.ApiBase(scenario, out var upstream) };
        if (providerKey.Length > 0) litellmParams["api_key"] = providerKey;
        if (order is { } o) litellmParams["order"] = o;
        var created = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name, ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return (team, key, upstream, created["model_id"]!.GetValue<string>());
    }

    private async Task<string> AddGeminiAsync(string key, string team, string name, int? order = null)
    {
        var litellmParams = new JsonObject { ["model"] = "gemini/gemini-2.5-flash", ["api_key"] = GeminiStandIn.Key, ["api_base"] = Upstream.ApiBase("gemini", out var upstream) };
        if (order is { } o) litellmParams["order"] = o;
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name, ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();
        return upstream;
    }
}
