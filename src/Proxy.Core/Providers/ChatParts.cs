using System.Text.Json;

namespace Proxy.Core.Providers;

/// <summary>
/// What every request translator (Anthropic, Bedrock, Gemini) reads from a chat completion's messages the same way: an
/// assistant's tool call (its function, name and arguments, a JSON object in a string) and an image part's URL. A
/// refusal is a 400 naming the field.
/// </summary>
internal static class ChatParts
{
    /// <summary>The tool call's <c>function</c>.</summary>
    public static JsonElement Function(JsonElement toolCall, string param) =>
        toolCall.ValueKind == JsonValueKind.Object && toolCall.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object ? function
            : throw ProxyError.BadRequest($"{param}.function is required.", $"{param}.function");

    public static string FunctionName(JsonElement function, string param) =>
        function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } text ? text
            : throw ProxyError.BadRequest($"{param}.function.name is required.", $"{param}.function.name");

    /// <summary>Writes the call's arguments as the JSON object they hold (none, or an empty string, is <c>{}</c>).</summary>
    public static void WriteArguments(JsonElement function, string param, Utf8JsonWriter w)
    {
        var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        try
        {
            using var input = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
            if (input.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException();
            }
            input.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            throw ProxyError.BadRequest($"{param}.function.arguments must be a JSON object in a string.", $"{param}.function.arguments");
        }
    }

    /// <summary>An <c>image_url</c> part's URL, given as a string or as <c>{"url": ...}</c>; null when it has none.</summary>
    public static string? ImageUrl(JsonElement part) =>
        part.TryGetProperty("image_url", out var image)
            ? image.ValueKind == JsonValueKind.String ? image.GetString()
            : image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString()
            : null
            : null;
}
