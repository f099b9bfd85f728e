using System.Text.Json;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>Anthropic's whole answers (a Messages answer, an error) as OpenAI's. Once per call, so a document is fine here.</summary>
internal static class AnthropicCompletion
{
    /// <summary>A complete Messages answer as a <c>chat.completion</c>. Once per call, so a document is fine here.</summary>
    public static byte[] Translate(ReadOnlyMemory<byte> json, UsageMeter meter)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var usage = root.TryGetProperty("usage", out var u) ? u : default;
        var (cacheWrite, cacheRead) = (Tokens(usage, "cache_creation_input_tokens"), Tokens(usage, "cache_read_input_tokens"));
        var prompt = Tokens(usage, "input_tokens") + cacheWrite + cacheRead;
        var completion = Tokens(usage, "output_tokens");
        meter.Report(prompt, completion, cacheWrite, cacheRead);
        using var output = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", root.TryGetProperty("id", out var id) ? id.GetString() : "");
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            w.WriteString("model", root.TryGetProperty("model", out var model) ? model.GetString() : "");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            var blocks = root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array ? content.EnumerateArray().ToList() : [];
            var text = string.Concat(blocks.Where(b => Type(b) == "text").Select(b => b.GetProperty("text").GetString()));
            var tools = blocks.Where(b => Type(b) == "tool_use").ToList();
            if (text.Length == 0 && tools.Count > 0)
            {
                w.WriteNull("content");
            }
            else
            {
                w.WriteString("content", text);
            }
            if (tools.Count > 0)
            {
                w.WriteStartArray("tool_calls");
                foreach (var tool in tools)
                {
                    w.WriteStartObject();
                    w.WriteString("id", tool.GetProperty("id").GetString());
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", tool.GetProperty("name").GetString());
                    w.WriteString("arguments", tool.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteString("finish_reason", OpenAIShape.FinishReason(root.TryGetProperty("stop_reason", out var stop) && stop.ValueKind == JsonValueKind.String ? stop.GetString()! : "end_turn"));
            w.WriteEndObject();
            w.WriteEndArray();
            OpenAIShape.Usage(w, prompt, completion);
            w.WriteEndObject();
        }
        return output.Written.ToArray();

        static string? Type(JsonElement block) => block.TryGetProperty("type", out var t) ? t.GetString() : null;
    }

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;

    /// <summary>Anthropic's <c>{"type": "error", "error": {"type", "message"}}</c> as the OpenAI envelope, with the status's type.</summary>
    public static byte[] Error(int status, ReadOnlySpan<byte> json)
    {
        string? type = null, message = null;
        try
        {
            using var error = JsonDocument.Parse(json.ToArray());
            if (error.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                type = e.TryGetProperty("type", out var t) ? t.GetString() : null;
                message = e.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
        }
        catch (JsonException)
        {
            message = null;
        }
        using var output = new PooledBuffer(512);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            OpenAIShape.Error(w, status, type, message);
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }
}
