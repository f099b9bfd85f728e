using System.Text.Json;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// An OpenAI embeddings request as Gemini's <c>batchEmbedContents</c> takes it: one request per input text, in order,
/// <c>dimensions</c> as <c>outputDimensionality</c>. Token arrays (OpenAI's pre-tokenized input) mean nothing to Gemini: a 400.
/// </summary>
internal static class GeminiEmbeddingRequest
{
    private static readonly HashSet<string> Translated = ["model", "input", "dimensions", "encoding_format", "user", "num_retries", "fallbacks", "context_window_fallbacks"];

    /// <param name="model">As Gemini names it in each request: <c>models/{model}</c>.</param>
    public static UpstreamBody Write(JsonElement request, string model, Utf8JsonWriter w)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw ProxyError.BadRequest("The body must be a JSON object.", null);
        }
        foreach (var property in request.EnumerateObject())
        {
            if (!Translated.Contains(property.Name))
            {
                throw ProxyError.BadRequest($"{property.Name} is not supported for gemini embeddings: it has no equivalent in Gemini's batchEmbedContents.", property.Name);
            }
        }
        var input = request.TryGetProperty("input", out var i) ? i : throw ProxyError.BadRequest("input is required: a string or a list of strings.", "input");
        int? dimensions = request.TryGetProperty("dimensions", out var d) && d.ValueKind != JsonValueKind.Null
            ? d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) && n > 0 ? n : throw ProxyError.BadRequest("dimensions must be a positive whole number.", "dimensions")
            : null;
        var asked = GeminiAsked.None;
        if (request.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            asked = format.ValueEquals("base64") ? GeminiAsked.Base64Embeddings
                : format.ValueEquals("float") ? GeminiAsked.None
                : throw ProxyError.BadRequest("encoding_format must be \"float\" or \"base64\".", "encoding_format");
        }

        w.WriteStartObject();
        w.WriteStartArray("requests");
        if (input.ValueKind == JsonValueKind.String)
        {
            One(input.GetString()!, model, dimensions, w);
        }
        else if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0)
        {
            var index = 0;
            foreach (var text in input.EnumerateArray())
            {
                One(text.ValueKind == JsonValueKind.String ? text.GetString()!
                    : throw ProxyError.BadRequest($"input[{index}] is not supported for gemini embeddings: Gemini embeds text, not token ids; send strings.", $"input[{index}]"),
                    model, dimensions, w);
                index++;
            }
        }
        else
        {
            throw ProxyError.BadRequest("input must be a string or a non-empty list of strings.", "input");
        }
        w.WriteEndArray();
        w.WriteEndObject();
        return new UpstreamBody(0, Asked: (int)asked);
    }

    private static void One(string text, string model, int? dimensions, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteStartObject("content");
        w.WriteStartArray("parts");
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        if (dimensions is { } size)
        {
            w.WriteNumber("outputDimensionality", size);
        }
        w.WriteEndObject();
    }
}
