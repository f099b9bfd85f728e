using System.Text.Json;

namespace Proxy.Core.Providers.Gemini;

/// <summary>Google's <c>{"error": {"code", "message", "status"}}</c> as OpenAI's envelope. Once per failed call, so a document is fine here.</summary>
internal static class GeminiError
{
    /// <param name="status">The status the client gets (Google's 5xx are a 503).</param>
    public static byte[] Translate(int status, ReadOnlySpan<byte> json)
    {
        string? googleStatus = null, message = null;
        try
        {
            using var error = JsonDocument.Parse(json.ToArray());
            // A stream's error may come as a one-item list of the same object.
            var root = error.RootElement.ValueKind == JsonValueKind.Array && error.RootElement.GetArrayLength() > 0 ? error.RootElement[0] : error.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                googleStatus = e.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                message = e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            }
        }
        catch (JsonException)
        {
            message = null;
        }
        using var output = new PooledBuffer(512);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            Write(w, status, googleStatus, message);
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    /// <summary>The <c>error</c> object: Google's message and status word (INVALID_ARGUMENT, RESOURCE_EXHAUSTED...), OpenAI's type for the status.</summary>
    public static void Write(Utf8JsonWriter w, int status, string? googleStatus, string? message) =>
        OpenAIError.Write(w, "Gemini", status, googleStatus, message);
}
