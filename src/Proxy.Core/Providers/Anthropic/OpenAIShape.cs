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

    /// <summary>
    /// A <c>chat.completion.chunk</c>'s one choice: its delta (the role, text, a tool call's start or a piece of its
    /// arguments, given in <paramref name="text"/>) and finish reason.
    /// </summary>
    public static void ChunkChoice(Utf8JsonWriter w, ChunkDelta delta, ReadOnlySpan<byte> text, int toolIndex, string? toolId, string? toolName, string? finishReason)
    {
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        switch (delta)
        {
            case ChunkDelta.Role:
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
                break;
            case ChunkDelta.Text:
                w.WriteString("content", text);
                break;
            case ChunkDelta.ToolCall:
                ToolCall(w, toolIndex, toolId, toolName, ""u8);
                break;
            case ChunkDelta.ToolArguments:
                ToolCall(w, toolIndex, null, null, text);
                break;
        }
        w.WriteEndObject();
        if (finishReason is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finishReason);
        }
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
