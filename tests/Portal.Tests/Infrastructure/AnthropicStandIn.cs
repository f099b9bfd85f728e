using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Anthropic's Messages API as the stand-in plays it: it checks what a real Anthropic endpoint checks (the
/// <c>x-api-key</c> and <c>anthropic-version</c> headers, <c>model</c>, <c>max_tokens</c>, alternating user/assistant
/// messages of content blocks) and answers with Anthropic's shapes: a JSON message, or the SSE event sequence with
/// <c>ping</c> events, text blocks and a <c>tool_use</c> block when the request offers tools. The <c>claudecode</c> scenario
/// answers <see cref="CodingToolAnswer"/> as text even when tools are offered (a coding tool always offers its own). The
/// <c>claudecache</c> scenario's usage has prompt-cache tokens: <see cref="CacheWriteTokens"/> written and
/// <see cref="CacheReadTokens"/> read, beside the 21 other input tokens.
/// </summary>
public static class AnthropicStandIn
{
    /// <summary>The <c>claudecode</c> scenario's answer.</summary>
    public const string CodingToolAnswer = "Hello from the team's Claude.";

    public const int CacheWriteTokens = 100;
    public const int CacheReadTokens = 1000;

    public static async Task AnswerAsync(HttpContext http, string scenario, string body)
    {
        var countTokens = http.Request.Path.Value!.EndsWith("/v1/messages/count_tokens", StringComparison.Ordinal);
        if (!(http.Request.Path.Value!.EndsWith("/v1/messages", StringComparison.Ordinal) || countTokens) || http.Request.Method != "POST")
        {
            if (http.Request.Method == "GET" && http.Request.Path.Value!.EndsWith("/v1/models", StringComparison.Ordinal))
            {
                await http.Response.WriteAsJsonAsync(new { data = new[] { new { id = "claude-sonnet-4-5", type = "model" }, new { id = "claude-haiku-4-5", type = "model" } } });
                return;
            }
            await Error(http, 404, "not_found_error", $"No route {http.Request.Path}.");
            return;
        }
        // Anthropic requires the header; which version is the caller's (the SDKs send their own, newer than the translation's).
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]))
        {
            await Error(http, 400, "invalid_request_error", "anthropic-version header is required.");
            return;
        }
        if (string.IsNullOrEmpty(http.Request.Headers["x-api-key"]) || http.Request.Headers.ContainsKey("Authorization"))
        {
            await Error(http, 401, "authentication_error", "x-api-key is required (and Authorization is not Anthropic's).");
            return;
        }
        if (scenario == "claude529")
        {
            await Error(http, 529, "overloaded_error", "Overloaded");
            return;
        }
        if (scenario == "claudelong")
        {
            await Error(http, 400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum");
            return;
        }
        var request = JsonNode.Parse(body)!.AsObject();
        if (countTokens)
        {
            // Anthropic's count: no max_tokens needed; one token per four bytes of the messages is the stand-in's tokenizer.
            await http.Response.WriteAsJsonAsync(new { input_tokens = (request["messages"]?.ToJsonString().Length ?? 0) / 4 });
            return;
        }
        if (Problem(request, scenario) is { } problem)
        {
            await Error(http, 400, "invalid_request_error", problem);
            return;
        }
        var model = request["model"]!.GetValue<string>();
        var messages = request["messages"]!.AsArray();
        var answeredTool = messages[^1]!["content"] is JsonArray last && last.Any(b => b!["type"]!.GetValue<string>() == "tool_result");
        var useTool = scenario != "claudecode" && request["tools"] is JsonArray { Count: > 0 } && !answeredTool;
        var text = scenario == "claudecode" ? CodingToolAnswer : answeredTool ? "It is 22 degrees in Boston." : "Sunny in Boston.";
        if (request["stream"]?.GetValue<bool>() == true)
        {
            await StreamAsync(http, model, text, useTool, Usage(scenario, 1));
            return;
        }
        JsonNode content = useTool
            ? new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_standin_1", ["name"] = "get_weather", ["input"] = new JsonObject { ["location"] = "Boston" } })
            : new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text });
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = "msg_standin",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = content,
            ["stop_reason"] = useTool ? "tool_use" : "end_turn",
            ["stop_sequence"] = null,
            ["usage"] = Usage(scenario, 9),
        });
    }

    /// <summary>Anthropic's <c>usage</c>: 21 input tokens, and in the <c>claudecache</c> scenario its cache tokens too.</summary>
    private static JsonObject Usage(string scenario, int outputTokens) => scenario == "claudecache"
        ? new JsonObject { ["input_tokens"] = 21, ["cache_creation_input_tokens"] = CacheWriteTokens, ["cache_read_input_tokens"] = CacheReadTokens, ["output_tokens"] = outputTokens }
        : new JsonObject { ["input_tokens"] = 21, ["output_tokens"] = outputTokens };

    /// <summary>
    /// What a real Messages endpoint would refuse. Claude Code (2.1.x) also sends a <c>system</c> message inside
    /// <c>messages</c> (its environment, after the first user turn), which Anthropic accepts: the <c>claudecode</c>
    /// scenario lets it through, the others keep refusing it so a translation that puts OpenAI's system message there
    /// instead of in <c>system</c> is still caught.
    /// </summary>
    private static string? Problem(JsonObject request, string scenario)
    {
        if (request["model"] is not JsonValue)
        {
            return "model: Field required";
        }
        if (request["max_tokens"] is not JsonValue maxTokens || maxTokens.GetValue<int>() <= 0)
        {
            return "max_tokens: Field required";
        }
        if (request["messages"] is not JsonArray { Count: > 0 } messages)
        {
            return "messages: at least one message is required";
        }
        var expected = "user";
        foreach (var message in messages)
        {
            var role = message!["role"]?.GetValue<string>();
            if (role == "system" && scenario == "claudecode")
            {
                if (message["content"] is not JsonArray { Count: > 0 } systemBlocks || systemBlocks.Any(b => b!["type"]?.GetValue<string>() != "text"))
                {
                    return "messages: a system message's content must be a non-empty list of text blocks";
                }
                continue;
            }
            if (role != expected)
            {
                return $"messages: roles must alternate between \"user\" and \"assistant\", got {role}";
            }
            if (message["content"] is JsonValue text && text.GetValueKind() == System.Text.Json.JsonValueKind.String)
            {
                // Anthropic takes a string as one text block.
            }
            else if (message["content"] is not JsonArray { Count: > 0 } blocks || blocks.Any(b => b!["type"]?.GetValue<string>() is not ("text" or "image" or "tool_use" or "tool_result")))
            {
                return "messages: content must be a non-empty list of blocks";
            }
            expected = role == "user" ? "assistant" : "user";
        }
        if (request.Select(p => p.Key).FirstOrDefault(k => k is "stream_options" or "n" or "parallel_tool_calls" or "max_completion_tokens" or "user" or "fallbacks") is { } openAIOnly)
        {
            return $"{openAIOnly}: Extra inputs are not permitted";
        }
        return null;
    }

    private static async Task StreamAsync(HttpContext http, string model, string text, bool useTool, JsonObject usage)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        async Task Send(string type, JsonObject data)
        {
            data["type"] = type;
            // Written in two pieces: a client must put an event together across reads.
            var wire = $"event: {type}\ndata: {data.ToJsonString()}\n\n";
            await http.Response.WriteAsync(wire[..(wire.Length / 2)]);
            await http.Response.Body.FlushAsync();
            await http.Response.WriteAsync(wire[(wire.Length / 2)..]);
            await http.Response.Body.FlushAsync();
        }
        await Send("message_start", new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["id"] = "msg_standin_stream", ["type"] = "message", ["role"] = "assistant", ["content"] = new JsonArray(), ["model"] = model,
                ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = usage,
            },
        });
        await Send("ping", []);
        if (useTool)
        {
            await Send("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            await Send("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = "Let me check." } });
            await Send("content_block_stop", new JsonObject { ["index"] = 0 });
            await Send("content_block_start", new JsonObject
            {
                ["index"] = 1, ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_standin_2", ["name"] = "get_weather", ["input"] = new JsonObject() },
            });
            await Send("content_block_delta", new JsonObject { ["index"] = 1, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "{\"location\": \"Bos" } });
            await Send("content_block_delta", new JsonObject { ["index"] = 1, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "ton\"}" } });
            await Send("content_block_stop", new JsonObject { ["index"] = 1 });
        }
        else
        {
            await Send("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            var half = text.Length / 2;
            await Send("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text[..half] } });
            await Send("ping", []);
            await Send("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text[half..] } });
            await Send("content_block_stop", new JsonObject { ["index"] = 0 });
        }
        await Send("message_delta", new JsonObject
        {
            ["delta"] = new JsonObject { ["stop_reason"] = useTool ? "tool_use" : "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = 12 },
        });
        await Send("message_stop", []);
    }

    private static async Task Error(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { type = "error", error = new { type, message } });
    }
}
