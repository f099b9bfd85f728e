namespace Proxy.Core.Forwarding;

/// <summary>How providers say what went wrong.</summary>
internal static class ProviderErrors
{
    /// <summary>
    /// The prompt did not fit: OpenAI's <c>context_length_exceeded</c> ("This model's maximum context length is..."),
    /// Azure's same code, Anthropic's "prompt is too long", Gemini's "input token count ... exceeds the maximum number of tokens allowed", and the "context window" of OpenAI-compatible servers.
    /// </summary>
    public static bool IsContextWindowExceeded(ReadOnlySpan<byte> body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        return text.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase)
            || text.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || text.Contains("context window", StringComparison.OrdinalIgnoreCase)
            || text.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
            || text.Contains("exceeds the maximum number of tokens allowed", StringComparison.OrdinalIgnoreCase);
    }
}
