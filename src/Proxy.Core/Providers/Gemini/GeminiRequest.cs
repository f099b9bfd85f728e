using System.Text.Json;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// An OpenAI chat completion request as Gemini's <c>generateContent</c> takes it: system (and developer) messages become
/// <c>systemInstruction</c>, the others <c>contents</c> of role <c>user</c> or <c>model</c> with parts (text, images as
/// <c>inlineData</c>, <c>functionCall</c>, <c>functionResponse</c> named after the call it answers), <c>tools</c> become
/// <c>functionDeclarations</c>, <c>tool_choice</c> <c>toolConfig</c>, and the sampling fields <c>generationConfig</c>.
/// A field with no Gemini meaning is a 400 that names it, never dropped silently.
/// </summary>
internal static class GeminiRequest
{
    /// <summary>What is read and translated; the gateway's routing fields are read by the gateway and not sent.</summary>
    private static readonly HashSet<string> Translated =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "stream", "stream_options", "n", "seed",
        "presence_penalty", "frequency_penalty", "response_format", "reasoning_effort", "tools", "tool_choice", "parallel_tool_calls", "user",
        "num_retries", "fallbacks", "context_window_fallbacks",
    ];

    /// <summary>Writes the <c>generateContent</c> request; what the answer's translation needs to know comes back (its length is the caller's to fill).</summary>
    public static UpstreamBody Write(JsonElement request, Utf8JsonWriter w)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw ProxyError.BadRequest("The body must be a JSON object.", null);
        }
        foreach (var property in request.EnumerateObject())
        {
            // null, or logprobs: false, asks for nothing (some client libraries send them always).
            if (!Translated.Contains(property.Name) && property.Value.ValueKind != JsonValueKind.Null
                && !(property.Value.ValueKind == JsonValueKind.False && property.Name == "logprobs"))
            {
                throw Unsupported(property.Name, "the gateway has no translation of it to Gemini's generateContent");
            }
        }
        var messages = request.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array && m.GetArrayLength() > 0 ? m
            : throw ProxyError.BadRequest("messages is required: a list of {\"role\", \"content\"}.", "messages");

        w.WriteStartObject();
        WriteSystem(messages, w);
        WriteContents(messages, w);
        WriteTools(request, w);
        WriteGenerationConfig(request, w);
        w.WriteEndObject();

        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = stream && request.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
        var asked = request.TryGetProperty("parallel_tool_calls", out var p) && p.ValueKind == JsonValueKind.False ? GeminiAsked.OneToolCall : GeminiAsked.None;
        return new UpstreamBody(0, includeUsage, stream, Asked: (int)asked);
    }

    private static void WriteSystem(JsonElement messages, Utf8JsonWriter w)
    {
        var open = false;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (Role(message, index) is "system" or "developer" && Text(message, $"messages[{index}]") is { Length: > 0 } text)
            {
                if (!open)
                {
                    w.WriteStartObject("systemInstruction");
                    w.WriteStartArray("parts");
                    open = true;
                }
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteEndObject();
            }
            index++;
        }
        if (open)
        {
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// Consecutive messages of one Gemini role go in one content (a turn's function responses must be together). A tool
    /// message's <c>functionResponse</c> is named after the function of the assistant's call with its <c>tool_call_id</c>.
    /// </summary>
    private static void WriteContents(JsonElement messages, Utf8JsonWriter w)
    {
        w.WriteStartArray("contents");
        var turns = new Turns(w, "parts");
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var role = Role(message, index) switch
            {
                "system" or "developer" => null,
                "user" or "tool" or "function" => "user",
                "assistant" => "model",
                var other => throw ProxyError.BadRequest($"messages[{index}].role '{other}' is not one of system, developer, user, assistant, tool.", $"messages[{index}].role"),
            };
            if (role is not null && HasParts(message))
            {
                turns.Join(role);
                WriteParts(messages, message, index, w);
            }
            index++;
        }
        if (!turns.Any)
        {
            throw ProxyError.BadRequest("messages must hold at least one user or assistant message with content: Gemini answers a conversation, not a system prompt alone.", "messages");
        }
        turns.Close();
        w.WriteEndArray();
    }

    /// <summary>Gemini refuses a content without parts and a part with empty text: such a message says nothing and is left out.</summary>
    private static bool HasParts(JsonElement message) =>
        Role(message, 0) is "tool" or "function"
        || (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
        || (message.TryGetProperty("content", out var content) && content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!.Length > 0,
            JsonValueKind.Array => content.GetArrayLength() > 0,
            _ => false,
        });

    private static void WriteParts(JsonElement messages, JsonElement message, int index, Utf8JsonWriter w)
    {
        var role = Role(message, index);
        if (role is "tool" or "function")
        {
            var name = role == "function" ? String(message, "name", $"messages[{index}]") : FunctionOf(messages, message, index);
            w.WriteStartObject();
            w.WriteStartObject("functionResponse");
            w.WriteString("name", name);
            // Gemini wants an object; OpenAI's tool result is text, which LiteLLM also sends as {"content": text}.
            w.WriteStartObject("response");
            w.WriteString("content", Text(message, $"messages[{index}]"));
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        if (message.TryGetProperty("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                TextPart(content.GetString()!, w);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var part = 0;
                foreach (var item in content.EnumerateArray())
                {
                    WritePart(item, $"messages[{index}].content[{part++}]", w);
                }
            }
            else if (content.ValueKind != JsonValueKind.Null)
            {
                throw ProxyError.BadRequest($"messages[{index}].content must be a string or a list of parts.", $"messages[{index}].content");
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
                w.WriteStartObject("functionCall");
                w.WriteString("name", ChatParts.FunctionName(function, param));
                w.WritePropertyName("args");
                ChatParts.WriteArguments(function, param, w);
                w.WriteEndObject();
                if (toolCall.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    && id.GetString() is { } callId && callId.IndexOf(GeminiShape.ThoughtSignatureSeparator, StringComparison.Ordinal) is var at and >= 0)
                {
                    // The signature Gemini gave this call (GeminiShape.ToolCallId) goes back beside it.
                    w.WriteString("thoughtSignature", callId.AsSpan(at + GeminiShape.ThoughtSignatureSeparator.Length));
                }
                w.WriteEndObject();
            }
        }
    }

    /// <summary>The function a tool message answers: the one the earlier assistant call with its <c>tool_call_id</c> named.</summary>
    private static string FunctionOf(JsonElement messages, JsonElement message, int index)
    {
        var id = message.TryGetProperty("tool_call_id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()
            : throw ProxyError.BadRequest($"messages[{index}].tool_call_id is required for a tool message.", $"messages[{index}].tool_call_id");
        foreach (var earlier in messages.EnumerateArray())
        {
            if (earlier.ValueKind == JsonValueKind.Object && earlier.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    if (call.ValueKind == JsonValueKind.Object && call.TryGetProperty("id", out var callId) && callId.ValueEquals(id)
                        && call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var name)
                        && name.ValueKind == JsonValueKind.String)
                    {
                        return name.GetString()!;
                    }
                }
            }
        }
        throw ProxyError.BadRequest(
            $"messages[{index}].tool_call_id '{id}' matches no earlier assistant tool call: Gemini names a function's result after the function, which that call says.",
            $"messages[{index}].tool_call_id");
    }

    /// <summary>OpenAI content parts: text, and images as data URLs (Gemini fetches no URL of the client's).</summary>
    private static void WritePart(JsonElement part, string param, Utf8JsonWriter w)
    {
        var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text":
                TextPart(part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : "", w);
                break;
            case "image_url":
                var url = ChatParts.ImageUrl(part);
                if (url is not null && url.StartsWith("data:", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is var comma and > 5)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("inlineData");
                    w.WriteString("mimeType", url.AsSpan(5, comma - 5));
                    w.WriteString("data", url.AsSpan(comma + 8));
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                else if (url is not null && (url.StartsWith("https://", StringComparison.Ordinal) || url.StartsWith("http://", StringComparison.Ordinal)))
                {
                    throw Unsupported($"{param}.image_url", "Gemini takes images inline: send a data: URL (data:image/png;base64,...) instead of a web address");
                }
                else
                {
                    throw ProxyError.BadRequest($"{param}.image_url.url must be a data: URL (base64).", $"{param}.image_url");
                }
                break;
            default:
                throw Unsupported($"{param}.type '{type}'", "Gemini models take text and image_url parts here");
        }
    }

    private static void TextPart(string text, Utf8JsonWriter w)
    {
        // Gemini refuses an empty text part; it says nothing anyway.
        if (text.Length == 0)
        {
            return;
        }
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteTools(JsonElement request, Utf8JsonWriter w)
    {
        var hasTools = request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (hasTools)
        {
            w.WriteStartArray("tools");
            w.WriteStartObject();
            w.WriteStartArray("functionDeclarations");
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var function = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                    && (!tool.TryGetProperty("type", out var type) || type.ValueEquals("function")) ? f
                    : throw ProxyError.BadRequest($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{...}}}}: Gemini calls functions only here.", $"tools[{i}]");
                w.WriteStartObject();
                w.WriteString("name", String(function, "name", $"tools[{i}].function"));
                if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    w.WriteString("description", description.GetString());
                }
                if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                {
                    // JSON Schema as OpenAI's clients write it (additionalProperties, $defs...): Gemini's parametersJsonSchema takes it whole.
                    w.WritePropertyName("parametersJsonSchema");
                    parameters.WriteTo(w);
                }
                w.WriteEndObject();
                i++;
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
        }
        if (!request.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        w.WriteStartObject("toolConfig");
        w.WriteStartObject("functionCallingConfig");
        switch (choice.ValueKind)
        {
            case JsonValueKind.String when choice.ValueEquals("auto"):
                w.WriteString("mode", "AUTO");
                break;
            case JsonValueKind.String when choice.ValueEquals("required"):
                w.WriteString("mode", "ANY");
                break;
            case JsonValueKind.String when choice.ValueEquals("none"):
                w.WriteString("mode", "NONE");
                break;
            case JsonValueKind.Object when choice.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                && f.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                w.WriteString("mode", "ANY");
                w.WriteStartArray("allowedFunctionNames");
                w.WriteStringValue(name.GetString());
                w.WriteEndArray();
                break;
            default:
                throw ProxyError.BadRequest("tool_choice must be \"auto\", \"required\", \"none\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteGenerationConfig(JsonElement request, Utf8JsonWriter w)
    {
        var open = false;
        void Open()
        {
            if (!open)
            {
                w.WriteStartObject("generationConfig");
                open = true;
            }
        }
        foreach (var (from, to) in Numbers)
        {
            if (request.TryGetProperty(from, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                Open();
                w.WriteNumber(to, value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) ? d
                    : throw ProxyError.BadRequest($"{from} must be a number.", from));
            }
        }
        if ((Integer(request, "max_completion_tokens") ?? Integer(request, "max_tokens")) is { } max)
        {
            Open();
            w.WriteNumber("maxOutputTokens", max);
        }
        if (Integer(request, "n") is { } n and not 1)
        {
            Open();
            w.WriteNumber("candidateCount", n);
        }
        if (request.TryGetProperty("seed", out var seed) && seed.ValueKind != JsonValueKind.Null)
        {
            Open();
            w.WriteNumber("seed", seed.ValueKind == JsonValueKind.Number && seed.TryGetInt32(out var s) ? s
                : throw ProxyError.BadRequest("seed must be a whole number.", "seed"));
        }
        if (request.TryGetProperty("stop", out var stop) && stop.ValueKind != JsonValueKind.Null)
        {
            Open();
            w.WriteStartArray("stopSequences");
            foreach (var sequence in stop.ValueKind == JsonValueKind.Array ? stop.EnumerateArray() : Enumerable.Repeat(stop, 1))
            {
                w.WriteStringValue(sequence.ValueKind == JsonValueKind.String ? sequence.GetString() : throw ProxyError.BadRequest("stop must be a string or a list of strings.", "stop"));
            }
            w.WriteEndArray();
        }
        if (request.TryGetProperty("response_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            var type = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    break;
                case "json_object":
                    Open();
                    w.WriteString("responseMimeType", "application/json");
                    break;
                case "json_schema":
                    var schema = format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                        && js.TryGetProperty("schema", out var sc) && sc.ValueKind == JsonValueKind.Object ? sc
                        : throw ProxyError.BadRequest("response_format.json_schema.schema is required: the JSON Schema the answer must follow.", "response_format.json_schema.schema");
                    Open();
                    w.WriteString("responseMimeType", "application/json");
                    w.WritePropertyName("responseJsonSchema");
                    schema.WriteTo(w);
                    break;
                default:
                    throw ProxyError.BadRequest("response_format.type must be \"text\", \"json_object\" or \"json_schema\".", "response_format.type");
            }
        }
        if (request.TryGetProperty("reasoning_effort", out var effort) && effort.ValueKind != JsonValueKind.Null)
        {
            Open();
            w.WriteStartObject("thinkingConfig");
            w.WriteNumber("thinkingBudget", ThinkingBudget(effort));
            w.WriteEndObject();
        }
        if (open)
        {
            w.WriteEndObject();
        }
    }

    /// <summary>OpenAI's sampling numbers and their Gemini names.</summary>
    private static readonly (string From, string To)[] Numbers =
    [
        ("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK"), ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty"),
    ];

    /// <summary>reasoning_effort as the thinking budget Google's own OpenAI compatibility gives it.</summary>
    private static int ThinkingBudget(JsonElement effort) => effort.ValueKind == JsonValueKind.String ? effort.GetString() switch
    {
        "none" => 0,
        "minimal" or "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => throw ProxyError.BadRequest("reasoning_effort must be \"none\", \"minimal\", \"low\", \"medium\" or \"high\".", "reasoning_effort"),
    } : throw ProxyError.BadRequest("reasoning_effort must be a string.", "reasoning_effort");

    private static string? Role(JsonElement message, int index) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String ? role.GetString()
        : throw ProxyError.BadRequest($"messages[{index}] needs a role (system, user, assistant or tool).", $"messages[{index}].role");

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
                .Select(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("type", out var t) && t.ValueEquals("text") && p.TryGetProperty("text", out var text) ? text.GetString()
                    : throw Unsupported($"{param}.content part", "this message takes text parts only"))),
            _ => throw ProxyError.BadRequest($"{param}.content must be a string or a list of parts.", $"{param}.content"),
        };
    }

    private static string String(JsonElement parent, string name, string param) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s
        : throw ProxyError.BadRequest($"{param}.{name} is required.", $"{param}.{name}");

    private static int? Integer(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0 ? n
                : throw ProxyError.BadRequest($"{name} must be a positive whole number.", name)
            : null;

    private static ProxyError Unsupported(string field, string why) =>
        ProxyError.BadRequest($"{field} is not supported for gemini models: {why}.", field.Split(' ')[0]);
}
