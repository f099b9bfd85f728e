using System.Text.Json;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>
/// An OpenAI chat completion request as Anthropic's Messages API takes it: system messages become <c>system</c>, the
/// other messages alternate user/assistant with content blocks (text, images, <c>tool_use</c>, <c>tool_result</c>),
/// <c>tools</c>/<c>tool_choice</c>/<c>stop</c>/<c>user</c> get Anthropic's names, and <c>max_tokens</c> (which Anthropic
/// requires) gets <see cref="DefaultMaxTokens"/> when the client sent none. A field with no Anthropic meaning is a 400
/// that names it, never dropped silently.
/// </summary>
internal static class AnthropicRequest
{
    /// <summary>Anthropic requires max_tokens; OpenAI does not. A client that sends none gets this many.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>What is read and translated; the gateway's routing fields are read by the gateway and not sent.</summary>
    private static readonly HashSet<string> Translated =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "stream", "stream_options",
        "tools", "tool_choice", "parallel_tool_calls", "user", "n", "num_retries", "fallbacks", "context_window_fallbacks",
    ];

    /// <summary>Writes the Messages request; returns whether the client asked for usage in its stream.</summary>
    /// <param name="vertexVersion">Claude on Vertex AI: the body names no model (the URL does) but this <c>anthropic_version</c>.</param>
    public static bool Write(JsonElement request, string model, Utf8JsonWriter w, string? vertexVersion = null)
    {
        foreach (var property in request.EnumerateObject())
        {
            if (!Translated.Contains(property.Name))
            {
                throw Unsupported(property.Name, "it has no equivalent in Anthropic's Messages API");
            }
        }
        if (request.TryGetProperty("n", out var n) && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
        {
            throw Unsupported("n", "Anthropic answers with one choice");
        }
        var messages = request.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array ? m
            : throw ProxyError.BadRequest("messages is required: a list of {\"role\", \"content\"}.", "messages");

        w.WriteStartObject();
        if (vertexVersion is null)
        {
            w.WriteString("model", model);
        }
        else
        {
            w.WriteString("anthropic_version", vertexVersion);
        }
        w.WriteNumber("max_tokens", Integer(request, "max_completion_tokens") ?? Integer(request, "max_tokens") ?? DefaultMaxTokens);
        WriteSystem(messages, w);
        WriteMessages(messages, w);
        Copy(request, "temperature", w);
        Copy(request, "top_p", w);
        Copy(request, "top_k", w);
        if (request.TryGetProperty("stop", out var stop) && stop.ValueKind != JsonValueKind.Null)
        {
            w.WriteStartArray("stop_sequences");
            foreach (var sequence in stop.ValueKind == JsonValueKind.Array ? stop.EnumerateArray() : Enumerable.Repeat(stop, 1))
            {
                w.WriteStringValue(sequence.ValueKind == JsonValueKind.String ? sequence.GetString() : throw ProxyError.BadRequest("stop must be a string or a list of strings.", "stop"));
            }
            w.WriteEndArray();
        }
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (stream)
        {
            w.WriteBoolean("stream", true);
        }
        WriteTools(request, w);
        if (request.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject("metadata");
            w.WriteString("user_id", user.GetString());
            w.WriteEndObject();
        }
        w.WriteEndObject();
        return stream && request.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
    }

    private static void WriteSystem(JsonElement messages, Utf8JsonWriter w)
    {
        var system = messages.EnumerateArray().Where(m => Role(m) is "system" or "developer").Select(m => Text(m, "system")).Where(t => t.Length > 0).ToList();
        if (system.Count > 0)
        {
            w.WriteString("system", string.Join("\n\n", system));
        }
    }

    /// <summary>Consecutive messages of one Anthropic role (a tool's results and the user's next words) go in one message.</summary>
    private static void WriteMessages(JsonElement messages, Utf8JsonWriter w)
    {
        w.WriteStartArray("messages");
        var turns = new Turns(w, "content");
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var role = Role(message) switch
            {
                "system" or "developer" => null,
                "user" or "tool" or "function" => "user",
                "assistant" => "assistant",
                var other => throw ProxyError.BadRequest($"messages[{index}].role '{other}' is not one of system, developer, user, assistant, tool.", $"messages[{index}].role"),
            };
            if (role is not null)
            {
                turns.Join(role);
                WriteBlocks(message, index, w);
            }
            index++;
        }
        turns.Close();
        w.WriteEndArray();
    }

    private static void WriteBlocks(JsonElement message, int index, Utf8JsonWriter w)
    {
        if (Role(message) is "tool" or "function")
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_result");
            w.WriteString("tool_use_id", message.TryGetProperty("tool_call_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()
                : throw ProxyError.BadRequest($"messages[{index}].tool_call_id is required for a tool message.", $"messages[{index}].tool_call_id"));
            w.WriteString("content", Text(message, $"messages[{index}]"));
            w.WriteEndObject();
            return;
        }
        if (message.TryGetProperty("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                TextBlock(content.GetString()!, w);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var part = 0;
                foreach (var item in content.EnumerateArray())
                {
                    WritePart(item, $"messages[{index}].content[{part++}]", w);
                }
            }
        }
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var call = 0;
            foreach (var toolCall in calls.EnumerateArray())
            {
                var param = $"messages[{index}].tool_calls[{call++}]";
                var function = ChatParts.Function(toolCall, param);
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", toolCall.TryGetProperty("id", out var callId) ? callId.GetString() : $"toolu_{Guid.NewGuid():N}");
                w.WriteString("name", ChatParts.FunctionName(function, param));
                w.WritePropertyName("input");
                ChatParts.WriteArguments(function, param, w);
                w.WriteEndObject();
            }
        }
    }

    /// <summary>OpenAI content parts: text, and images by data URL (base64) or by http(s) URL.</summary>
    private static void WritePart(JsonElement part, string param, Utf8JsonWriter w)
    {
        var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text":
                TextBlock(part.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "", w);
                break;
            case "image_url":
                var url = ChatParts.ImageUrl(part);
                w.WriteStartObject();
                w.WriteString("type", "image");
                w.WriteStartObject("source");
                if (url is not null && url.StartsWith("data:", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is var comma and > 5)
                {
                    w.WriteString("type", "base64");
                    w.WriteString("media_type", url[5..comma]);
                    w.WriteString("data", url[(comma + 8)..]);
                }
                else if (url is not null && (url.StartsWith("https://", StringComparison.Ordinal) || url.StartsWith("http://", StringComparison.Ordinal)))
                {
                    w.WriteString("type", "url");
                    w.WriteString("url", url);
                }
                else
                {
                    throw ProxyError.BadRequest($"{param}.image_url.url must be a data: URL (base64) or an http(s) URL.", $"{param}.image_url");
                }
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                throw Unsupported($"{param}.type '{type}'", "Anthropic models take text and image_url parts");
        }
    }

    private static void TextBlock(string text, Utf8JsonWriter w)
    {
        // Anthropic refuses empty text blocks; an empty string says nothing anyway.
        if (text.Length == 0)
        {
            return;
        }
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteTools(JsonElement request, Utf8JsonWriter w)
    {
        if (request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            w.WriteStartArray("tools");
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var function = tool.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f
                    : throw ProxyError.BadRequest($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{...}}}}.", $"tools[{i}]");
                w.WriteStartObject();
                w.WriteString("name", function.TryGetProperty("name", out var name) ? name.GetString() : throw ProxyError.BadRequest($"tools[{i}].function.name is required.", $"tools[{i}].function.name"));
                if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    w.WriteString("description", description.GetString());
                }
                w.WritePropertyName("input_schema");
                if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                {
                    parameters.WriteTo(w);
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteString("type", "object");
                    w.WriteStartObject("properties");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                i++;
            }
            w.WriteEndArray();
        }
        var parallel = !(request.TryGetProperty("parallel_tool_calls", out var p) && p.ValueKind == JsonValueKind.False);
        if (!request.TryGetProperty("tool_choice", out var choice) && parallel)
        {
            return;
        }
        w.WriteStartObject("tool_choice");
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined:
            case JsonValueKind.String when choice.GetString() == "auto":
                w.WriteString("type", "auto");
                break;
            case JsonValueKind.String when choice.GetString() == "required":
                w.WriteString("type", "any");
                break;
            case JsonValueKind.String when choice.GetString() == "none":
                w.WriteString("type", "none");
                break;
            case JsonValueKind.Object when choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var name):
                w.WriteString("type", "tool");
                w.WriteString("name", name.GetString());
                break;
            default:
                throw ProxyError.BadRequest("tool_choice must be \"auto\", \"required\", \"none\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");
        }
        if (!parallel)
        {
            w.WriteBoolean("disable_parallel_tool_use", true);
        }
        w.WriteEndObject();
    }

    private static string? Role(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String ? role.GetString()
        : throw ProxyError.BadRequest("Each message needs a role (system, user, assistant or tool).", "messages");

    /// <summary>A message's content as text: a string, or its text parts joined.</summary>
    private static string Text(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }
        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!,
            JsonValueKind.Array => string.Join("\n", content.EnumerateArray()
                .Select(p => p.TryGetProperty("type", out var t) && t.GetString() == "text" && p.TryGetProperty("text", out var text) ? text.GetString()
                    : throw Unsupported($"{param}.content part", "this message takes text parts only"))),
            _ => throw ProxyError.BadRequest($"{param}.content must be a string or a list of parts.", $"{param}.content"),
        };
    }

    private static int? Integer(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0 ? n
                : throw ProxyError.BadRequest($"{name} must be a positive whole number.", name)
            : null;

    private static void Copy(JsonElement request, string name, Utf8JsonWriter w)
    {
        if (request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
    }

    private static ProxyError Unsupported(string field, string why) =>
        ProxyError.BadRequest($"{field} is not supported for anthropic models: {why}.", field.Split(' ')[0]);
}
