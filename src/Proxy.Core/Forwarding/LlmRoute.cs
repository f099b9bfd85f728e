namespace Proxy.Core.Forwarding;

/// <summary>An OpenAI operation the gateway forwards, by the path segment both provider shapes share.</summary>
public sealed record LlmRoute(string Operation, int Index)
{
    public static readonly LlmRoute ChatCompletions = new("chat/completions", 0);
    public static readonly LlmRoute Completions = new("completions", 1);
    public static readonly LlmRoute Embeddings = new("embeddings", 2);
    public static readonly LlmRoute Responses = new("responses", 3);
    public static readonly LlmRoute ImageGenerations = new("images/generations", 4) { EstimatesTokens = false };
    public static readonly LlmRoute Moderations = new("moderations", 5) { EstimatesTokens = false };
    public static readonly LlmRoute AudioSpeech = new("audio/speech", 6) { EstimatesTokens = false };
    public static readonly LlmRoute AudioTranscriptions = new("audio/transcriptions", 7) { EstimatesTokens = false, IsForm = true };

    /// <summary>Every route, at its <see cref="Index"/>.</summary>
    public static IReadOnlyList<LlmRoute> All { get; } = [ChatCompletions, Completions, Embeddings, Responses, ImageGenerations, Moderations, AudioSpeech, AudioTranscriptions];

    /// <summary>
    /// A successful answer without <c>usage</c> is counted by an estimate from its bytes (text routes). Not for images
    /// and audio, whose bytes are not text: without <c>usage</c> they count 0 tokens.
    /// </summary>
    public bool EstimatesTokens { get; private init; } = true;

    /// <summary>The body is <c>multipart/form-data</c> with <c>model</c> as a form field (<see cref="FormModel"/>), not JSON.</summary>
    public bool IsForm { get; private init; }
}
