using System.Text.Json;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// A Responses request's <c>instructions</c> and <c>input</c> as chat <c>messages</c>: instructions and developer
/// messages are system messages; a run of <c>function_call</c> items is one assistant message with <c>tool_calls</c>
/// (joined to the assistant message just before it); each <c>function_call_output</c> is a <c>tool</c> message, with
/// the images a tool returned in a user message after them.
/// <c>reasoning</c> items are left out: they are the model's own earlier reasoning, which a chat model has no place for
/// and which, encrypted, only OpenAI could read.
/// </summary>
internal static class ResponsesInput
{
    public static void WriteMessages(JsonElement request, Utf8JsonWriter w)
    {
        w.WriteStartArray("messages");
        if (request.TryGetProperty("instructions", out var instructions) && instructions.ValueKind != JsonValueKind.Null)
        {
            w.WriteStartObject();
            w.WriteString("role", "system");
            w.WriteString("content", instructions.ValueKind == JsonValueKind.String ? instructions.GetString()
                : throw ProxyError.BadRequest("instructions must be a string.", "instructions"));
            w.WriteEndObject();
        }
        var input = request.TryGetProperty("input", out var i) ? i
            : throw ProxyError.BadRequest("input is required: a string or a list of items.", "input");
        if (input.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("role", "user");
            w.WriteString("content", input.GetString());
            w.WriteEndObject();
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            WriteItems(input.EnumerateArray().ToList(), w);
        }
        else
        {
            throw ProxyError.BadRequest("input must be a string or a list of items.", "input");
        }
        w.WriteEndArray();
    }

    private static void WriteItems(List<JsonElement> items, Utf8JsonWriter w)
    {
        var at = 0;
        while (at < items.Count)
        {
            var item = items[at];
            var param = $"input[{at}]";
            switch (Type(item))
            {
                case "message":
                    var role = Role(item, param);
                    w.WriteStartObject();
                    w.WriteString("role", role);
                    WriteContent(item, param, w);
                    at++;
                    if (role == "assistant")
                    {
                        at = WriteCalls(items, at, w);
                    }
                    w.WriteEndObject();
                    break;
                case "function_call":
                    w.WriteStartObject();
                    w.WriteString("role", "assistant");
                    w.WriteNull("content");
                    at = WriteCalls(items, at, w);
                    w.WriteEndObject();
                    break;
                case "function_call_output":
                    at = WriteOutputs(items, at, w);
                    break;
                case "reasoning":
                    at++;
                    break;
                case "item_reference":
                    throw ProxyError.BadRequest($"{param}: item_reference is not supported: this gateway does not store items; send the item itself.", param);
                case var other:
                    throw ProxyError.BadRequest($"{param}.type '{other}' is not supported for this model: it takes message, function_call, function_call_output and reasoning items.", $"{param}.type");
            }
        }
    }

