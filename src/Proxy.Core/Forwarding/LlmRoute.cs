namespace Proxy.Core.Forwarding;

/// <summary>An OpenAI operation the gateway forwards, by the path segment both provider shapes share.</summary>
public sealed record LlmRoute(string Operation, int Index)
{
    public static readonly LlmRoute ChatCompletions = new("chat/completions", 0);
    public static readonly LlmRoute Completions = new("completions", 1);
    public static readonly LlmRoute Embeddings = new("embeddings", 2);
    public static readonly LlmRoute Responses = new("responses", 3);

    /// <summary>Every route, at its <see cref="Index"/>.</summary>
    public static IReadOnlyList<LlmRoute> All { get; } = [ChatCompletions, Completions, Embeddings, Responses];
}
