using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// Google AI Studio's Gemini API: <c>POST {api_base}/v1beta/models/{model}:generateContent</c> (a stream at
/// <c>:streamGenerateContent?alt=sse</c>, embeddings at <c>:batchEmbedContents</c>), the key in <c>x-goog-api-key</c>.
/// Only where the call goes and how it authenticates is here; the translation both ways is <see cref="GeminiDialect"/>'s,
/// which Gemini on Vertex AI shares with another URL and credential.
/// </summary>
internal sealed class GeminiApi : IProviderApi
{
    public static readonly GeminiApi Instance = new();

    public const string KeyHeader = "x-goog-api-key";

    public bool Serves(LlmRoute route) => GeminiDialect.Serves(route);

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        new($"{Models(apiBase)}/{Uri.EscapeDataString(upstreamName)}:{(route == LlmRoute.Embeddings ? "batchEmbedContents" : "generateContent")}");

    public Uri StreamUri(Uri upstreamUri) =>
        upstreamUri.AbsoluteUri.EndsWith(":generateContent", StringComparison.Ordinal)
            ? new(upstreamUri.AbsoluteUri[..^"generateContent".Length] + "streamGenerateContent?alt=sse")
            : upstreamUri;

    /// <summary>Gemini lists 50 models a page unless asked for more; 1000 is its most, more than it has.</summary>
    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => [new($"{Models(apiBase)}?pageSize=1000")];

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        // A caller's own x-goog-api-key never reaches Google beside (or instead of) the deployment's.
        request.Headers.Remove(KeyHeader);
        if (credentials.ApiKey is { } apiKey)
        {
            request.Headers.TryAddWithoutValidation(KeyHeader, apiKey);
        }
        return ValueTask.CompletedTask;
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        GeminiDialect.WriteBody(route, clientBody, $"models/{upstreamName}", ref buffer);

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        GeminiDialect.Translate(route, toClient, response, body, meter);

    public int ClientStatus(int providerStatus) => GeminiDialect.ClientStatus(providerStatus);

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => GeminiDialect.ForClient(answer);

    /// <summary>
    /// <c>{api_base}/v1beta/models</c>; an api_base that already ends in the API version (LiteLLM's form, e.g.
    /// <c>https://generativelanguage.googleapis.com/v1beta</c> or a gateway's <c>.../google-ai-studio/v1beta</c>) gets only <c>/models</c>.
    /// </summary>
    private static string Models(Uri apiBase)
    {
        var root = apiBase.AbsoluteUri.TrimEnd('/');
        return root[(root.LastIndexOf('/') + 1)..] is "v1beta" or "v1" or "v1alpha" ? $"{root}/models" : $"{root}/v1beta/models";
    }
}
