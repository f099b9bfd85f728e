using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API (<c>POST {api_base}/v1/messages</c>, <c>x-api-key</c>, <c>anthropic-version</c>): the client's
/// chat completion is translated into a Messages request and the answer, JSON or SSE, back into OpenAI's shapes.
/// </summary>
internal sealed class AnthropicApi : IProviderApi
{
    public static readonly AnthropicApi Instance = new();

    /// <summary>The API version the translation is written for.</summary>
    public const string Version = "2023-06-01";

    /// <summary>Anthropic's "overloaded": the client gets a 503, which the router retries elsewhere like any other.</summary>
    public const int Overloaded = 529;

    /// <summary>Text as UTF-8, as OpenAI and Anthropic send it: the default encoder's \\u escapes are for HTML, not for APIs.</summary>
    internal static readonly JsonWriterOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route) => new($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1/messages");

    public Uri? ModelsUri(Uri apiBase) => new($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1/models");

    public void Authenticate(HttpRequestMessage request, string? apiKey)
    {
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", apiKey);
        }
        request.Headers.TryAddWithoutValidation("anthropic-version", Version);
    }

    public UpstreamBody WriteBody(in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        using var request = JsonDocument.Parse(clientBody);
        using var output = new PooledBuffer(clientBody.Length + 512);
        bool includeUsage;
        using (var writer = new Utf8JsonWriter(output, Json))
        {
            includeUsage = AnthropicRequest.Write(request.RootElement, upstreamName, writer);
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        var length = output.Count;
        buffer = output.Detach();
        return new UpstreamBody(length, includeUsage);
    }

    public AnswerTranslator? Translate(Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        new AnthropicAnswer(toClient, response, body.IncludeUsage, meter);

    public int ClientStatus(int providerStatus) => providerStatus == Overloaded ? 503 : providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) =>
        new(ClientStatus(answer.Status), "application/json", AnthropicCompletion.Error(ClientStatus(answer.Status), answer.Body));
}
