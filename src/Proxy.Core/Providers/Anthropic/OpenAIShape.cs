using System.Globalization;
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

    public static void Error(Utf8JsonWriter w, int status, string? anthropicType, string? message)
    {
        w.WriteStartObject("error");
        w.WriteString("message", $"Anthropic: {message ?? $"the provider answered {status}"}" + (anthropicType is null ? "" : $" ({anthropicType})"));
        w.WriteString("type", status switch
        {
            400 or 413 => "invalid_request_error",
            401 => "auth_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            _ => "upstream_error",
        });
        w.WriteNull("param");
        w.WriteString("code", status.ToString(CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
