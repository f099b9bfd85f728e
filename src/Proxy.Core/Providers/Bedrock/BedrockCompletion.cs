using System.Text.Json;
using Proxy.Core.Providers.Anthropic;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>Bedrock's whole answers (a Converse answer, an error) as OpenAI's. Once per call, so a document is fine here.</summary>
internal static class BedrockCompletion
{
    /// <summary>A Converse answer (<c>output.message.content</c>, <c>stopReason</c>, <c>usage</c>) as a <c>chat.completion</c>.</summary>
    public static byte[] Translate(ReadOnlyMemory<byte> json, string model, UsageMeter meter)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var usage = root.TryGetProperty("usage", out var u) ? u : default;
        var (cacheRead, cacheWrite) = (Tokens(usage, "cacheReadInputTokens"), Tokens(usage, "cacheWriteInputTokens"));
        var prompt = Tokens(usage, "inputTokens") + cacheRead + cacheWrite;
        var completion = Tokens(usage, "outputTokens");
        meter.Report(prompt, completion, cacheWrite, cacheRead);
        var blocks = root.TryGetProperty("output", out var output) && output.TryGetProperty("message", out var message)
            && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array ? content.EnumerateArray().ToList() : [];
        var text = string.Concat(blocks.Where(b => b.TryGetProperty("text", out _)).Select(b => b.GetProperty("text").GetString()));
        var tools = blocks.Where(b => b.TryGetProperty("toolUse", out _)).Select(b => b.GetProperty("toolUse")).ToList();
        using var buffer = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(buffer, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", "chatcmpl-" + Guid.NewGuid().ToString("N"));
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            w.WriteString("model", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
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
                    w.WriteString("id", tool.GetProperty("toolUseId").GetString());
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
            w.WriteString("finish_reason", FinishReason(root.TryGetProperty("stopReason", out var stop) && stop.ValueKind == JsonValueKind.String ? stop.GetString() : null));
            w.WriteEndObject();
            w.WriteEndArray();
            OpenAIShape.Usage(w, prompt, completion);
            w.WriteEndObject();
        }
        return buffer.Written.ToArray();
    }

    /// <summary>OpenAI's finish reasons for Converse's stop reasons.</summary>
    public static string FinishReason(string? stop) => stop switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" or "content_filtered" => "content_filter",
        _ => "stop",
    };

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;

    /// <summary>
    /// Bedrock's error (<c>{"message": ...}</c>, its kind in the <c>x-amzn-ErrorType</c> header, e.g.
    /// <c>ValidationException:http://...</c>) as the OpenAI envelope, with the status's type and Bedrock's own message.
    /// </summary>
    public static byte[] Error(int status, string? errorTypeHeader, ReadOnlySpan<byte> json)
    {
        string? message = null;
        try
        {
            using var error = JsonDocument.Parse(json.ToArray());
            if (error.RootElement.ValueKind == JsonValueKind.Object)
            {
                message = error.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()
                    : error.RootElement.TryGetProperty("Message", out var m2) && m2.ValueKind == JsonValueKind.String ? m2.GetString()
                    : null;
                if (string.IsNullOrEmpty(errorTypeHeader) && error.RootElement.TryGetProperty("__type", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    errorTypeHeader = t.GetString();
                }
            }
        }
        catch (JsonException)
        {
        }
        var type = string.IsNullOrEmpty(errorTypeHeader) ? null : errorTypeHeader.Split(':')[0].Split('#')[^1];
        using var output = new PooledBuffer(512);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            WriteError(w, status, type, message);
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    public static void WriteError(Utf8JsonWriter w, int status, string? bedrockType, string? message) =>
        OpenAIError.Write(w, "Bedrock", status, bedrockType, message);
}
