using System.Text;
using System.Text.Json;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Anthropic;

namespace Proxy.Core.Dialects.Messages;

/// <summary>
/// Anthropic's error shape, <c>{"type": "error", "error": {"type", "message"}}</c>: every error a Messages caller gets,
/// the gateway's own refusals and an OpenAI-shaped provider's errors alike (docs/api.md section 2).
/// </summary>
public static class MessagesError
{
    /// <summary>A provider's error body that is not JSON (an HTML page from a load balancer) is shown up to this long.</summary>
    private const int MaxRawChars = 1000;

    /// <summary>Anthropic's error type for a status, as its API uses them.</summary>
    public static string Type(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>
    /// An OpenAI-shaped provider's error answer (<c>{"error": {"message", "type"}}</c>, or vLLM's top-level
    /// <c>message</c>) in Anthropic's shape, typed by the status; a body of another shape is its own message, shortened.
    /// </summary>
    public static byte[] FromOpenAI(int status, ReadOnlySpan<byte> body)
    {
        var message = MessageOf(body) ?? Raw(body) ?? $"The provider answered {status}.";
        using var output = new PooledBuffer(512);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("type", "error");
            w.WriteStartObject("error");
            w.WriteString("type", Type(status));
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    private static string? MessageOf(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString();
                }
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    return m.GetString();
                }
            }
            return root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Raw(ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body).Trim();
        return text.Length == 0 ? null : text.Length <= MaxRawChars ? text : string.Concat(text.AsSpan(0, MaxRawChars), "…");
    }
}
