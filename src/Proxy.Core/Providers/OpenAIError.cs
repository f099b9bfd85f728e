using System.Globalization;
using System.Text.Json;

namespace Proxy.Core.Providers;

/// <summary>A translated provider's error as OpenAI's <c>error</c> object: the provider's words and its own error type, OpenAI's type for the status.</summary>
internal static class OpenAIError
{
    public static void Write(Utf8JsonWriter w, string provider, int status, string? providerType, string? message)
    {
        w.WriteStartObject("error");
        w.WriteString("message", $"{provider}: {message ?? $"the provider answered {status}"}" + (providerType is null ? "" : $" ({providerType})"));
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
