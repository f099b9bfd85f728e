using Proxy.Core.Forwarding;

namespace Proxy.Core.Usage;

/// <summary>
/// A call's token counts: the provider's own usage, or, when a successful answer carried none (a stream without
/// <c>stream_options.include_usage</c>, a server that omits it), an estimate of one token per four bytes of the
/// request body and of the generated text, so that budgets and tpm limits still see the call (text routes only:
/// <see cref="LlmRoute.EstimatesTokens"/>). <see cref="CacheWrite"/> and <see cref="CacheRead"/> are the part of
/// <see cref="Prompt"/> that went through Anthropic's prompt cache, priced apart.
/// </summary>
internal readonly record struct Tokens(int Prompt, int Completion, int Total, bool Estimated, int CacheWrite = 0, int CacheRead = 0)
{
    /// <summary>A JSON answer's envelope (id, choices, finish_reason...) around its text, roughly.</summary>
    private const int EnvelopeBytes = 200;

    public static Tokens Of(UsageMeter meter, LlmRoute route, int requestBytes, int status)
    {
        if (meter.HasUsage)
        {
            return new Tokens(meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens, false, meter.CacheWriteTokens, meter.CacheReadTokens);
        }
        // Images, audio and moderations: their answers' bytes are not generated text; without usage they count no tokens.
        if (status is < 200 or >= 300 || !route.EstimatesTokens)
        {
            return default;
        }
        var generated = route == LlmRoute.Embeddings ? 0 : meter.WasEventStream ? meter.TextBytes : Math.Max(0, meter.Bytes - EnvelopeBytes);
        var (prompt, completion) = (Quarter(requestBytes), Quarter(generated));
        return new Tokens(prompt, completion, prompt + completion, true);
    }

    private static int Quarter(long bytes) => (int)Math.Min(int.MaxValue, (bytes + 3) / 4);
}
