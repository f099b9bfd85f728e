namespace Proxy.Core.Forwarding;

/// <summary>An OpenAI operation the gateway forwards, by the path segment both provider shapes share.</summary>
public sealed record LlmRoute(string Operation)
{
    public static readonly LlmRoute ChatCompletions = new("chat/completions");
    public static readonly LlmRoute Completions = new("completions");
    public static readonly LlmRoute Embeddings = new("embeddings");
    public static readonly LlmRoute Responses = new("responses");
}
