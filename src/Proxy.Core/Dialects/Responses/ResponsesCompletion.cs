using System.Text;
using System.Text.Json;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Responses;

/// <summary>A whole <c>chat.completion</c> as a Responses answer. Once per call, so a document is fine here.</summary>
internal static class ResponsesCompletion
{

    public static byte[] Translate(ReadOnlyMemory<byte> json)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var choice = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0 ? choices[0] : default;
        var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) ? m : default;
        var finishReason = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var items = new List<OutputItem>();
        try
        {
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text)
            {
                var item = OutputItem.Message(items.Count);
                item.Text.Write(Encoding.UTF8.GetBytes(text));
                items.Add(item);
            }
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.TryGetProperty("function", out var fn) ? fn : default;
                    var item = OutputItem.Call(items.Count, String(call, "id"), String(function, "name"));
                    item.Text.Write(Encoding.UTF8.GetBytes(String(function, "arguments") ?? "{}"));
                    items.Add(item);
                }
            }
            using var output = new PooledBuffer(json.Length + 512);
            using (var w = new Utf8JsonWriter(output, WireJson.Options))
            {
                w.WriteStartObject();
                ResponsesShape.Response(w, $"resp_{String(root, "id") ?? Guid.NewGuid().ToString("N")}",
                    root.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var at) ? at : DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    String(root, "model") ?? "", ResponsesShape.Status(finishReason), items, Usage(root), finishReason);
                w.WriteEndObject();
            }
            return output.Written.ToArray();
        }
        finally
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }

    private static ChatUsage? Usage(JsonElement root)
    {
        if (!root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        return new ChatUsage(Tokens(usage, "prompt_tokens"), Tokens(usage, "completion_tokens"),
            usage.TryGetProperty("prompt_tokens_details", out var prompt) ? Tokens(prompt, "cached_tokens") : 0,
            usage.TryGetProperty("completion_tokens_details", out var completion) ? Tokens(completion, "reasoning_tokens") : 0);
    }

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
