using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers;

/// <summary>
/// OpenAI's own API, and every server that speaks it: <c>{api_base}/{operation}</c> with a Bearer key. The compatible
/// families answer chat completions but mostly not the Responses API, so a Responses call reaches them translated.
/// </summary>
internal sealed class OpenAIApi(bool servesResponses) : IProviderApi
{
    public static readonly OpenAIApi Instance = new(servesResponses: true);

    /// <summary>A server that speaks OpenAI's chat completions but not its Responses API (Groq, vLLM, Ollama, ...).</summary>
    public static readonly OpenAIApi Compatible = new(servesResponses: false);

    public bool Serves(LlmRoute route) => route.Dialect == ApiDialect.OpenAI && (servesResponses || route != LlmRoute.Responses);

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) => new($"{apiBase.AbsoluteUri.TrimEnd('/')}/{route.Operation}");

    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => [new($"{apiBase.AbsoluteUri.TrimEnd('/')}/models")];

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        if (credentials.ApiKey is { } apiKey)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
        return ValueTask.CompletedTask;
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        new(OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer));

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) => null;

    public int ClientStatus(int providerStatus) => providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => answer;
}
