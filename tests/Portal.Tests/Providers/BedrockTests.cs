using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Portal.Tests.Infrastructure;
using Caller = Proxy.Core.Access.Caller;

namespace Portal.Tests.Providers;

/// <summary>
/// A team model on Amazon Bedrock (<c>bedrock/&lt;model id&gt;</c>), called through the official OpenAI .NET SDK: the
/// gateway signs every call with SigV4 (the stand-in recomputes the signature with the secret and refuses a wrong one,
/// as AWS does), speaks Converse and ConverseStream, and answers in OpenAI's shapes; its AWS secrets are sealed, masked
/// on every read and rotated with /model/update.
/// </summary>
[Trait("Category", "Database")]
public sealed class BedrockTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const string HaikuId = "anthropic.claude-3-haiku-20240307-v1:0";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_Chat_IsSignedAndTranslatedToConverse_ModelIdWithColon()
    {
        var (team, key, upstream, _) = await BedrockAsync();

        var completion = (await Sdk(key).GetChatClient("bedrock-haiku").CompleteChatAsync(
            [new SystemChatMessage("You are a weather assistant."), new UserChatMessage("What's the weather like in Boston today?")],
            new ChatCompletionOptions { MaxOutputTokenCount = 300, Temperature = 0.5f, StopSequences = { "END" } })).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(HaikuId, completion.Model);
        Assert.Equal(BedrockStandIn.InputTokens, completion.Usage.InputTokenCount);
        Assert.Equal(BedrockStandIn.OutputTokens, completion.Usage.OutputTokenCount);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Equal($"/{upstream}/model/{HaikuId}/converse", received.Path);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={BedrockStandIn.AccessKeyId}/", received.Header("authorization"));
        var body = received.Json;
        Assert.Null(body["model"]);
        Assert.Equal("You are a weather assistant.", body["system"]![0]!["text"]!.GetValue<string>());
        var message = Assert.Single(body["messages"]!.AsArray())!;
        Assert.Equal("user", message["role"]!.GetValue<string>());
        Assert.Equal("What's the weather like in Boston today?", message["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(300, body["inferenceConfig"]!["maxTokens"]!.GetValue<int>());
        Assert.Equal(0.5, body["inferenceConfig"]!["temperature"]!.GetValue<double>(), 3);
        Assert.Equal("END", body["inferenceConfig"]!["stopSequences"]![0]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(BedrockStandIn.InputTokens, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(BedrockStandIn.OutputTokens, log["completion_tokens"]!.GetValue<int>());
        // The price table's bedrock/anthropic.claude-3-haiku-20240307-v1:0: $0.25 and $1.25 per million.
        Assert.Equal(21 * 2.5e-07 + 9 * 1.25e-06, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task CrossRegionInferenceProfile_WithSessionToken_IsSigned()
    {
        var (_, key, upstream, _) = await BedrockAsync(scenario: "bedrocksession", model: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
            extra: new JsonObject { ["aws_session_token"] = BedrockStandIn.SessionToken });

        var completion = (await Sdk(key).GetChatClient("bedrock-haiku").CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Equal($"/{upstream}/model/eu.anthropic.claude-3-7-sonnet-20250219-v1:0/converse", received.Path);
        Assert.Equal(BedrockStandIn.SessionToken, received.Header("x-amz-security-token"));
    }

    [Fact]
    public async Task BedrockApiKey_InsteadOfAwsKeys_IsSentAsABearerToken()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "bedrock-haiku",
            ["litellm_params"] = new JsonObject
            {
                ["model"] = $"bedrock/{HaikuId}", ["api_key"] = BedrockStandIn.ApiKey, ["aws_region_name"] = BedrockStandIn.Region,
                ["api_base"] = Upstream.ApiBase("bedrock", out var upstream),
            },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();

        var completion = (await Sdk(key).GetChatClient("bedrock-haiku").CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Equal($"Bearer {BedrockStandIn.ApiKey}", received.Header("authorization"));
        Assert.Null(received.Header("x-amz-date"));
    }

    [Fact]
    public async Task WrongSecret_IsRefusedByTheSignatureCheck_AsAws403InTheOpenAIEnvelope()
    {
        var (_, key, upstream, _) = await BedrockAsync(secret: "not-the-secret-wJalrXUtnFEMI/K7MDENG");

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));

        var error = await response.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        Assert.Contains("The request signature we calculated does not match", error);
        Assert.Contains("InvalidSignatureException", error);
        Assert.Single(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task OpenAISdk_Streaming_DecodesTheEventStream_IntoChunks_WithUsage()
    {
        var (team, key, upstream, _) = await BedrockAsync();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("bedrock-haiku").CompleteChatStreamingAsync([new UserChatMessage("weather?")]))
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
        Assert.Equal(BedrockStandIn.OutputTokens, usage?.OutputTokenCount);
        Assert.Equal($"/{upstream}/model/{HaikuId}/converse-stream", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(BedrockStandIn.InputTokens, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(BedrockStandIn.OutputTokens, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Streaming_IsServerSentEvents_ChunkByChunk_EndingWithDone()
    {
        var (_, key, _, _) = await BedrockAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "bedrock-haiku", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await Gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal(["Sunny in", " Boston."], chunks.Select(c => c["choices"]![0]!["delta"]?["content"]?.GetValue<string>()).Where(t => !string.IsNullOrEmpty(t)).ToList());
        Assert.Equal("stop", chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnExceptionFrameMidStream_ReachesTheClientAsAnErrorChunk()
    {
        var (_, key, _, _) = await BedrockAsync(scenario: "bedrockbroken");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "bedrock-haiku", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await Gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonNode.Parse(e.Trim()["data: ".Length..])!).ToList();

        Assert.Equal("Sunny", events[1]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        var error = events[^1]["error"]!;
        Assert.Equal("Bedrock: Too many tokens, please wait before trying again. (throttlingException)", error["message"]!.GetValue<string>());
        Assert.Equal("rate_limit_error", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tools_RoundTrip_ToolUseBecomesToolCalls_AndToolResultsGoBack()
    {
        var (_, key, upstream, _) = await BedrockAsync();
        var client = Sdk(key).GetChatClient("bedrock-haiku");
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.",
            BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}"""));
        var options = new ChatCompletionOptions { Tools = { weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("tooluse_standin_1", call.Id);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));

        var second = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Upstream.ReceivedBy(upstream);
        var spec = sent[0].Json["toolConfig"]!["tools"]![0]!["toolSpec"]!;
        Assert.Equal("get_weather", spec["name"]!.GetValue<string>());
        Assert.Equal("object", spec["inputSchema"]!["json"]!["type"]!.GetValue<string>());
        Assert.NotNull(sent[0].Json["toolConfig"]!["toolChoice"]!["any"]);
        var messages = sent[1].Json["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        Assert.Equal("tooluse_standin_1", messages[1]!["content"]![0]!["toolUse"]!["toolUseId"]!.GetValue<string>());
        var result = messages[2]!["content"]![0]!["toolResult"]!;
        Assert.Equal("tooluse_standin_1", result["toolUseId"]!.GetValue<string>());
        Assert.Equal("22 degrees, sunny", result["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streaming_ToolUse_ComesAsToolCallDeltas()
    {
        var (_, key, _, _) = await BedrockAsync();
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.", BinaryData.FromString("""{"type": "object", "properties": {}}"""));
        var arguments = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Sdk(key).GetChatClient("bedrock-haiku").CompleteChatStreamingAsync([new UserChatMessage("weather?")], new ChatCompletionOptions { Tools = { weather } }))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                name ??= tool.FunctionName;
                arguments.Append(tool.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("Boston", JsonNode.Parse(arguments.ToString())!["location"]!.GetValue<string>());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Images_GoAsConverseImageBlocks_WithTheDataUrlsBytes()
    {
        var (_, key, upstream, _) = await BedrockAsync();
        var png = Convert.ToBase64String([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);

        var completion = (await Sdk(key).GetChatClient("bedrock-haiku").CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is this?"), ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Convert.FromBase64String(png)), "image/png"))])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        var image = Assert.Single(Upstream.ReceivedBy(upstream)).Json["messages"]![0]!["content"]![1]!["image"]!;
        Assert.Equal("png", image["format"]!.GetValue<string>());
        Assert.Equal(png, image["source"]!["bytes"]!.GetValue<string>());
    }

    [Fact]
    public async Task Throttling_IsRetriedOnTheNextDeployment_AndAlone_IsA429()
    {
        var (team, key, throttled, _) = await BedrockAsync(scenario: "bedrockthrottle", order: 1);
        var ok = await AddDeploymentAsync(key, team, "bedrock", order: 2);

        var answer = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));

        Assert.Equal("Sunny in Boston.", (await answer.ReadJsonAsync(HttpStatusCode.OK))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Single(Upstream.ReceivedBy(throttled));
        Assert.Single(Upstream.ReceivedBy(ok));

        var (_, alone, _, _) = await BedrockAsync(scenario: "bedrockthrottle");
        var refused = await Gateway.Client(alone).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));
        var error = await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("Too many requests, please wait before trying again.", error);
        Assert.Contains("ThrottlingException", error);
    }

    [Fact]
    public async Task AnAnswerHeldBackForARetry_KeepsTheKindAwsNamedInItsHeader()
    {
        // Sent when a planned retry could not be made: AWS names the kind only in x-amzn-ErrorType, not in the body.
        using var throttled = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new StringContent("""{"message":"Too many requests, please wait before trying again."}""") };
        throttled.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");

        var held = await Proxy.Core.Forwarding.HeldBackAnswer.ReadAsync(throttled, 429, 64 * 1024, CancellationToken.None);
        var sent = JsonNode.Parse(Proxy.Core.Providers.Bedrock.BedrockApi.Instance.ForClient(held).Body)!;

        Assert.Equal("Bedrock: Too many requests, please wait before trying again. (ThrottlingException)", sent["error"]!["message"]!.GetValue<string>());
        Assert.Equal("rate_limit_error", sent["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServerError_IsA503_AndAValidationError_PassesWithBedrocksMessage()
    {
        var (_, key, _, _) = await BedrockAsync(scenario: "bedrock500");
        var failed = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));
        Assert.Contains("The server encountered an internal error.", await failed.ReadErrorAsync(HttpStatusCode.ServiceUnavailable));

        var (_, other, _, _) = await BedrockAsync(model: "anthropic.claude-9-nonexistent-v1:0");
        var invalid = await Gateway.Client(other).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));
        var error = await invalid.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains("The provided model identifier is invalid.", error);
        Assert.Contains("ValidationException", error);
    }

    [Fact]
    public async Task FieldsConverseCannotTake_AreRefusedByName_BeforeAnyCall()
    {
        var (_, key, upstream, _) = await BedrockAsync();
        var client = Gateway.Client(key);

        var jsonMode = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "bedrock-haiku", messages = new[] { new { role = "user", content = "hi" } }, response_format = new { type = "json_object" } });
        var imageUrl = await client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "bedrock-haiku",
            messages = new object[] { new { role = "user", content = new object[] { new { type = "image_url", image_url = new { url = "https://example.com/cat.png" } } } } },
        });
        var embeddings = await client.PostAsJsonAsync("/v1/embeddings", new { model = "bedrock-haiku", input = "hi" });

        Assert.Contains("response_format is not supported for bedrock models", await jsonMode.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("messages[0].content[0].image_url is not supported for bedrock models", await imageUrl.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Contains("chat/completions", await embeddings.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task CacheTokens_CountAsPromptTokens_AndArePricedAsCache()
    {
        var (team, key, _, _) = await BedrockAsync(scenario: "bedrockcache", model: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
            info: new JsonObject { ["input_cost_per_token"] = 3e-06, ["output_cost_per_token"] = 1.5e-05, ["cache_read_input_token_cost"] = 3e-07, ["cache_creation_input_token_cost"] = 3.75e-06 });

        var completion = (await Sdk(key).GetChatClient("bedrock-haiku").CompleteChatAsync([new UserChatMessage("hi")])).Value;

        var prompt = BedrockStandIn.InputTokens + BedrockStandIn.CacheReadTokens + BedrockStandIn.CacheWriteTokens;
        Assert.Equal(prompt, completion.Usage.InputTokenCount);
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(prompt, log["prompt_tokens"]!.GetValue<int>());
        // The log row says which provider answered and how much of the prompt came from and went to the cache.
        Assert.Equal("bedrock", log["custom_llm_provider"]!.GetValue<string>());
        Assert.Equal(BedrockStandIn.CacheReadTokens, log["cache_read_input_tokens"]!.GetValue<int>());
        Assert.Equal(BedrockStandIn.CacheWriteTokens, log["cache_creation_input_tokens"]!.GetValue<int>());
        Assert.Equal(21 * 3e-06 + 1000 * 3e-07 + 100 * 3.75e-06 + 9 * 1.5e-05, log["spend"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task Secrets_AreMaskedOnEveryRead_NeverLogged_AndRotatedWithModelUpdate()
    {
        const string secret = BedrockStandIn.SecretAccessKey;
        var (_, key, upstream, modelId) = await BedrockAsync(secret: "old-secret-that-no-longer-signs-0000000");
        Assert.Contains("InvalidSignatureException", await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"))).ReadErrorAsync(HttpStatusCode.Forbidden));

        // Rotation: only the secret is sent; the key id and region stay as stored.
        var updated = await (await Gateway.Client(key).PostAsJsonAsync("/model/update", new JsonObject
        {
            ["model_info"] = new JsonObject { ["id"] = modelId },
            ["litellm_params"] = new JsonObject { ["aws_secret_access_key"] = secret },
        })).ReadJsonAsync(HttpStatusCode.OK);
        var answer = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("bedrock-haiku"));
        await answer.ReadJsonAsync(HttpStatusCode.OK);

        var info = await (await Gateway.Client(key).GetAsync($"/model/info?litellm_model_id={modelId}")).Content.ReadAsStringAsync();
        var v2 = await (await Gateway.Client().GetAsync("/v2/model/info")).Content.ReadAsStringAsync();
        var shown = JsonNode.Parse(info)!["data"]![0]!["litellm_params"]!;
        Assert.Equal("****" + secret[^4..], shown["aws_secret_access_key"]!.GetValue<string>());
        Assert.Equal("****" + BedrockStandIn.AccessKeyId[^4..], shown["aws_access_key_id"]!.GetValue<string>());
        Assert.Equal(BedrockStandIn.Region, shown["aws_region_name"]!.GetValue<string>());
        Assert.Equal("****" + secret[^4..], updated["litellm_params"]!["aws_secret_access_key"]!.GetValue<string>());
        foreach (var text in new[] { info, v2, updated.ToJsonString(), string.Join("\n", Gateway.Logs) })
        {
            Assert.DoesNotContain(secret[..^4], text);
            Assert.DoesNotContain(BedrockStandIn.AccessKeyId[..^4], text);
            Assert.DoesNotContain("old-secret-that-no-longer", text);
        }
        Assert.Equal(2, Upstream.ReceivedBy(upstream).Count);
    }

    [Fact]
    public async Task Registration_RefusesMissingOrMisplacedCloudParams_ByName()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        async Task<string> RegisterAsync(JsonObject litellmParams) => await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "refused", ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Contains("litellm_params.aws_region_name is required for bedrock models",
            await RegisterAsync(new JsonObject { ["model"] = $"bedrock/{HaikuId}", ["aws_access_key_id"] = BedrockStandIn.AccessKeyId, ["aws_secret_access_key"] = "s" }));
        Assert.Contains("litellm_params.aws_secret_access_key is required for bedrock models",
            await RegisterAsync(new JsonObject { ["model"] = $"bedrock/{HaikuId}", ["aws_access_key_id"] = BedrockStandIn.AccessKeyId, ["aws_region_name"] = "us-east-1" }));
        Assert.Contains("litellm_params.aws_region_name 'evil.example.com/x' is not a region name",
            await RegisterAsync(new JsonObject { ["model"] = $"bedrock/{HaikuId}", ["aws_access_key_id"] = "a", ["aws_secret_access_key"] = "s", ["aws_region_name"] = "evil.example.com/x" }));
        Assert.Contains("litellm_params.aws_region_name is not used by openai models",
            await RegisterAsync(new JsonObject { ["model"] = "openai/gpt-4o", ["api_key"] = "sk-x", ["aws_region_name"] = "us-east-1" }));
        Assert.Contains("litellm_params.vertex_project is not used by bedrock models",
            await RegisterAsync(new JsonObject { ["model"] = $"bedrock/{HaikuId}", ["aws_region_name"] = "us-east-1", ["vertex_project"] = "p" }));
    }

    [Fact]
    public async Task Health_ProbesTheDeploymentWithASignedOneTokenConverseCall()
    {
        var (_, key, upstream, modelId) = await BedrockAsync();

        var health = await (await Gateway.Client(key).GetAsync("/health?model=bedrock-haiku")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, health["healthy_count"]!.GetValue<int>());
        Assert.Equal(modelId, health["healthy_endpoints"]![0]!["model_id"]!.GetValue<string>());
        Assert.Equal(1, Assert.Single(Upstream.ReceivedBy(upstream)).Json["inferenceConfig"]!["maxTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task MessagesRoute_ReachesBedrock_ThroughChatCompletions()
    {
        var (_, key, upstream, _) = await BedrockAsync();
        var client = Gateway.Client(key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");

        var answer = await (await client.PostAsJsonAsync("/v1/messages", new JsonObject
        {
            ["model"] = "bedrock-haiku", ["max_tokens"] = 100, ["system"] = "Be brief.",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "weather?" }),
        })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("message", answer["type"]!.GetValue<string>());
        Assert.Equal("Sunny in Boston.", answer["content"]![0]!["text"]!.GetValue<string>());
        var sent = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/converse", sent.Path);
        Assert.Equal("Be brief.", sent.Json["system"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task MessagesRoute_Streaming_AsCodingToolsCall_GetsAnthropicEventsFromTheEventStream()
    {
        var (team, key, upstream, _) = await BedrockAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["model"] = "bedrock-haiku", ["max_tokens"] = 100, ["stream"] = true,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "weather?" }),
            }),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await Gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("event: message_start", text);
        Assert.Contains("\"text\":\"Sunny in\"", text);
        Assert.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}", text.Trim());
        Assert.EndsWith("/converse-stream", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(BedrockStandIn.OutputTokens, log["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task ResponsesRoute_ReachesBedrock_ThroughChatCompletions()
    {
        var (_, key, upstream, _) = await BedrockAsync();

        var answer = await (await Gateway.Client(key).PostAsJsonAsync("/v1/responses", new { model = "bedrock-haiku", input = "weather?" })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("response", answer["object"]!.GetValue<string>());
        Assert.Contains("Sunny in Boston.", answer.ToJsonString());
        Assert.EndsWith("/converse", Assert.Single(Upstream.ReceivedBy(upstream)).Path);
    }

    [Fact]
    public async Task TheFormsModelList_IsTheRegionsOnDemandTextModels_AndActiveProfiles_SignedWithTheTypedKeys()
    {
        var team = await Gateway.CreateTeamAsync();
        await using var scope = Gateway.Services.CreateAsyncScope();
        var probe = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();
        var typed = new Dictionary<string, string>
        {
            ["aws_access_key_id"] = BedrockStandIn.AccessKeyId, ["aws_secret_access_key"] = BedrockStandIn.SecretAccessKey, ["aws_region_name"] = BedrockStandIn.Region,
        };

        var listed = await probe.ProviderModelsAsync(Caller.MasterKey, team, "bedrock", Upstream.ApiBase("bedrock", out var listing), null, null, typed);

        // Not the image or embedding models, nor one sold only through a profile; every page of the profiles, the legacy one left out.
        Assert.Equal(["amazon.nova-lite-v1:0", HaikuId, "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"], listed);
        var requests = Upstream.ReceivedBy(listing);
        Assert.Equal([$"/{listing}/foundation-models", $"/{listing}/inference-profiles", $"/{listing}/inference-profiles", $"/{listing}/inference-profiles"],
            requests.Select(r => r.Path));
        Assert.Equal(["?maxResults=1000", "?maxResults=1000&nextToken=1", "?maxResults=1000&nextToken=2"], requests.Skip(1).Select(r => r.Query));
        Assert.All(requests, r => Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={BedrockStandIn.AccessKeyId}/", r.Header("authorization")));
    }

    [Fact]
    public async Task TheFormsModelList_OnEdit_UsesTheStoredKeys_AndAWrongTypedSecretOrNoRegion_SaysWhy()
    {
        var (team, _, _, modelId) = await BedrockAsync();
        await using var scope = Gateway.Services.CreateAsyncScope();
        var probe = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();
        var apiBase = Upstream.ApiBase("bedrock", out _);

        var stored = await probe.ProviderModelsAsync(Caller.MasterKey, team, "bedrock", apiBase, null, modelId, new Dictionary<string, string> { ["aws_region_name"] = BedrockStandIn.Region });
        var wrong = await Assert.ThrowsAsync<Proxy.Core.ProxyError>(() => probe.ProviderModelsAsync(Caller.MasterKey, team, "bedrock", apiBase, null, modelId,
            new Dictionary<string, string> { ["aws_access_key_id"] = BedrockStandIn.AccessKeyId, ["aws_secret_access_key"] = "wrong-secret", ["aws_region_name"] = BedrockStandIn.Region }));
        var noRegion = await Assert.ThrowsAsync<Proxy.Core.ProxyError>(() => probe.ProviderModelsAsync(Caller.MasterKey, team, "bedrock", null, null, null,
            new Dictionary<string, string> { ["aws_access_key_id"] = BedrockStandIn.AccessKeyId, ["aws_secret_access_key"] = BedrockStandIn.SecretAccessKey }));

        Assert.Contains(HaikuId, stored);
        Assert.Equal(502, wrong.Status);
        Assert.Contains("answered 403 to GET", wrong.Message);
        Assert.Contains("check the credentials", wrong.Message);
        Assert.DoesNotContain("wrong-secret", wrong.Message);
        Assert.Equal((400, "litellm_params.aws_region_name"), (noRegion.Status, noRegion.Param));
    }

    [Theory]
    [InlineData("https://bedrock-runtime.eu-west-1.amazonaws.com", "https://bedrock.eu-west-1.amazonaws.com/foundation-models")]
    [InlineData("https://bedrock-runtime-fips.us-east-1.amazonaws.com", "https://bedrock-fips.us-east-1.amazonaws.com/foundation-models")]
    public void TheModelList_IsAskedOfTheControlPlane_OfTheRuntimesRegion(string runtime, string list)
    {
        var lists = Proxy.Core.Providers.Bedrock.BedrockApi.Instance.ModelLists(new Uri(runtime));

        Assert.Equal([list, list.Replace("foundation-models", "inference-profiles?maxResults=1000")], lists.Select(u => u.AbsoluteUri));
    }

    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    /// <summary>A team, its key, and a Bedrock model of it, on the stand-in's <paramref name="scenario"/>.</summary>
    private async Task<(string Team, string Key, string Upstream, string ModelId)> BedrockAsync(
        string scenario = "bedrock", string model = HaikuId, string secret = BedrockStandIn.SecretAccessKey, int? order = null, JsonObject? extra = null, JsonObject? info = null)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var litellmParams = Params(scenario, model, secret, out var upstream);
        if (order is { } o) litellmParams["order"] = o;
        foreach (var (name, value) in extra ?? [])
        {
            litellmParams[name] = value?.DeepClone();
        }
        var modelInfo = info?.DeepClone().AsObject() ?? [];
        modelInfo["team_id"] = team;
        var registered = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "bedrock-haiku", ["litellm_params"] = litellmParams, ["model_info"] = modelInfo,
        })).ReadJsonAsync(HttpStatusCode.OK);
        return (team, key, upstream, registered["model_id"]!.GetValue<string>());
    }

    private async Task<string> AddDeploymentAsync(string key, string team, string scenario, int order)
    {
        var litellmParams = Params(scenario, HaikuId, BedrockStandIn.SecretAccessKey, out var upstream);
        litellmParams["order"] = order;
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "bedrock-haiku", ["litellm_params"] = litellmParams, ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();
        return upstream;
    }

    private JsonObject Params(string scenario, string model, string secret, out string upstream) => new()
    {
        ["model"] = $"bedrock/{model}",
        ["aws_access_key_id"] = BedrockStandIn.AccessKeyId,
        ["aws_secret_access_key"] = secret,
        ["aws_region_name"] = BedrockStandIn.Region,
        ["api_base"] = Upstream.ApiBase(scenario, out upstream),
    };
}
