using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// Claude's answer on Vertex AI to a Messages caller: Anthropic's own, event by event (each SSE event is written again
/// as Anthropic names it, <c>event: {type}</c>, with its data unchanged), except an error from Google's front end (quota,
/// authentication, permission), which comes in Google's shape <c>{"error": {"code", "message", "status"}}</c> and is
/// written in Anthropic's, as a Messages client reads errors.
/// </summary>
internal sealed class VertexMessagesAnswer(Stream toClient, HttpResponse response) : AnswerTranslator(toClient, response)
{
    protected override void OnEvent(ReadOnlySpan<byte> data)
    {
        Out.Write("event: "u8);
        Out.Write(TypeOf(data));
        Out.Write("\ndata: "u8);
        Out.Write(data);
        Out.Write("\n\n"u8);
    }

    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        Response.StatusCode >= 400 && AsAnthropicError(Response.StatusCode, answer.Span) is { } error ? error : answer;

    /// <summary>Google's error as Anthropic writes one; null when <paramref name="body"/> is not Google's (Anthropic's own passes as is).</summary>
    public static byte[]? AsAnthropicError(int status, ReadOnlySpan<byte> body)
    {
        string? message;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (!document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object
                || !error.TryGetProperty("status", out var googleStatus) || googleStatus.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : googleStatus.GetString();
        }
        catch (JsonException)
        {
            return null;
        }
        var type = status switch
        {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            _ => "api_error",
        };
        return JsonSerializer.SerializeToUtf8Bytes(new { type = "error", error = new { type, message } });
    }

    /// <summary>The event's <c>type</c>, which Anthropic also names the event by; <c>message</c> if it has none.</summary>
    private static ReadOnlySpan<byte> TypeOf(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isType = reader.ValueTextEquals("type"u8);
                    reader.Read();
                    if (isType && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                    {
                        return reader.ValueSpan;
                    }
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }
        return "message"u8;
    }
}
