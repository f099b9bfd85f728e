using System.Text.Json;

namespace Proxy.Core.Dialects.Messages;

/// <summary>
/// An Anthropic Messages request as a chat completions request, for a model an OpenAI-shaped provider serves.
/// <c>system</c> becomes a leading system message; content blocks become chat content (text, images as
/// <c>image_url</c>), an assistant's <c>tool_use</c> blocks its <c>tool_calls</c>, a user's <c>tool_result</c> blocks
/// <c>tool</c> messages ahead of the rest of that user message; <c>tools</c>, <c>tool_choice</c>,
/// <c>stop_sequences</c> and <c>metadata.user_id</c> get chat's names; a stream always asks for usage, which the
/// gateway counts.
/// <para>
/// Dropped, because the answer means the same without them: <c>cache_control</c> anywhere (a caching hint; OpenAI-shaped
/// providers cache by themselves), <c>thinking</c> (a reasoning budget: the model answers, without Anthropic's thinking
/// blocks), <c>thinking</c> and <c>redacted_thinking</c> blocks in the history (chat has no such input),
/// <c>context_management</c> (Anthropic clearing old tool results on its side, to save context), <c>output_config.effort</c>
/// (how hard the model thinks, a hint like <c>thinking</c>), <c>metadata</c> other
/// than <c>user_id</c>, <c>service_tier</c>, <c>citations</c> on text blocks, unknown fields of a custom tool, and the
/// gateway's routing fields (read by the gateway).
/// </para>
/// <para>
/// Refused with a 400 that names the field, because dropping it would change the answer: <c>top_k</c> (a sampling
/// limit chat has no equivalent for), Anthropic's server tools (web search, bash, code execution… run by Anthropic),
/// <c>document</c>, <c>search_result</c> and server tool blocks, images by file id, <c>container</c>,
/// <c>mcp_servers</c>, <c>output_config.format</c> (a structured-output schema), and any top-level field not named here.
/// </para>
/// </summary>
internal static class MessagesRequest
{
    /// <summary>Read and translated below (<c>top_k</c> only to refuse it when it is set).</summary>
    private static readonly HashSet<string> Translated =
    [
        "model", "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "stream", "tools", "tool_choice", "metadata",
        "output_config",
    ];

    /// <summary>Not sent: see the class summary for why each keeps the meaning. The last three are the gateway's routing fields.</summary>
    private static readonly HashSet<string> Dropped =
    [
        "thinking", "context_management", "service_tier", "cache_control", "num_retries", "fallbacks", "context_window_fallbacks",
    ];

