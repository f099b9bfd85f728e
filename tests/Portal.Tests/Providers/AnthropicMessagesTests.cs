using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using Anthropic.Models.Models;
using Portal.Tests.Infrastructure;
using static Portal.Tests.Infrastructure.AnthropicCalls;

namespace Portal.Tests.Providers;

/// <summary>
/// Anthropic's Messages API inbound on a team's Anthropic model: the official Anthropic .NET SDK calls the gateway as it
/// would call Anthropic; the gateway resolves the model for the key as on every LLM route and passes the call through
/// to the team's Anthropic deployment (the stand-in), with the team's key and only <c>model</c> rewritten. Every
/// refusal is in Anthropic's error shape.
/// </summary>
[Trait("Category", "Database")]
public sealed class AnthropicMessagesTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private const string ProviderKey = "sk-ant-team-provider-key-0002";

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    /// <summary>As Claude Code configures it: ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN (sent as Authorization: Bearer).</summary>
    private AnthropicClient Sdk(string key) => new() { BaseUrl = Gateway.BaseAddress.ToString().TrimEnd('/'), AuthToken = key, ApiKey = null, MaxRetries = 0 };

    private static MessageCreateParams Ask(string model, string text = "What's the weather like in Boston today?") => new()
    {
        Model = model,
        MaxTokens = 256,
        Messages = [new UserMessageParam { Content = text }],
    };

    [Fact]
    public async Task Sdk_Create_ReachesTheTeamsAnthropicDeployment_WithItsKey_AndIsCounted()
    {
        var (team, key, upstream) = await ClaudeAsync();

        var message = await Sdk(key).Messages.Create(Ask("claude"));

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Sunny in Boston.", text!.Text);
        Assert.Equal(21, message.Usage.InputTokens);
        Assert.Equal(9, message.Usage.OutputTokens);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.EndsWith("/v1/messages", received.Path);
        Assert.Equal(ProviderKey, received.Header("x-api-key"));
        Assert.Null(received.Header("authorization"));
        Assert.DoesNotContain(key, string.Join("\n", received.Headers.Values));
        // The SDK's own version (newer than the translation's 2023-06-01) is the caller's to choose, and passes.
        Assert.False(string.IsNullOrEmpty(received.Header("anthropic-version")));
        Assert.Equal("claude-sonnet-4-5", received.Json["model"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(9, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Sdk_Streaming_RelaysAnthropicsEvents_AndCountsStreamUsage()
    {
        var (team, key, upstream) = await ClaudeAsync();
        var text = new StringBuilder();
        var events = new List<string>();

        await foreach (var e in Sdk(key).Messages.CreateStreaming(Ask("claude")))
        {
            if (e.TryPickStart(out _)) events.Add("message_start");
            if (e.TryPickStop(out _)) events.Add("message_stop");
            if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var part))
            {
                text.Append(part!.Text);
            }
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        Assert.Equal(["message_start", "message_stop"], events);
        Assert.True(Assert.Single(Upstream.ReceivedBy(upstream)).Json["stream"]!.GetValue<bool>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(12, log["completion_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ClaudeCodesRequest_PassesThroughByteForByte_ButModel_WithOnlyAnthropicsHeaders()
    {
        var (_, key, upstream) = await ClaudeAsync();
        const string Body = """
            {"model":"claude","max_tokens":32000,"stream":true,"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"say hi","cache_control":{"type":"ephemeral"}}]}],"tools":[{"name":"Bash","description":"Run","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}],"thinking":{"type":"enabled","budget_tokens":16000},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"metadata":{"user_id":"user_abc_session_1"},"temperature":1}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14");
        request.Headers.Add("x-stainless-os", "Linux");
        request.Headers.Add("x-app", "cli");
        request.Headers.UserAgent.ParseAdd("claude-cli/2.0.0");

        var answer = await Gateway.Client(null).SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("text/event-stream", answer.Content.Headers.ContentType!.ToString());
        Assert.Contains("event: message_stop", await answer.Content.ReadAsStringAsync());
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Equal(Body.Replace("\"model\":\"claude\"", "\"model\":\"claude-sonnet-4-5\""), received.Body);
        Assert.Equal(ProviderKey, received.Header("x-api-key"));
        Assert.Equal("claude-code-20250219,interleaved-thinking-2025-05-14", received.Header("anthropic-beta"));
        Assert.Equal("2023-06-01", received.Header("anthropic-version"));
        Assert.Null(received.Header("x-stainless-os"));
        Assert.Null(received.Header("x-app"));
        Assert.Null(received.Header("user-agent"));
    }

    [Fact]
    public async Task ToolUse_RoundTrip()
    {
        var (_, key, upstream) = await ClaudeAsync();
        var client = Gateway.Client(key);
        var tools = new JsonArray(new JsonObject
        {
            ["name"] = "get_weather", ["description"] = "Weather at a place",
            ["input_schema"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["location"] = new JsonObject { ["type"] = "string" } } },
        });
        var first = await (await client.PostAsJsonAsync("/v1/messages", new JsonObject
        {
            ["model"] = "claude", ["max_tokens"] = 100, ["tools"] = tools.DeepClone(),
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Weather in Boston?" }),
        })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("tool_use", first["stop_reason"]!.GetValue<string>());
        var toolUse = first["content"]![0]!;
        Assert.Equal("get_weather", toolUse["name"]!.GetValue<string>());

        var second = await (await client.PostAsJsonAsync("/v1/messages", new JsonObject
        {
            ["model"] = "claude", ["max_tokens"] = 100, ["tools"] = tools.DeepClone(),
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "Weather in Boston?" },
                new JsonObject { ["role"] = "assistant", ["content"] = first["content"]!.DeepClone() },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = toolUse["id"]!.GetValue<string>(), ["content"] = "22 C" }),
                }),
        })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("It is 22 degrees in Boston.", second["content"]![0]!["text"]!.GetValue<string>());
        // A caller without anthropic-version gets the default one.
        Assert.All(Upstream.ReceivedBy(upstream), r => Assert.Equal("2023-06-01", r.Header("anthropic-version")));
    }

    [Fact]
    public async Task Sdk_CountTokens_IsForwarded_AndLeavesNoUsageRow()
    {
        var (team, key, upstream) = await ClaudeAsync();
        var sdk = Sdk(key);

        var count = await sdk.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "claude",
            Messages = [new UserMessageParam { Content = "What's the weather like in Boston today?" }],
        });
        await sdk.Messages.Create(Ask("claude"));

        Assert.True(count.InputTokens > 0);
        var received = Upstream.ReceivedBy(upstream).ToList();
        Assert.EndsWith("/v1/messages/count_tokens", received[0].Path);
        Assert.Equal(ProviderKey, received[0].Header("x-api-key"));
        Assert.Equal("claude-sonnet-4-5", received[0].Json["model"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1));
        // The one row is the create's: count_tokens is free at Anthropic and leaves none.
        Assert.Equal(9, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(0, log["spend"]!.GetValue<double>() - (21 * 3e-06 + 9 * 1.5e-05), 12);
    }

    [Fact]
    public async Task Sdk_ModelsList_NamesWhatTheKeyMayCall_InAnthropicsShape()
    {
        var (_, key, _) = await ClaudeAsync();

        var page = await Sdk(key).Models.List(new ModelListParams());

        Assert.Contains(page.Items, m => m.ID == "claude" && m.DisplayName == "claude");
        var raw = await Gateway.Client(key).SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "anthropic-version", "2023-06-01" } } });
        var json = await raw.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(json["has_more"]!.GetValue<bool>());
        Assert.Equal("model", json["data"]![0]!["type"]!.GetValue<string>());
        Assert.NotNull(json["first_id"]);
    }

    [Fact]
    public async Task ModelsList_WithABadKey_IsRefusedInAnthropicsShape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "anthropic-version", "2023-06-01" }, { "x-api-key", "sk-not-a-key-of-this-gateway" } } };

        await AnthropicErrorAsync(await Gateway.Client(null).SendAsync(request), HttpStatusCode.Unauthorized, "authentication_error");
        var sdkError = await Assert.ThrowsAnyAsync<Exception>(() => Sdk("sk-not-a-key-of-this-gateway").Models.List(new ModelListParams()));
        Assert.Contains("authentication_error", sdkError.Message);
    }

    [Fact]
    public async Task AnUnreachableProvider_IsAnthropicsApiError_NamingTheModel()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "gone",
            ["litellm_params"] = new JsonObject { ["model"] = "anthropic/claude-sonnet-4-5", ["api_key"] = ProviderKey, ["api_base"] = $"http://127.0.0.1:{Loopback.FreePort()}" },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).EnsureSuccessStatusCode();

        var failed = await PostAsync(Gateway, key, Message("gone"));

        Assert.Contains("gone", await AnthropicErrorAsync(failed, HttpStatusCode.BadGateway, "api_error"));
    }

    [Fact]
    public async Task AnotherTeamsModel_IsRefusedExactlyAsAMissingOne_InAnthropicsShape()
    {
        var (_, _, upstream) = await ClaudeAsync();
        var otherKey = await Gateway.GenerateKeyAsync(await Gateway.CreateTeamAsync());

        var other = await AnthropicErrorAsync(await PostAsync(Gateway, otherKey, Message("claude")), HttpStatusCode.NotFound, "not_found_error");
        var missing = await AnthropicErrorAsync(await PostAsync(Gateway, otherKey, Message("no-such-model")), HttpStatusCode.NotFound, "not_found_error");

        Assert.Equal(missing.Replace("no-such-model", "claude"), other);
        Assert.Empty(Upstream.ReceivedBy(upstream));
        var sdkError = await Assert.ThrowsAnyAsync<Exception>(() => Sdk(otherKey).Messages.Create(Ask("claude")));
        Assert.Contains("claude", sdkError.Message);
    }

    [Fact]
    public async Task MalformedOrIncompleteRequests_AreAnthropicShaped400s_AndNothingIsSent()
    {
        var (_, key, upstream) = await ClaudeAsync();

        var malformed = await Gateway.Client(key).PostAsync("/v1/messages", new StringContent("{\"model\": \"claude\", ", Encoding.UTF8, "application/json"));
        await AnthropicErrorAsync(malformed, HttpStatusCode.BadRequest, "invalid_request_error");
        var noMaxTokens = await PostAsync(Gateway, key, new JsonObject { ["model"] = "claude", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) });
        Assert.Equal("max_tokens: Field required", await AnthropicErrorAsync(noMaxTokens, HttpStatusCode.BadRequest, "invalid_request_error"));
        var noModel = await PostAsync(Gateway, key, new JsonObject { ["max_tokens"] = 5, ["messages"] = new JsonArray() });
        Assert.Equal("model: Field required", await AnthropicErrorAsync(noModel, HttpStatusCode.BadRequest, "invalid_request_error"));
        var noKey = await Gateway.Client(null).PostAsJsonAsync("/v1/messages", Message("claude"));
        await AnthropicErrorAsync(noKey, HttpStatusCode.Unauthorized, "authentication_error");
        var badKey = await PostAsync(Gateway, "sk-not-a-key-of-this-gateway", Message("claude"));
        await AnthropicErrorAsync(badKey, HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task BudgetAndRateLimitRefusals_AreAnthropicShaped()
    {
        var (team, _, upstream) = await ClaudeAsync();
        var broke = await Gateway.GenerateKeyAsync(team, new { max_budget = 0 });
        var slow = await Gateway.GenerateKeyAsync(team, new { rpm_limit = 1 });

        await AnthropicErrorAsync(await PostAsync(Gateway, broke, Message("claude")), HttpStatusCode.BadRequest, "invalid_request_error");
        (await PostAsync(Gateway, slow, Message("claude"))).EnsureSuccessStatusCode();
        var limited = await PostAsync(Gateway, slow, Message("claude"));
        await AnthropicErrorAsync(limited, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.True(limited.Headers.RetryAfter is not null);
        Assert.Single(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task ATeamAlias_ResolvesOnMessages_AsOnEveryLlmRoute()
    {
        var (team, key, upstream) = await ClaudeAsync();
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, model_aliases = new { sonnet = "claude" } })).EnsureSuccessStatusCode();

        var answer = await PostAsync(Gateway, key, Message("sonnet"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("claude-sonnet-4-5", Assert.Single(Upstream.ReceivedBy(upstream)).Json["model"]!.GetValue<string>());
        Assert.Equal("claude", Assert.Single(await Spend.Spend.LogsAsync(Gateway, team, expected: 1))["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnthropicsOwnErrors_PassThroughAsSent_529Included()
    {
        var (_, key, upstream) = await ClaudeAsync("claude529");

        var overloaded = await PostAsync(Gateway, key, Message("claude"));

        Assert.Equal("Overloaded", await AnthropicErrorAsync(overloaded, (HttpStatusCode)529, "overloaded_error"));
        Assert.NotEmpty(Upstream.ReceivedBy(upstream));
    }

    [Fact]
    public async Task ABodyOverTheLimit_IsAnthropicsRequestTooLarge()
    {
        var (_, key, upstream) = await ClaudeAsync();
        var huge = new string('a', 30_000_100);

        var refused = await PostAsync(Gateway, key, new JsonObject { ["model"] = "claude", ["max_tokens"] = 5, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = huge }) });

        await AnthropicErrorAsync(refused, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Empty(Upstream.ReceivedBy(upstream));
    }

    private async Task<(string Team, string Key, string Upstream)> ClaudeAsync(string scenario = "claude")
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "claude",
            ["litellm_params"] = new JsonObject
            {
                ["model"] = "anthropic/claude-sonnet-4-5", ["custom_llm_provider"] = "anthropic", ["api_key"] = ProviderKey,
                ["api_base"] = Upstream.ApiBase(scenario, out var upstream),
            },
            ["model_info"] = new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 3e-06, ["output_cost_per_token"] = 1.5e-05 },
        })).EnsureSuccessStatusCode();
        return (team, key, upstream);
    }
}
