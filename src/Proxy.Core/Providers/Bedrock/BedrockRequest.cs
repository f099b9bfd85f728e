using System.Text.Json;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>
/// An OpenAI chat completion request as Bedrock's Converse API takes it: system messages become <c>system</c> blocks, the
/// other messages alternate user/assistant with content blocks (<c>text</c>, <c>image</c> with the bytes of a data URL,
/// <c>toolUse</c>, <c>toolResult</c>), <c>tools</c>/<c>tool_choice</c> become <c>toolConfig</c>, <c>max_tokens</c>,
/// <c>temperature</c>, <c>top_p</c> and <c>stop</c> become <c>inferenceConfig</c>, <c>user</c> becomes
/// <c>requestMetadata.user</c>. The model is in the URL, not the body. A field with no Converse meaning is a 400 that
/// names it, never dropped silently.
/// </summary>
internal static class BedrockRequest
{
    /// <summary>What is read and translated; the gateway's routing fields are read by the gateway and not sent.</summary>
    private static readonly HashSet<string> Translated =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options",
        "tools", "tool_choice", "parallel_tool_calls", "user", "n", "num_retries", "fallbacks", "context_window_fallbacks",
    ];

    /// <summary>Writes the Converse request; returns whether the client asked for a stream, and for usage in it.</summary>
    public static (bool Stream, bool IncludeUsage) Write(JsonElement request, Utf8JsonWriter w)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw ProxyError.BadRequest("The body must be a JSON object.", "body");
        }
        foreach (var property in request.EnumerateObject())
        {
            if (!Translated.Contains(property.Name))
            {
                throw Unsupported(property.Name, "it has no equivalent in Bedrock's Converse API");
            }
        }
        if (request.TryGetProperty("n", out var n) && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
        {
            throw Unsupported("n", "Bedrock answers with one choice");
        }
        if (request.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind == JsonValueKind.False)
        {
            throw Unsupported("parallel_tool_calls", "the Converse API cannot forbid parallel tool calls");
        }
        var messages = request.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array ? m
            : throw ProxyError.BadRequest("messages is required: a list of {\"role\", \"content\"}.", "messages");

        w.WriteStartObject();
        WriteSystem(messages, w);
        WriteMessages(messages, w);
        WriteInferenceConfig(request, w);
        WriteTools(request, w);
        if (request.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject("requestMetadata");
            w.WriteString("user", user.GetString());
            w.WriteEndObject();
        }
        w.WriteEndObject();
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = stream && request.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
        return (stream, includeUsage);
    }

    private static void WriteSystem(JsonElement messages, Utf8JsonWriter w)
    {
        var opened = false;
        foreach (var message in messages.EnumerateArray())
        {
            if (Role(message) is "system" or "developer" && Text(message, "system") is { Length: > 0 } text)
            {
                if (!opened)
                {
                    w.WriteStartArray("system");
                    opened = true;
                }
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteEndObject();
            }
        }
        if (opened)
        {
            w.WriteEndArray();
        }
    }

    /// <summary>Consecutive messages of one Converse role (a tool's results and the user's next words) go in one message, as Bedrock requires.</summary>
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
                "user" or "tool" => "user",
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
        if (Role(message) == "tool")
        {
            w.WriteStartObject();
            w.WriteStartObject("toolResult");
            w.WriteString("toolUseId", message.TryGetProperty("tool_call_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()
                : throw ProxyError.BadRequest($"messages[{index}].tool_call_id is required for a tool message.", $"messages[{index}].tool_call_id"));
            w.WriteStartArray("content");
            w.WriteStartObject();
            w.WriteString("text", Text(message, $"messages[{index}]"));
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
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
                w.WriteStartObject("toolUse");
                w.WriteString("toolUseId", toolCall.TryGetProperty("id", out var callId) && callId.ValueKind == JsonValueKind.String ? callId.GetString()
                    : throw ProxyError.BadRequest($"{param}.id is required.", $"{param}.id"));
                w.WriteString("name", ChatParts.FunctionName(function, param));
                w.WritePropertyName("input");
                ChatParts.WriteArguments(function, param, w);
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
    }

    /// <summary>OpenAI content parts: text, and images as data URLs (Converse takes an image's bytes, not a URL to fetch).</summary>
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
                var format = url is not null && url.StartsWith("data:image/", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is var comma and > 11
                    ? url[11..comma] : null;
                if (format is null)
                {
                    throw Unsupported($"{param}.image_url", "Bedrock takes images as data: URLs (data:image/png;base64,...), not URLs to fetch");
                }
                format = format == "jpg" ? "jpeg" : format;
                if (format is not ("png" or "jpeg" or "gif" or "webp"))
                {
                    throw Unsupported($"{param}.image_url", $"Bedrock takes png, jpeg, gif and webp images, not image/{format}");
                }
                w.WriteStartObject();
                w.WriteStartObject("image");
                w.WriteString("format", format);
                w.WriteStartObject("source");
                // Converse's JSON carries the bytes base64-encoded: the data URL's own text, unchanged.
                w.WriteString("bytes", url!.AsSpan(url!.IndexOf(";base64,", StringComparison.Ordinal) + 8));
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                throw Unsupported($"{param}.type '{type}'", "Bedrock models take text and image_url parts");
        }
    }

    private static void TextBlock(string text, Utf8JsonWriter w)
    {
        // Bedrock refuses blank text blocks; an empty string says nothing anyway.
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteInferenceConfig(JsonElement request, Utf8JsonWriter w)
    {
        var maxTokens = Integer(request, "max_completion_tokens") ?? Integer(request, "max_tokens");
        var temperature = Number(request, "temperature");
        var topP = Number(request, "top_p");
        var hasStop = request.TryGetProperty("stop", out var stop) && stop.ValueKind != JsonValueKind.Null;
        if (maxTokens is null && temperature is null && topP is null && !hasStop)
        {
            return;
        }
        w.WriteStartObject("inferenceConfig");
        if (maxTokens is { } max)
        {
            w.WriteNumber("maxTokens", max);
        }
        if (temperature is { } temp)
        {
            w.WriteNumber("temperature", temp);
        }
        if (topP is { } p)
        {
            w.WriteNumber("topP", p);
        }
        if (hasStop)
        {
            w.WriteStartArray("stopSequences");
            foreach (var sequence in stop.ValueKind == JsonValueKind.Array ? stop.EnumerateArray() : Enumerable.Repeat(stop, 1))
            {
                w.WriteStringValue(sequence.ValueKind == JsonValueKind.String ? sequence.GetString() : throw ProxyError.BadRequest("stop must be a string or a list of strings.", "stop"));
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteTools(JsonElement request, Utf8JsonWriter w)
    {
        var hasTools = request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        var hasChoice = request.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null;
        if (!hasTools)
        {
            if (hasChoice && !(choice.ValueKind == JsonValueKind.String && choice.GetString() is "none" or "auto"))
            {
                throw ProxyError.BadRequest("tool_choice needs tools: Bedrock chooses among the tools sent.", "tool_choice");
            }
            return;
        }
        if (hasChoice && choice.ValueKind == JsonValueKind.String && choice.GetString() == "none")
        {
            throw Unsupported("tool_choice", "Converse has no \"none\": leave the tools out of a call that must not use them");
        }
        w.WriteStartObject("toolConfig");
        w.WriteStartArray("tools");
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var function = tool.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f
                : throw ProxyError.BadRequest($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{...}}}}.", $"tools[{i}]");
            w.WriteStartObject();
            w.WriteStartObject("toolSpec");
            w.WriteString("name", function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()
                : throw ProxyError.BadRequest($"tools[{i}].function.name is required.", $"tools[{i}].function.name"));
            if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
            {
                w.WriteString("description", description.GetString());
            }
            w.WriteStartObject("inputSchema");
            w.WritePropertyName("json");
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
            w.WriteEndObject();
            w.WriteEndObject();
            i++;
        }
        w.WriteEndArray();
        if (hasChoice)
        {
            w.WriteStartObject("toolChoice");
            switch (choice.ValueKind)
            {
                case JsonValueKind.String when choice.GetString() == "auto":
                    w.WriteStartObject("auto");
                    w.WriteEndObject();
                    break;
                case JsonValueKind.String when choice.GetString() == "required":
                    w.WriteStartObject("any");
                    w.WriteEndObject();
                    break;
                case JsonValueKind.Object when choice.TryGetProperty("function", out var chosen) && chosen.TryGetProperty("name", out var chosenName):
                    w.WriteStartObject("tool");
                    w.WriteString("name", chosenName.GetString());
                    w.WriteEndObject();
                    break;
                default:
                    throw ProxyError.BadRequest("tool_choice must be \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");
            }
            w.WriteEndObject();
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

    private static double? Number(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw ProxyError.BadRequest($"{name} must be a number.", name)
            : null;

    private static ProxyError Unsupported(string field, string why) =>
        ProxyError.BadRequest($"{field} is not supported for bedrock models: {why}.", field.Split(' ')[0]);
}