    /// <summary>Writes the chat completions request for <paramref name="model"/> (the provider's name); returns whether it is streamed.</summary>
    public static bool WriteChat(JsonElement request, string model, Utf8JsonWriter w)
    {
        // Refusals name the model as the caller asked for it.
        var asked = request.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
        foreach (var property in request.EnumerateObject())
        {
            if (!Translated.Contains(property.Name) && !Dropped.Contains(property.Name))
            {
                throw Unsupported(property.Name, asked, "chat completions has no equivalent");
            }
        }
        if (Present(request, "top_k"))
        {
            throw Unsupported("top_k", asked, "it limits sampling in a way chat completions cannot; leave it out");
        }
        if (request.TryGetProperty("output_config", out var output) && output.ValueKind == JsonValueKind.Object
            && output.EnumerateObject().FirstOrDefault(p => p.Name != "effort") is { Value.ValueKind: not JsonValueKind.Undefined } other)
        {
            // effort (how hard the model thinks) is a hint like thinking; a format would shape the answer.
            throw Unsupported($"output_config.{other.Name}", asked, "chat completions has no equivalent");
        }
        var messages = request.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array ? list
            : throw ProxyError.BadRequest("messages is required: a list of {\"role\", \"content\"}.", "messages");

        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteStartArray("messages");
        WriteSystem(request, asked, w);
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            WriteMessage(message, $"messages[{index++}]", asked, w);
        }
        w.WriteEndArray();
        Copy(request, "max_tokens", w);
        Copy(request, "temperature", w);
        Copy(request, "top_p", w);
        if (request.TryGetProperty("stop_sequences", out var stop) && stop.ValueKind == JsonValueKind.Array && stop.GetArrayLength() > 0)
        {
            w.WritePropertyName("stop");
            stop.WriteTo(w);
        }
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (stream)
        {
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
        }
        WriteTools(request, asked, w);
        if (request.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("user_id", out var user) && user.ValueKind == JsonValueKind.String)
        {
            w.WriteString("user", user.GetString());
        }
        w.WriteEndObject();
        return stream;
    }

    private static void WriteSystem(JsonElement request, string asked, Utf8JsonWriter w)
    {
        if (!Present(request, "system"))
        {
            return;
        }
        var system = Text(request.GetProperty("system"), "system", asked);
        if (system.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("role", "system");
            w.WriteString("content", system);
            w.WriteEndObject();
        }
    }

    private static void WriteMessage(JsonElement message, string param, string asked, Utf8JsonWriter w)
    {
        var role = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        var content = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) ? c
            : throw ProxyError.BadRequest($"{param}.content is required.", $"{param}.content");
        switch (role)
        {
            case "user":
                WriteUser(content, param, asked, w);
                break;
            case "assistant":
                WriteAssistant(content, param, asked, w);
                break;
            case "system":
                // Claude Code sends its environment as a system message between turns, which Anthropic accepts; chat does too.
                Message(w, "system", Text(content, $"{param}.content", asked));
                break;
            default:
                throw ProxyError.BadRequest($"{param}.role must be \"user\", \"assistant\" or \"system\".", $"{param}.role");
        }
    }

    /// <summary>
    /// Tool results first, one <c>tool</c> message each, as chat wants them right after the assistant's tool calls;
    /// then the user's own text and images, with any image a tool returned (a <c>tool</c> message takes text only).
    /// </summary>
    private static void WriteUser(JsonElement content, string param, string asked, Utf8JsonWriter w)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            Message(w, "user", content.GetString()!);
            return;
        }
        var parts = new List<(JsonElement Block, string Param)>();
        var index = 0;
        foreach (var block in Blocks(content, param))
        {
            var blockParam = $"{param}.content[{index++}]";
            switch (TypeOf(block))
            {
                case "text" or "image":
                    parts.Add((block, blockParam));
                    break;
                case "tool_result":
                    WriteToolResult(block, blockParam, parts, asked, w);
                    break;
                case var type:
                    throw Unsupported(blockParam, asked, $"'{type}' blocks have no chat completions equivalent");
            }
        }
        if (parts.Count == 0)
        {
            return;
        }
        if (parts.All(p => TypeOf(p.Block) == "text"))
        {
            // One string rather than a list of text parts: every OpenAI-shaped provider takes that.
            Message(w, "user", string.Join("\n", parts.Select(p => TextOf(p.Block, p.Param))));
            return;
        }
        w.WriteStartObject();
        w.WriteString("role", "user");
        w.WriteStartArray("content");
        foreach (var (block, blockParam) in parts)
        {
            w.WriteStartObject();
            if (TypeOf(block) == "text")
            {
                w.WriteString("type", "text");
                w.WriteString("text", TextOf(block, blockParam));
            }
            else
            {
                w.WriteString("type", "image_url");
                w.WriteStartObject("image_url");
                w.WriteString("url", ImageUrl(block, blockParam, asked));
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A <c>tool</c> message with the result's text; an error's text says so itself, chat has no flag for it.</summary>
    private static void WriteToolResult(JsonElement block, string param, List<(JsonElement, string)> images, string asked, Utf8JsonWriter w)
    {
        var id = block.TryGetProperty("tool_use_id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()
            : throw ProxyError.BadRequest($"{param}.tool_use_id is required.", $"{param}.tool_use_id");
        var text = "";
        if (block.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString()!;
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            var texts = new List<string>();
            var index = 0;
            foreach (var part in content.EnumerateArray())
            {
                var partParam = $"{param}.content[{index++}]";
                switch (TypeOf(part))
                {
                    case "text":
                        texts.Add(TextOf(part, partParam));
                        break;
                    case "image":
                        images.Add((part, partParam));
                        break;
                    case var type:
                        throw Unsupported(partParam, asked, $"'{type}' blocks have no chat completions equivalent");
                }
            }
            text = string.Join("\n", texts);
        }
        w.WriteStartObject();
        w.WriteString("role", "tool");
        w.WriteString("tool_call_id", id);
        w.WriteString("content", text);
        w.WriteEndObject();
    }

    /// <summary>Text, then the tool calls (chat keeps no order between them); thinking is dropped, an empty turn left out.</summary>
    private static void WriteAssistant(JsonElement content, string param, string asked, Utf8JsonWriter w)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            Message(w, "assistant", content.GetString()!);
            return;
        }
        var texts = new List<string>();
        var calls = new List<(JsonElement Block, string Param)>();
        var index = 0;
        foreach (var block in Blocks(content, param))
        {
            var blockParam = $"{param}.content[{index++}]";
            switch (TypeOf(block))
            {
                case "text":
                    texts.Add(TextOf(block, blockParam));
                    break;
                case "tool_use":
                    calls.Add((block, blockParam));
                    break;
                case "thinking" or "redacted_thinking":
                    break;
                case var type:
                    throw Unsupported(blockParam, asked, $"'{type}' blocks have no chat completions equivalent");
            }
        }
        var text = string.Join("\n", texts);
        if (text.Length == 0 && calls.Count == 0)
        {
            return;
        }
        w.WriteStartObject();
        w.WriteString("role", "assistant");
        if (text.Length == 0)
        {
            w.WriteNull("content");
        }
        else
        {
            w.WriteString("content", text);
        }
        if (calls.Count > 0)
        {
            w.WriteStartArray("tool_calls");
            foreach (var (call, callParam) in calls)
            {
                w.WriteStartObject();
                w.WriteString("id", String(call, "id", callParam));
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", String(call, "name", callParam));
                w.WriteString("arguments", call.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static string ImageUrl(JsonElement image, string param, string asked)
    {
        var source = image.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.Object ? s
            : throw ProxyError.BadRequest($"{param}.source is required.", $"{param}.source");
        return TypeOf(source) switch
        {
            "base64" => $"data:{String(source, "media_type", param)};base64,{String(source, "data", param)}",
            "url" => String(source, "url", param),
            var type => throw Unsupported($"{param}.source", asked, $"an image by '{type}' cannot be passed on; send it as base64 or by URL"),
        };
    }

    /// <summary>Custom tools as functions; Anthropic's server tools run at Anthropic only.</summary>
    private static void WriteTools(JsonElement request, string asked, Utf8JsonWriter w)
    {
        var hasTools = request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (hasTools)
        {
            w.WriteStartArray("tools");
            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{index++}]";
                if (TypeOf(tool) is { } type and not "custom")
                {
                    throw Unsupported(param, asked, $"'{type}' is one of Anthropic's server tools, which only Anthropic runs");
                }
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", String(tool, "name", param));
                if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    w.WriteString("description", description.GetString());
                }
                w.WritePropertyName("parameters");
                if (tool.TryGetProperty("input_schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                {
                    schema.WriteTo(w);
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
            }
            w.WriteEndArray();
        }
        if (!request.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        w.WritePropertyName("tool_choice");
        switch (TypeOf(choice))
        {
            case "auto":
                w.WriteStringValue("auto");
                break;
            case "any":
                w.WriteStringValue("required");
                break;
            case "none":
                w.WriteStringValue("none");
                break;
            case "tool":
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", String(choice, "name", "tool_choice"));
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                throw ProxyError.BadRequest("tool_choice.type must be \"auto\", \"any\", \"tool\" or \"none\".", "tool_choice");
        }
        // OpenAI refuses parallel_tool_calls without tools.
        if (hasTools && choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
        {
            w.WriteBoolean("parallel_tool_calls", false);
        }
    }

    private static void Message(Utf8JsonWriter w, string role, string content)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    /// <summary>A string, or the text blocks of a list joined (system prompts and tool results come as either).</summary>
    private static string Text(JsonElement content, string param, string asked)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        var texts = new List<string>();
        var index = 0;
        foreach (var block in Blocks(content, param))
        {
            var blockParam = $"{param}[{index++}]";
            texts.Add(TypeOf(block) == "text" ? TextOf(block, blockParam) : throw Unsupported(blockParam, asked, $"only text blocks can be passed on here, not '{TypeOf(block)}'"));
        }
        return string.Join("\n", texts);
    }

    private static JsonElement.ArrayEnumerator Blocks(JsonElement content, string param) =>
        content.ValueKind == JsonValueKind.Array ? content.EnumerateArray()
        : throw ProxyError.BadRequest($"{param} must be a string or a list of content blocks.", param);

    private static string? TypeOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    private static string TextOf(JsonElement block, string param) => String(block, "text", param);

    private static string String(JsonElement element, string name, string param) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw ProxyError.BadRequest($"{param}.{name} is required, as a string.", $"{param}.{name}");

    private static bool Present(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A field chat knows by the same name and meaning.</summary>
    private static void Copy(JsonElement request, string name, Utf8JsonWriter w)
    {
        if (Present(request, name))
        {
            w.WritePropertyName(name);
            request.GetProperty(name).WriteTo(w);
        }
    }

    private static ProxyError Unsupported(string param, string model, string why) =>
        ProxyError.BadRequest($"{param} is not supported when model {model} is served by an OpenAI-shaped provider: {why}.", param);
}
