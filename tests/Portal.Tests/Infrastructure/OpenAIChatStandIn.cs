using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// OpenAI's chat completions as the stand-in plays it for translated calls (Anthropic's Messages and OpenAI's Responses
/// reaching an OpenAI-shaped model): it checks what OpenAI checks (a Bearer key and no other provider's, a known set of
/// top-level fields, roles, a <c>tool</c> message answering an earlier <c>tool_calls</c> id, <c>stream_options</c> only
/// with <c>stream</c>) and answers JSON or SSE as asked, the usage chunk only with <c>include_usage</c>. Offered tools,
/// it calls the first one with <see cref="ToolArguments"/> (in two argument fragments when streamed), unless the last
/// message is a tool result; then, and without tools, it answers <see cref="Answer"/> in three text chunks. The
/// <c>gptcode</c> scenario always answers text (a coding tool always offers its own tools).
/// </summary>
public static class OpenAIChatStandIn
{
    public const string Answer = "Sunny in Boston.";
    public const string ToolArguments = """{"city":"Boston"}""";
    public const int PromptTokens = 13;
    public const int CompletionTokens = 5;

    private static readonly HashSet<string> Fields =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options", "tools", "tool_choice",
        "parallel_tool_calls", "user", "n", "response_format", "seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs",
        "logit_bias", "metadata", "store", "reasoning_effort", "service_tier", "modalities", "audio", "prediction", "web_search_options",
    ];

    public static async Task AnswerAsync(HttpContext http, string scenario, string body)
    {
        if (!http.Request.Path.Value!.EndsWith("/chat/completions", StringComparison.Ordinal) || http.Request.Method != "POST")
        {
            await Error(http, 404, "invalid_request_error", $"Unknown request URL: {http.Request.Method} {http.Request.Path}.");
            return;
        }
        var authorization = http.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer sk-", StringComparison.Ordinal) || http.Request.Headers.ContainsKey("x-api-key"))
        {
            await Error(http, 401, "invalid_request_error", "Incorrect API key provided.");
            return;
        }
        var request = JsonNode.Parse(body)!.AsObject();
        if (Problem(request) is { } problem)
        {
            await Error(http, 400, "invalid_request_error", problem);
            return;
        }
        var model = request["model"]!.GetValue<string>();
        var stream = request["stream"]?.GetValue<bool>() == true;
        var includeUsage = request["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        var messages = request["messages"]!.AsArray();
        var callsTool = scenario != "gptcode" && request["tools"] is JsonArray { Count: > 0 } && messages[^1]!["role"]!.GetValue<string>() != "tool";
        var tool = callsTool ? request["tools"]![0]!["function"]!["name"]!.GetValue<string>() : null;
        var text = scenario == "gptcode" ? "Hello from the team's GPT." : Answer;
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        if (!stream)
        {
            object message = tool is null
                ? new { role = "assistant", content = text }
                : new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_standin1", type = "function", function = new { name = tool, arguments = ToolArguments } } } };
            await http.Response.WriteAsJsonAsync(new
            {
                id, @object = "chat.completion", created = 1700000000, model,
                choices = new[] { new { index = 0, message, finish_reason = tool is null ? "stop" : "tool_calls" } },
                usage = new { prompt_tokens = PromptTokens, completion_tokens = CompletionTokens, total_tokens = PromptTokens + CompletionTokens },
            });
            return;
        }
        http.Response.ContentType = "text/event-stream";
        await Chunk(http, id, model, new { role = "assistant", content = "" }, null);
        if (tool is null)
        {
            foreach (var part in new[] { text[..5], text[5..8], text[8..] })
            {
                await Chunk(http, id, model, new { content = part }, null);
            }
        }
        else
        {
            await Chunk(http, id, model, new { tool_calls = new[] { new { index = 0, id = "call_standin1", type = "function", function = new { name = tool, arguments = "" } } } }, null);
            foreach (var part in new[] { ToolArguments[..8], ToolArguments[8..] })
            {
                await Chunk(http, id, model, new { tool_calls = new[] { new { index = 0, function = new { arguments = part } } } }, null);
            }
        }
        await Chunk(http, id, model, new { }, tool is null ? "stop" : "tool_calls");
        if (includeUsage)
        {
            await Send(http, new
            {
                id, @object = "chat.completion.chunk", created = 1700000000, model, choices = Array.Empty<object>(),
                usage = new { prompt_tokens = PromptTokens, completion_tokens = CompletionTokens, total_tokens = PromptTokens + CompletionTokens },
            });
        }
        await http.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static string? Problem(JsonObject request)
    {
        if (request.Select(p => p.Key).FirstOrDefault(k => !Fields.Contains(k)) is { } unknown)
        {
            return $"Unrecognized request argument supplied: {unknown}";
        }
        if (request["model"] is not JsonValue)
        {
            return "you must provide a model parameter";
        }
        if (request["stream_options"] is not null && request["stream"]?.GetValue<bool>() != true)
        {
            return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
        }
        if (request["messages"] is not JsonArray { Count: > 0 } messages)
        {
            return "'messages' must contain at least one message.";
        }
        var callIds = new HashSet<string>();
        foreach (var message in messages.OfType<JsonObject>())
        {
            var role = message["role"]?.GetValue<string>();
            if (role is not ("system" or "developer" or "user" or "assistant" or "tool"))
            {
                return $"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.";
            }
            foreach (var call in message["tool_calls"]?.AsArray() ?? [])
            {
                callIds.Add(call!["id"]!.GetValue<string>());
            }
            if (role == "tool" && !callIds.Contains(message["tool_call_id"]?.GetValue<string>() ?? ""))
            {
                return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
            }
            if (message["content"] is JsonArray parts && parts.Any(p => p!["type"]?.GetValue<string>() is not ("text" or "image_url")))
            {
                return "Invalid content part type.";
            }
        }
        return null;
    }

    private static Task Chunk(HttpContext http, string id, string model, object delta, string? finishReason) =>
        Send(http, new { id, @object = "chat.completion.chunk", created = 1700000000, model, choices = new[] { new { index = 0, delta, finish_reason = finishReason } } });

    private static async Task Send(HttpContext http, object chunk)
    {
        await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n");
        await http.Response.Body.FlushAsync();
    }

    private static async Task Error(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { error = new { message, type, param = (string?)null, code = (string?)null } });
    }
}
