namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// A Vertex AI model's publisher decides the API it speaks: Anthropic's Claude models take Messages
/// (<c>:rawPredict</c>), Google's Gemini models take <c>generateContent</c>. The name tells which, as in LiteLLM.
/// </summary>
internal static class VertexModels
{
    /// <summary>The dialect for <paramref name="upstreamName"/> (without <c>vertex_ai/</c>); null for a model the gateway does not speak.</summary>
    public static IProviderApi? ApiFor(string upstreamName) =>
        upstreamName.StartsWith("claude-", StringComparison.OrdinalIgnoreCase) ? VertexClaudeApi.Instance
        : upstreamName.StartsWith("gemini-", StringComparison.OrdinalIgnoreCase) ? VertexGeminiApi.Instance
        : null;
}
