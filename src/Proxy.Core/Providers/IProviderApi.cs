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

    /// <summary>Where a call on <paramref name="route"/> goes; built once per deployment when the route snapshot is.</summary>
    Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials);

    /// <summary>
    /// Where a streamed call goes, when the provider streams on an operation of its own (Bedrock's
    /// <c>converse-stream</c>, Gemini's and Vertex's <c>streamGenerateContent</c>); the same URI for the others. Built once too.
    /// </summary>
    Uri StreamUri(Uri upstreamUri) => upstreamUri;

    /// <summary>The provider's endpoint from the deployment's cloud params (Bedrock's region), when no api_base is given; null: none.</summary>
    Uri? RegionalBase(DeploymentCredentials credentials) => null;

    /// <summary>
    /// Where the provider lists its models (<see cref="ModelListPage"/> reads each provider's shape); several lists for
    /// Bedrock (its models and its inference profiles) and Vertex AI (Google's and Anthropic's); empty when it has none.
    /// </summary>
    IReadOnlyList<Uri> ModelLists(Uri apiBase);

    /// <summary>
    /// The provider's own headers: its key (when the deployment has one) and any it always wants; a cloud provider's
    /// signature (Bedrock signs the final URL and <paramref name="body"/>) or access token (Vertex, cached). Called last,
    /// on the request as it will be sent. A key-only provider completes synchronously and allocates nothing.
    /// </summary>
    /// <param name="body">The request's body exactly as sent (empty for a GET).</param>
    ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct);

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
