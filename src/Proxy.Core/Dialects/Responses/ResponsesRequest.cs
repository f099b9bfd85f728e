using System.Text.Json;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// An OpenAI Responses request as a chat completions request, for deployments that only speak chat completions. The
/// chat request uses only the fields every provider translation takes (Anthropic's included).
/// <para>
/// Left out, as they ask for nothing the answer could show: <c>store</c> (this translation keeps nothing, and nothing
/// could refer to a stored answer later, as <c>previous_response_id</c> is refused), <c>include</c> (asks for
/// encrypted reasoning and hosted tools' data, which a chat answer never has), <c>reasoning</c> (effort and summary
/// are a hint), <c>prompt_cache_key</c>, <c>metadata</c>, <c>client_metadata</c> (Codex's own labels),
/// <c>service_tier</c>, <c>text.verbosity</c>, <c>truncation: "disabled"</c>, <c>stream_options</c>; and the
/// gateway's routing fields, read by the gateway.
/// </para>
/// <para>
/// Refused with a 400 that names the field: <c>previous_response_id</c> and <c>conversation</c> (nothing is stored),
/// a <c>text.format</c> other than text (not every chat provider takes a schema), <c>truncation: "auto"</c>, logprobs,
/// and anything not listed here.
/// </para>
/// </summary>
internal static class ResponsesRequest
{
    private static readonly HashSet<string> Translated =
    [
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p",
        "stream", "user", "safety_identifier", "text", "truncation", "include",
    ];

    private static readonly HashSet<string> LeftOut =
    [
        "store", "reasoning", "prompt_cache_key", "metadata", "client_metadata", "service_tier", "stream_options",
        "num_retries", "fallbacks", "context_window_fallbacks",
    ];

    /// <summary>Writes the chat completions request for <paramref name="model"/>; returns whether the answer is streamed.</summary>
    public static bool WriteChat(JsonElement request, string model, Utf8JsonWriter w)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw ProxyError.BadRequest("The request body must be a JSON object.");
        }
        foreach (var property in request.EnumerateObject())
        {
            if (property.Name == "previous_response_id")
            {
                if (property.Value.ValueKind != JsonValueKind.Null)
                {
                    throw ProxyError.BadRequest("previous_response_id is not supported: this gateway does not store responses; send the whole conversation in input (store: false).", "previous_response_id");
                }
            }
            else if (!Translated.Contains(property.Name) && !LeftOut.Contains(property.Name))
            {
                throw ProxyError.BadRequest($"{property.Name} is not supported for this model: it has no equivalent in chat completions.", property.Name);
            }
        }
        CheckText(request);
        if (request.TryGetProperty("truncation", out var truncation) && truncation.ValueKind == JsonValueKind.String && truncation.GetString() != "disabled")
        {
            throw ProxyError.BadRequest("truncation 'auto' is not supported for this model: a chat provider does not shorten the conversation; send truncation \"disabled\".", "truncation");
        }
        if (request.TryGetProperty("include", out var include) && include.ValueKind == JsonValueKind.Array
            && include.EnumerateArray().Any(i => i.GetString() == "message.output_text.logprobs"))
        {
            throw ProxyError.BadRequest("include 'message.output_text.logprobs' is not supported for this model.", "include");
        }

        w.WriteStartObject();
        w.WriteString("model", model);
        ResponsesInput.WriteMessages(request, w);
        ResponsesTools.Write(request, w);
        if (request.TryGetProperty("max_output_tokens", out var max) && max.ValueKind != JsonValueKind.Null)
        {
            w.WriteNumber("max_tokens", max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var n) && n > 0 ? n
                : throw ProxyError.BadRequest("max_output_tokens must be a positive whole number.", "max_output_tokens"));
        }
        Copy(request, "temperature", w);
        Copy(request, "top_p", w);
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (stream)
        {
            // The usage chunk is what response.completed reports.
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
        }
        var user = request.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u
            : request.TryGetProperty("safety_identifier", out var id) && id.ValueKind == JsonValueKind.String ? id
            : default;
        if (user.ValueKind == JsonValueKind.String)
        {
            w.WriteString("user", user.GetString());
        }
        w.WriteEndObject();
        return stream;
    }

    /// <summary>Only plain text output: a JSON schema would need <c>response_format</c>, which not every chat provider takes.</summary>
    private static void CheckText(JsonElement request)
    {
        if (request.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object
            && text.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var type) && type.GetString() != "text")
        {
            throw ProxyError.BadRequest($"text.format '{type.GetString()}' is not supported for this model: it answers in plain text.", "text.format");
        }
    }

    private static void Copy(JsonElement request, string name, Utf8JsonWriter w)
    {
        if (request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
    }
}
