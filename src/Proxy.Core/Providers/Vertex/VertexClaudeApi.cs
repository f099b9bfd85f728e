using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers.Anthropic;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// Claude on Vertex AI: Anthropic's Messages API at <c>publishers/anthropic/models/{model}:rawPredict</c> (streamed:
/// <c>:streamRawPredict</c>), with the service account's access token. The body is Anthropic's, but the model is named
/// by the URL, not the body, and <c>anthropic_version</c> is <see cref="Version"/>. A chat call is translated as for
/// Anthropic (<see cref="AnthropicRequest"/>, <see cref="AnthropicAnswer"/>); a Messages call passes through with only
/// those two changes. Token counting is done by the gateway (<c>count_tokens</c> is not a Vertex operation).
/// </summary>
internal sealed class VertexClaudeApi : IProviderApi
{
    public static readonly VertexClaudeApi Instance = new();

    /// <summary>The Messages version Vertex AI takes, in the body.</summary>
    public const string Version = "vertex-2023-10-16";

    public bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions || route == LlmRoute.Messages;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route, DeploymentCredentials credentials) =>
        VertexEndpoint.Operation(apiBase, credentials, "anthropic", upstreamName, "rawPredict");

    public Uri StreamUri(Uri upstreamUri) => VertexEndpoint.WithVerb(upstreamUri, "rawPredict", "streamRawPredict");

    public Uri? RegionalBase(DeploymentCredentials credentials) => VertexEndpoint.RegionalBase(credentials);

    public IReadOnlyList<Uri> ModelLists(Uri apiBase) => VertexEndpoint.ModelLists(apiBase);

    public ValueTask AuthenticateAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DeploymentCredentials credentials, CancellationToken ct)
    {
        // The version travels in the body; a Messages caller's anthropic-version header means nothing to Google.
        request.Headers.Remove("anthropic-version");
        return VertexBearer.AuthenticateAsync(request, credentials, ct);
    }

    public UpstreamBody WriteBody(LlmRoute route, in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        if (route.Dialect == ApiDialect.Anthropic)
        {
            // The gateway's routing fields go first, as for every provider; then model goes and the version comes.
            var length = OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer);
            return Passthrough(buffer.AsMemory(0, length), ref buffer);
        }
        using var request = JsonDocument.Parse(clientBody);
        using var output = new PooledBuffer(clientBody.Length + 512);
        bool includeUsage;
        using (var writer = new Utf8JsonWriter(output, WireJson.Options))
        {
            includeUsage = AnthropicRequest.Write(request.RootElement, upstreamName, writer, Version);
        }
        var streams = request.RootElement.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
        return Detach(output, ref buffer, includeUsage, streams);
    }

    /// <summary>A Messages body as sent, without <c>model</c> and with Vertex's <c>anthropic_version</c>.</summary>
    private static UpstreamBody Passthrough(ReadOnlyMemory<byte> messages, ref byte[] buffer)
    {
        using var request = JsonDocument.Parse(messages);
        using var output = new PooledBuffer(messages.Length + 64);
        var streams = false;
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("anthropic_version", Version);
            foreach (var property in request.RootElement.EnumerateObject())
            {
                if (property.NameEquals("model") || property.NameEquals("anthropic_version"))
                {
                    continue;
                }
                streams |= property.NameEquals("stream") && property.Value.ValueKind == JsonValueKind.True;
                property.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Detach(output, ref buffer, includeUsage: false, streams);
    }

    private static UpstreamBody Detach(PooledBuffer output, ref byte[] buffer, bool includeUsage, bool streams)
    {
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        var length = output.Count;
        buffer = output.Detach();
        return new UpstreamBody(length, includeUsage, streams);
    }

    /// <summary>A chat call's answer as Anthropic's is translated; a Messages caller gets Anthropic's own, Google's errors in Anthropic's shape.</summary>
    public AnswerTranslator? Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        route.Dialect == ApiDialect.Anthropic ? new VertexMessagesAnswer(toClient, response) : AnthropicApi.Instance.Translate(route, toClient, response, body, meter);

    /// <summary>Google's front end answers 500, 503 and 504 of its own beside Anthropic's 529: each is a 503 the router retries elsewhere.</summary>
    public int ClientStatus(int providerStatus) => providerStatus >= 500 ? 503 : providerStatus;

    /// <summary>Anthropic's error shape and Google's (<c>{"error": {"code", "message", "status"}}</c>) both carry <c>error.message</c>.</summary>
    public HeldBackAnswer ForClient(HeldBackAnswer answer) =>
        new(ClientStatus(answer.Status), "application/json", AnthropicCompletion.Error(ClientStatus(answer.Status), answer.Body));
}
