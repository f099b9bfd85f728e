using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>
/// Amazon Bedrock's Converse API (<c>POST {endpoint}/model/{modelId}/converse</c>, and <c>/converse-stream</c> for a
/// stream), every call signed with SigV4 by <see cref="BedrockSigner"/>. The client's chat completion is translated into
/// a Converse request (<see cref="BedrockRequest"/>) and the answer, JSON or event stream, back into OpenAI's shapes
/// (<see cref="BedrockAnswer"/>). Chat completions only: the Messages and Responses routes reach it through them.
/// </summary>
internal sealed class BedrockApi : IProviderApi
{
    public static readonly BedrockApi Instance = new();

    public bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions;

    /// <summary>The model id is one path segment: its <c>:</c> (and an ARN's <c>/</c>) percent-encoded, as the AWS SDKs send it.</summary>
    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        new($"{apiBase.AbsoluteUri.TrimEnd('/')}/model/{Uri.EscapeDataString(upstreamName)}/converse");

    public Uri StreamUri(Uri upstreamUri) => new(upstreamUri.AbsoluteUri + "-stream");

    public Uri? RegionalBase(DeploymentCredentials credentials) =>
        credentials.AwsRegionName is { } region ? new Uri($"https://bedrock-runtime.{region}.amazonaws.com") : null;

    /// <summary>
    /// The foundation models and the inference profiles, both on Bedrock's control plane: <c>bedrock.{region}</c> for
    /// <c>bedrock-runtime.{region}</c> (the same signing service, <c>bedrock</c>); an api_base naming no runtime host is asked as it is.
    /// </summary>
    public IReadOnlyList<Uri> ModelLists(Uri apiBase)
    {
        var control = new UriBuilder(apiBase) { Host = apiBase.Host.Replace("bedrock-runtime", "bedrock", StringComparison.OrdinalIgnoreCase) }.Uri.AbsoluteUri.TrimEnd('/');
        return [new($"{control}/foundation-models"), new($"{control}/inference-profiles?maxResults=1000")];
    }

    /// <summary>
    /// SigV4 over the final URL and body with the deployment's AWS keys; a deployment with a Bedrock API key instead
    /// (<c>api_key</c>) sends it as a Bearer token, as Bedrock takes it.
    /// </summary>
    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        if (request.Content is not null)
        {
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        if (credentials.AwsAccessKeyId is not null && credentials.AwsSecretAccessKey is not null && credentials.AwsRegionName is not null)
        {
            // The signer's headers replace any a caller sent; a caller's security token would fail a call signed without one.
            request.Headers.Remove("x-amz-security-token");
            foreach (var (name, value) in BedrockSigner.Sign(request.Method, request.RequestUri!, body, credentials))
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        else if (credentials.ApiKey is { } apiKey)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
        return ValueTask.CompletedTask;
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        using var request = System.Text.Json.JsonDocument.Parse(clientBody);
        using var output = new PooledBuffer(clientBody.Length + 256);
        (bool Stream, bool IncludeUsage) asked;
        using (var writer = new System.Text.Json.Utf8JsonWriter(output, WireJson.Options))
        {
            asked = BedrockRequest.Write(request.RootElement, writer);
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        var length = output.Count;
        buffer = output.Detach();
        return new UpstreamBody(length, asked.IncludeUsage, asked.Stream, upstreamName);
    }

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        new BedrockAnswer(toClient, response, body.IncludeUsage, body.Model ?? "", meter);

    /// <summary>Bedrock's throttling (429) is retried elsewhere as it is; any 5xx (ServiceUnavailable, ModelNotReady, InternalServer) is a 503.</summary>
    public int ClientStatus(int providerStatus) => providerStatus >= 500 ? 503 : providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) =>
        new(ClientStatus(answer.Status), "application/json", BedrockCompletion.Error(ClientStatus(answer.Status), answer.ErrorType, answer.Body));
}
