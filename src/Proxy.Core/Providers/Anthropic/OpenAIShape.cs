using System.Text.Json;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>The pieces of OpenAI's answer that both translations (stream and whole answer) write, from Anthropic's.</summary>
internal static class OpenAIShape
{
    public static void ToolCall(Utf8JsonWriter w, int index, string? id, string? name, ReadOnlySpan<byte> arguments)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (id is not null)
        {
            w.WriteString("id", id);
            w.WriteString("type", "function");
        }
        w.WriteStartObject("function");
        if (name is not null)
        {
            w.WriteString("name", name);
        }
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    public static void Usage(Utf8JsonWriter w, int prompt, int completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", completion);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteEndObject();
    }

    /// <summary>OpenAI's finish reasons for Anthropic's stop reasons.</summary>
    public static string FinishReason(string stop) => stop switch
    {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    public static void Error(Utf8JsonWriter w, int status, string? anthropicType, string? message) =>
        OpenAIError.Write(w, "Anthropic", status, anthropicType, message);
}
