using System.Text.Json;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// Gemini's <c>usageMetadata</c> in OpenAI's terms: the prompt (with the tool-use prompt, and the cached part of it
/// apart), and the completion, thinking included, as Google bills thoughts as output.
/// </summary>
internal readonly record struct GeminiUsage(int Prompt, int Completion, int Cached, int Thoughts)
{
    public int Total => Prompt + Completion;

    public static GeminiUsage Read(JsonElement usage)
    {
        var thoughts = Count(usage, "thoughtsTokenCount");
        return new GeminiUsage(
            Count(usage, "promptTokenCount") + Count(usage, "toolUsePromptTokenCount"),
            Count(usage, "candidatesTokenCount") + thoughts,
            Count(usage, "cachedContentTokenCount"),
            thoughts);
    }

    /// <summary>Counts it, cached tokens as read from Google's context cache, which the price table may price apart.</summary>
    public void Report(Usage.UsageMeter meter) => meter.Report(Prompt, Completion, cacheReadTokens: Cached);

    /// <summary>OpenAI's <c>usage</c>, with the cached and reasoning tokens in its details when there are any.</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", Prompt);
        w.WriteNumber("completion_tokens", Completion);
        w.WriteNumber("total_tokens", Total);
        if (Cached > 0)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", Cached);
            w.WriteEndObject();
        }
        if (Thoughts > 0)
        {
            w.WriteStartObject("completion_tokens_details");
            w.WriteNumber("reasoning_tokens", Thoughts);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static int Count(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;
}
