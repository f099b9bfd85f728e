using System.Text.Json;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Anthropic;

namespace Proxy.Core.Dialects.Messages;

/// <summary>A whole <c>chat.completion</c> as Anthropic's message. Once per call, so a document is fine here.</summary>
internal static class MessagesCompletion
{
    public static byte[] FromChat(ReadOnlyMemory<byte> json)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var choice = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0 ? choices[0] : default;
        var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) ? m : default;
        using var output = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", MessagesShape.MessageId(String(root, "id")));
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", String(root, "model") ?? "");
            w.WriteStartArray("content");
            if (Text(message) is { Length: > 0 } text)
            {
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", text);
                w.WriteEndObject();
            }
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
                    w.WriteStartObject();
                    w.WriteString("type", "tool_use");
                    w.WriteString("id", String(call, "id") ?? MessagesShape.ToolUseId());
                    w.WriteString("name", String(function, "name") ?? "");
                    w.WritePropertyName("input");
                    Input(String(function, "arguments"), w);
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteString("stop_reason", MessagesShape.StopReason(String(choice, "finish_reason")));
            w.WriteNull("stop_sequence");
            var usage = root.TryGetProperty("usage", out var u) ? u : default;
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", Tokens(usage, "prompt_tokens"));
            w.WriteNumber("output_tokens", Tokens(usage, "completion_tokens"));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    /// <summary>
    /// A tool call's arguments as the <c>input</c> object. Arguments that are not a JSON object (a model's broken JSON)
    /// are kept as <c>{"_raw": "…"}</c> rather than dropped for <c>{}</c>: a tool run with no arguments could do
    /// something nobody asked for, while the tool's schema check refuses <c>_raw</c> and hands the text back to the model.
    /// </summary>
    private static void Input(string? arguments, Utf8JsonWriter w)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            w.WriteStartObject();
            w.WriteEndObject();
            return;
        }
        try
        {
            using var input = JsonDocument.Parse(arguments);
            if (input.RootElement.ValueKind == JsonValueKind.Object)
            {
                input.RootElement.WriteTo(w);
                return;
            }
        }
        catch (JsonException)
        {
            // Written as _raw below.
        }
        w.WriteStartObject();
        w.WriteString("_raw", arguments);
        w.WriteEndObject();
    }

    /// <summary>The message's text: a string, or (from some providers) a list of text parts.</summary>
    private static string? Text(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content))
        {
            return null;
        }
        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString(),
            JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(p => String(p, "text"))),
            _ => null,
        };
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var value) ? value : 0;
}
