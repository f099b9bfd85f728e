using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers;

/// <summary>Azure OpenAI: <c>{api_base}/openai/deployments/{deployment}/{operation}?api-version=…</c> with an <c>api-key</c> header.</summary>
internal sealed class AzureApi : IProviderApi
{
    public static readonly AzureApi Instance = new();

    /// <summary>Azure OpenAI has no moderations operation (its content filter runs on every call).</summary>
    public bool Serves(LlmRoute route) => route.Dialect == ApiDialect.OpenAI && !ReferenceEquals(route, LlmRoute.Moderations);

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        new($"{apiBase.AbsoluteUri.TrimEnd('/')}/openai/deployments/{Uri.EscapeDataString(upstreamName)}/{route.Operation}?api-version={Uri.EscapeDataString(apiVersion ?? Provider.AzureDefaultApiVersion)}");

    /// <summary>An Azure resource's deployments are the team's own names: there is no list to pick from.</summary>
    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => [];

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        if (credentials.ApiKey is { } apiKey)
        {
            request.Headers.TryAddWithoutValidation("api-key", apiKey);
        }
        return ValueTask.CompletedTask;
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        new(OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer));

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) => null;

    public int ClientStatus(int providerStatus) => providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => answer;
}
