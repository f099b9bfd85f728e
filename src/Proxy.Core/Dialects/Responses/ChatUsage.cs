namespace Proxy.Core.Dialects.Responses;

/// <summary>A chat answer's token counts, with the parts the Responses API reports apart (cached input, reasoning output).</summary>
internal readonly record struct ChatUsage(int PromptTokens, int CompletionTokens, int CachedTokens, int ReasoningTokens);
