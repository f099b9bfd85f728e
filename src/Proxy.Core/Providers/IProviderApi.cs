using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers;

/// <summary>
/// How the gateway speaks one provider's API. The forwarder asks it, for each attempt, where the call goes, how it
/// authenticates, what body the provider gets, and how the answer gets back to the client in OpenAI's shape. An
/// OpenAI-shaped dialect passes body and answer through; a translating one (Anthropic) rewrites both.
/// </summary>
internal interface IProviderApi
{
    /// <summary>The routes it can serve (the OpenAI ones, and Anthropic's Messages for Anthropic).</summary>
    bool Serves(LlmRoute route);

    Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route);

    /// <summary>Where a streamed call goes when not to <see cref="UpstreamUri"/> (Gemini's <c>:streamGenerateContent?alt=sse</c>); null: the same place.</summary>
    Uri? StreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route) => null;

    /// <summary>Where the provider lists its models (<c>{"data": [{"id": ...}]}</c>); null when it has no such list.</summary>
    Uri? ModelsUri(Uri apiBase);

    /// <summary>The provider's own headers: its key (when the deployment has one) and any it always wants.</summary>
    void Authenticate(HttpRequestMessage request, string? apiKey);

    /// <summary>The provider's body for the client's, in <paramref name="buffer"/> (a pooled one, replaced when too small).</summary>
    UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer);

    /// <summary>
    /// The stream the provider's answer is written into so that <paramref name="toClient"/> gets it in OpenAI's shape;
    /// null when it already is.
    /// </summary>
    AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter);

    /// <summary>The status the client gets for the provider's (Anthropic's 529 "overloaded" is a 503).</summary>
    int ClientStatus(int providerStatus);

    /// <summary>A provider error held back for a retry, as the client gets it when nothing better came.</summary>
    HeldBackAnswer ForClient(HeldBackAnswer answer);
}
