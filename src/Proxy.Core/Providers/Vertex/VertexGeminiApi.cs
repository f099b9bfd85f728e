using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers.Gemini;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// Gemini on Vertex AI: <c>publishers/google/models/{model}:generateContent</c> (streamed:
/// <c>:streamGenerateContent?alt=sse</c>) with the service account's access token. The request and answer are Gemini's
/// as on Google AI Studio, so the translation is <see cref="GeminiDialect"/>'s; only the URL and the credential differ.
/// Chat completions only: Vertex's embeddings are another API (<c>:predict</c>), and the Messages and Responses routes
/// reach it through chat completions.
/// </summary>
internal sealed class VertexGeminiApi : IProviderApi
{
    public static readonly VertexGeminiApi Instance = new();

    public bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        VertexEndpoint.Operation(apiBase, credentials, "google", upstreamName, "generateContent");

    public Uri StreamUri(Uri upstreamUri) => new(VertexEndpoint.WithVerb(upstreamUri, "generateContent", "streamGenerateContent").AbsoluteUri + "?alt=sse");

    public Uri? RegionalBase(DeploymentCredentials credentials) => VertexEndpoint.RegionalBase(credentials);

    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => VertexEndpoint.ModelLists(apiBase);

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct) =>
        VertexBearer.AuthenticateAsync(request, credentials, ct);

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        GeminiDialect.WriteBody(route, clientBody, upstreamName, ref buffer);

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        GeminiDialect.Translate(route, toClient, response, body, meter);

    public int ClientStatus(int providerStatus) => GeminiDialect.ClientStatus(providerStatus);

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => GeminiDialect.ForClient(answer);
}
