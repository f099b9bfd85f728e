using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API (<c>POST {api_base}/v1/messages</c>, <c>x-api-key</c>, <c>anthropic-version</c>): the client's
/// chat completion is translated into a Messages request and the answer, JSON or SSE, back into OpenAI's shapes. A call
/// to the gateway's own Messages routes (<see cref="ApiDialect.Anthropic"/>) passes through as sent, only <c>model</c>
/// rewritten, with the caller's <c>anthropic-version</c> and <c>anthropic-beta</c>, and its answer and errors as Anthropic sent them.
/// </summary>
internal sealed class AnthropicApi : IProviderApi
{
    public static readonly AnthropicApi Instance = new();

    /// <summary>The API version the translation is written for.</summary>
    public const string Version = "2023-06-01";

    /// <summary>Anthropic's "overloaded": the client gets a 503, which the router retries elsewhere like any other.</summary>
    public const int Overloaded = 529;

    public bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions || route.Dialect == ApiDialect.Anthropic;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        new($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1/{(route == LlmRoute.MessagesCountTokens ? route.Operation : "messages")}");

    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => [new($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1/models")];

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        if (credentials.ApiKey is { } apiKey)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", apiKey);
        }
        // A Messages caller's own version (kept by UpstreamTransformer) wins; a translated chat call gets the translation's.
        if (!request.Headers.Contains("anthropic-version"))
        {
            request.Headers.TryAddWithoutValidation("anthropic-version", Version);
        }
        return ValueTask.CompletedTask;
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        if (route.Dialect == ApiDialect.Anthropic)
        {
            return new UpstreamBody(OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer));
        }
        using var request = JsonDocument.Parse(clientBody);
        using var output = new PooledBuffer(clientBody.Length + 512);
        bool includeUsage;
        using (var writer = new Utf8JsonWriter(output, WireJson.Options))
        {
            includeUsage = AnthropicRequest.Write(request.RootElement, upstreamName, writer);
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        var length = output.Count;
        buffer = output.Detach();
        return new UpstreamBody(length, includeUsage);
    }

    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        route.Dialect == ApiDialect.Anthropic ? null : new AnthropicAnswer(toClient, response, body.IncludeUsage, meter);

    public int ClientStatus(int providerStatus) => providerStatus == Overloaded ? 503 : providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) =>
        new(ClientStatus(answer.Status), "application/json", AnthropicCompletion.Error(ClientStatus(answer.Status), answer.Body));
}
