using Proxy.Core.Dialects;
using Proxy.Core.Dialects.Messages;
using Proxy.Core.Dialects.Responses;

namespace Proxy.Core.Forwarding;

/// <summary>An OpenAI operation the gateway forwards, by the path segment both provider shapes share.</summary>
public sealed record LlmRoute(string Operation, int Index)
{
    public static readonly LlmRoute ChatCompletions = new("chat/completions", 0);
    public static readonly LlmRoute Completions = new("completions", 1);
    public static readonly LlmRoute Embeddings = new("embeddings", 2);
    public static readonly LlmRoute Responses = new("responses", 3) { Inbound = ResponsesDialect.Instance };
    public static readonly LlmRoute ImageGenerations = new("images/generations", 4) { EstimatesTokens = false };
    public static readonly LlmRoute Moderations = new("moderations", 5) { EstimatesTokens = false };
    public static readonly LlmRoute AudioSpeech = new("audio/speech", 6) { EstimatesTokens = false };
    public static readonly LlmRoute AudioTranscriptions = new("audio/transcriptions", 7) { EstimatesTokens = false, IsForm = true };

    /// <summary>Anthropic's Messages API, inbound: passed through to Anthropic deployments with only <c>model</c> rewritten, translated for the others.</summary>
    public static readonly LlmRoute Messages = new("messages", 8)
    {
        Dialect = ApiDialect.Anthropic, RequiredFields = ["max_tokens", "messages"], Inbound = MessagesDialect.Instance,
    };

    /// <summary>
    /// Anthropic's token count: the same access rules as <see cref="Messages"/>, free at Anthropic, so no usage or spend.
    /// A deployment that is not Anthropic's gets no call: the gateway counts with the model's tokenizer (<see cref="TokenCount"/>).
    /// </summary>
    public static readonly LlmRoute MessagesCountTokens = new("messages/count_tokens", 9)
    {
        Dialect = ApiDialect.Anthropic, RequiredFields = ["messages"], EstimatesTokens = false, IsAccounted = false,
    };

    /// <summary>Every route, at its <see cref="Index"/>.</summary>
    public static IReadOnlyList<LlmRoute> All { get; } = [ChatCompletions, Completions, Embeddings, Responses, ImageGenerations, Moderations, AudioSpeech, AudioTranscriptions, Messages, MessagesCountTokens];

    /// <summary>
    /// A successful answer without <c>usage</c> is counted by an estimate from its bytes (text routes). Not for images
    /// and audio, whose bytes are not text: without <c>usage</c> they count 0 tokens.
    /// </summary>
    public bool EstimatesTokens { get; private init; } = true;

    /// <summary>The body is <c>multipart/form-data</c> with <c>model</c> as a form field (<see cref="FormModel"/>), not JSON.</summary>
    public bool IsForm { get; private init; }

    /// <summary>The API the caller speaks on this route: its body's shape, and the shape of every error it gets (docs/api.md section 2).</summary>
    public ApiDialect Dialect { get; private init; } = ApiDialect.OpenAI;

    /// <summary>Top-level fields the body must have besides <c>model</c> (checked for presence only, as the provider would refuse it anyway).</summary>
    public IReadOnlyList<string> RequiredFields { get; private init; } = [];

    /// <summary>An answered call gets a usage record and is charged to spend and tpm (not a free token count).</summary>
    public bool IsAccounted { get; private init; } = true;

    /// <summary>The caller's dialect spoken through chat completions to a deployment that does not serve this route; null: none.</summary>
    internal IInboundDialect? Inbound { get; private init; }
}
