using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// The Gemini translation as an <see cref="IProviderApi"/> uses it, whatever the URL and credential (Google AI Studio's
/// <see cref="GeminiApi"/>, Gemini on Vertex AI): chat completions to <c>generateContent</c> and back
/// (<see cref="GeminiRequest"/>, <see cref="GeminiAnswer"/>), embeddings to <c>batchEmbedContents</c> and back
/// (<see cref="GeminiEmbeddingRequest"/>, <see cref="GeminiEmbeddingAnswer"/>), and Google's errors as OpenAI's.
/// </summary>
internal static class GeminiDialect
{
    /// <summary>Chat completions and embeddings; the Messages and Responses routes reach it through chat completions.</summary>
    public static bool Serves(LlmRoute route) => route == LlmRoute.ChatCompletions || route == LlmRoute.Embeddings;

    /// <param name="model">The model as a batch embedding request names it (<c>models/{model}</c> on AI Studio).</param>
    public static UpstreamBody WriteBody(LlmRoute route, ReadOnlyMemory<byte> clientBody, string model, ref byte[] buffer)
    {
        using var request = JsonDocument.Parse(clientBody);
        using var output = new PooledBuffer(clientBody.Length + 512);
        UpstreamBody written;
        using (var writer = new Utf8JsonWriter(output, WireJson.Options))
        {
            written = route == LlmRoute.Embeddings
                ? GeminiEmbeddingRequest.Write(request.RootElement, model, writer)
                : GeminiRequest.Write(request.RootElement, writer);
        }
        ArrayPool<byte>.Shared.Return(buffer);
        var length = output.Count;
        buffer = output.Detach();
        return written with { Length = length };
    }

    public static AnswerTranslator Translate(LlmRoute route, Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) =>
        route == LlmRoute.Embeddings
            ? new GeminiEmbeddingAnswer(toClient, response, (GeminiAsked)body.Asked)
            : new GeminiAnswer(toClient, response, body.IncludeUsage, (GeminiAsked)body.Asked, meter);

    /// <summary>Google's 5xx (500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED) are a 503 the router retries elsewhere; the rest as Google said.</summary>
    public static int ClientStatus(int providerStatus) => providerStatus >= 500 ? 503 : providerStatus;

    public static HeldBackAnswer ForClient(HeldBackAnswer answer) =>
        new(ClientStatus(answer.Status), "application/json", GeminiError.Translate(ClientStatus(answer.Status), answer.Body));
}
