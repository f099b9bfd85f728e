using System.Text;
using System.Text.Json;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Gemini;

/// <summary>A whole <c>generateContent</c> answer as a <c>chat.completion</c>: one choice per candidate. Once per call, so a document is fine here.</summary>
internal static class GeminiCompletion
{
    public static byte[] Translate(ReadOnlyMemory<byte> json, GeminiAsked asked, UsageMeter meter)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var usage = root.TryGetProperty("usageMetadata", out var u) ? GeminiUsage.Read(u) : default;
        usage.Report(meter);
        using var output = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", GeminiShape.Id(root));
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            w.WriteString("model", GeminiShape.Model(root));
            w.WriteStartArray("choices");
            var candidates = GeminiShape.Candidates(root);
            if (candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0)
            {
                var position = 0;
                foreach (var candidate in candidates.EnumerateArray())
                {
                    Choice(w, candidate, GeminiShape.Index(candidate, position++), asked);
                }
            }
            else
            {
                // A blocked prompt: no candidate. The client still gets a choice, which says why it is empty.
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
                w.WriteEndObject();
                w.WriteString("finish_reason", GeminiShape.PromptBlocked(root) ? "content_filter" : "stop");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            usage.Write(w);
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    private static void Choice(Utf8JsonWriter w, JsonElement candidate, int index, GeminiAsked asked)
    {
        var text = new StringBuilder();
        var calls = 0;
        var parts = GeminiShape.Parts(candidate);
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        if (parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (!GeminiShape.IsThought(part) && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    text.Append(t.GetString());
                }
            }
            foreach (var part in parts.EnumerateArray())
            {
                if (part.TryGetProperty("functionCall", out var call) && call.ValueKind == JsonValueKind.Object
                    && !(asked.HasFlag(GeminiAsked.OneToolCall) && calls == 1))
                {
                    if (calls++ == 0)
                    {
                        WriteContent(w, text, nullWhenEmpty: true);
                        w.WriteStartArray("tool_calls");
                    }
                    w.WriteStartObject();
                    w.WriteString("id", GeminiShape.ToolCallId(part, call));
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", call.TryGetProperty("name", out var name) ? name.GetString() : "");
                    GeminiShape.WriteArguments(w, call);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
            }
        }
        if (calls > 0)
        {
            w.WriteEndArray();
        }
        else
        {
            WriteContent(w, text, nullWhenEmpty: false);
        }
        w.WriteEndObject();
        w.WriteString("finish_reason", GeminiShape.FinishReason(GeminiShape.Reason(candidate), calls > 0));
        w.WriteEndObject();
    }

    private static void WriteContent(Utf8JsonWriter w, StringBuilder text, bool nullWhenEmpty)
    {
        if (text.Length == 0 && nullWhenEmpty)
        {
            w.WriteNull("content");
        }
        else
        {
            w.WriteString("content", text.ToString());
        }
    }
}