    /// <summary>
    /// The <c>tool_calls</c> of the function_call items from <paramref name="at"/> on (reasoning items between them are
    /// passed over); returns where the run ends. Nothing is written when there is no function_call there.
    /// </summary>
    private static int WriteCalls(List<JsonElement> items, int at, Utf8JsonWriter w)
    {
        var end = at;
        var open = false;
        while (end < items.Count && Type(items[end]) is "function_call" or "reasoning")
        {
            var item = items[end];
            var param = $"input[{end}]";
            end++;
            if (Type(item) == "reasoning")
            {
                continue;
            }
            if (!open)
            {
                w.WriteStartArray("tool_calls");
                open = true;
            }
            w.WriteStartObject();
            w.WriteString("id", String(item, "call_id", param));
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", String(item, "name", param));
            w.WriteString("arguments", String(item, "arguments", param));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (open)
        {
            w.WriteEndArray();
        }
        return end;
    }

    /// <summary>
    /// A run of <c>function_call_output</c> items, a <c>tool</c> message each; returns where the run ends. A chat tool
    /// message carries text only, so the images a tool returned (Codex's <c>view_image</c>) follow the run as a user
    /// message, where the model sees them right after the results.
    /// </summary>
    private static int WriteOutputs(List<JsonElement> items, int at, Utf8JsonWriter w)
    {
        var images = new List<(JsonElement Part, string Param)>();
        for (; at < items.Count && Type(items[at]) == "function_call_output"; at++)
        {
            var item = items[at];
            var param = $"input[{at}]";
            w.WriteStartObject();
            w.WriteString("role", "tool");
            w.WriteString("tool_call_id", String(item, "call_id", param));
            w.WriteString("content", Output(item, param, images));
            w.WriteEndObject();
        }
        if (images.Count > 0)
        {
            w.WriteStartObject();
            w.WriteString("role", "user");
            w.WriteStartArray("content");
            foreach (var (part, param) in images)
            {
                w.WriteStartObject();
                WriteImage(part, param, w);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return at;
    }

    /// <summary>Developer messages are system messages in chat completions.</summary>
    private static string Role(JsonElement item, string param) =>
        (item.TryGetProperty("role", out var r) ? r.GetString() : null) switch
        {
            "user" => "user",
            "assistant" => "assistant",
            "system" or "developer" => "system",
            var other => throw ProxyError.BadRequest($"{param}.role '{other}' is not one of user, assistant, system, developer.", $"{param}.role"),
        };

    /// <summary>Text alone is one string (parts joined by a line break); with images, a list of chat content parts.</summary>
    private static void WriteContent(JsonElement item, string param, Utf8JsonWriter w)
    {
        var content = item.TryGetProperty("content", out var c) ? c : default;
        if (content.ValueKind == JsonValueKind.String)
        {
            w.WriteString("content", content.GetString());
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw ProxyError.BadRequest($"{param}.content must be a string or a list of parts.", $"{param}.content");
        }
        var parts = content.EnumerateArray().ToList();
        if (parts.All(p => PartType(p) is "input_text" or "output_text"))
        {
            w.WriteString("content", string.Join("\n", parts.Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : "")));
            return;
        }
        w.WriteStartArray("content");
        for (var n = 0; n < parts.Count; n++)
        {
            var part = parts[n];
            var partParam = $"{param}.content[{n}]";
            w.WriteStartObject();
            switch (PartType(part))
            {
                case "input_text" or "output_text":
                    w.WriteString("type", "text");
                    w.WriteString("text", part.TryGetProperty("text", out var text) ? text.GetString() : "");
                    break;
                case "input_image":
                    WriteImage(part, partParam, w);
                    break;
                case var other:
                    throw ProxyError.BadRequest($"{partParam}.type '{other}' is not supported for this model: it takes input_text, output_text and input_image parts.", $"{partParam}.type");
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>An <c>input_image</c> part as chat's <c>image_url</c> part (inside an open object).</summary>
    private static void WriteImage(JsonElement part, string param, Utf8JsonWriter w)
    {
        w.WriteString("type", "image_url");
        w.WriteStartObject("image_url");
        w.WriteString("url", part.TryGetProperty("image_url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString()
            : throw ProxyError.BadRequest($"{param}: images are taken by image_url (a data: or http(s) URL), not by file_id: this gateway does not hold files.", $"{param}.image_url"));
        if (part.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
        {
            w.WriteString("detail", detail.GetString());
        }
        w.WriteEndObject();
    }

    /// <summary>A tool's output: a string, or its text parts joined (a chat tool message carries text); its images go to <paramref name="images"/>.</summary>
    private static string Output(JsonElement item, string param, List<(JsonElement Part, string Param)> images)
    {
        var output = item.TryGetProperty("output", out var o) ? o : default;
        if (output.ValueKind == JsonValueKind.String)
        {
            return output.GetString()!;
        }
        if (output.ValueKind != JsonValueKind.Array)
        {
            throw ProxyError.BadRequest($"{param}.output must be a string or a list of parts.", $"{param}.output");
        }
        var texts = new List<string?>();
        var n = 0;
        foreach (var part in output.EnumerateArray())
        {
            var partParam = $"{param}.output[{n++}]";
            switch (PartType(part))
            {
                case "input_text" or "output_text":
                    texts.Add(part.TryGetProperty("text", out var t) ? t.GetString() : "");
                    break;
                case "input_image":
                    images.Add((part, partParam));
                    break;
                case var other:
                    throw ProxyError.BadRequest($"{partParam}.type '{other}' is not supported for this model: a tool's output to it is text and images.", $"{partParam}.type");
            }
        }
        return texts.Count > 0 ? string.Join("\n", texts) : "(the image follows)";
    }

    /// <summary>An item without a type is a message (the short form <c>{"role", "content"}</c>).</summary>
    private static string? Type(JsonElement item) =>
        item.ValueKind != JsonValueKind.Object ? throw ProxyError.BadRequest("Each input item must be an object.", "input")
        : item.TryGetProperty("type", out var t) ? t.GetString()
        : item.TryGetProperty("role", out _) ? "message"
        : null;

    private static string? PartType(JsonElement part) =>
        part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;

    private static string String(JsonElement item, string name, string param) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw ProxyError.BadRequest($"{param}.{name} is required (a string).", $"{param}.{name}");
}
