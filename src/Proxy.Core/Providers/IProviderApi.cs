using System.Text.Json;
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
    /// <summary>The OpenAI routes it can serve.</summary>
    bool Serves(LlmRoute route);

    Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route);

    /// <summary>Where the provider lists its models (<c>{"data": [{"id": ...}]}</c>); null when it has no such list.</summary>
    Uri? ModelsUri(Uri apiBase);

    /// <summary>The provider's own headers: its key (when the deployment has one) and any it always wants.</summary>
    void Authenticate(HttpRequestMessage request, string? apiKey);

    /// <summary>The provider's body for the client's, in <paramref name="buffer"/> (a pooled one, replaced when too small).</summary>
    UpstreamBody WriteBody(in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer);

    /// <summary>
    /// The stream the provider's answer is written into so that <paramref name="toClient"/> gets it in OpenAI's shape;
    /// null when it already is.
    /// </summary>
    AnswerTranslator? Translate(Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter);

    /// <summary>The status the client gets for the provider's (Anthropic's 529 "overloaded" is a 503).</summary>
    int ClientStatus(int providerStatus);

    /// <summary>A provider error held back for a retry, as the client gets it when nothing better came.</summary>
    HeldBackAnswer ForClient(HeldBackAnswer answer);
}

/// <summary>What an attempt sends: the body's length in the attempt's buffer, and what the client asked of a stream.</summary>
internal readonly record struct UpstreamBody(int Length, bool IncludeUsage = false);

/// <summary>Turns a provider's answer into OpenAI's as it is written; <see cref="CompleteAsync"/> once the provider is done.</summary>
internal abstract class AnswerTranslator : Stream
{
    /// <summary>Writes what is still held (a whole JSON answer is translated only once it is complete).</summary>
    public abstract ValueTask CompleteAsync(CancellationToken ct);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>OpenAI's own API, and every server that speaks it: <c>{api_base}/{operation}</c> with a Bearer key.</summary>
internal sealed class OpenAIApi : IProviderApi
{
    public static readonly OpenAIApi Instance = new();

    public bool Serves(LlmRoute route) => true;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route) => new($"{apiBase.AbsoluteUri.TrimEnd('/')}/{route.Operation}");

    public Uri? ModelsUri(Uri apiBase) => new($"{apiBase.AbsoluteUri.TrimEnd('/')}/models");

    public void Authenticate(HttpRequestMessage request, string? apiKey)
    {
        if (apiKey is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public UpstreamBody WriteBody(in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        new(OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer));

    public AnswerTranslator? Translate(Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) => null;

    public int ClientStatus(int providerStatus) => providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => answer;
}

/// <summary>Azure OpenAI: <c>{api_base}/openai/deployments/{deployment}/{operation}?api-version=…</c> with an <c>api-key</c> header.</summary>
internal sealed class AzureApi : IProviderApi
{
    public static readonly AzureApi Instance = new();

    public bool Serves(LlmRoute route) => true;

    public Uri UpstreamUri(Uri apiBase, string upstreamName, string? apiVersion, LlmRoute route) =>
        new($"{apiBase.AbsoluteUri.TrimEnd('/')}/openai/deployments/{Uri.EscapeDataString(upstreamName)}/{route.Operation}?api-version={Uri.EscapeDataString(apiVersion ?? Provider.AzureDefaultApiVersion)}");

    /// <summary>An Azure resource's deployments are the team's own names: there is no list to pick from.</summary>
    public Uri? ModelsUri(Uri apiBase) => null;

    public void Authenticate(HttpRequestMessage request, string? apiKey)
    {
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("api-key", apiKey);
        }
    }

    public UpstreamBody WriteBody(in ModelField field, ReadOnlyMemory<byte> clientBody, string upstreamName, ref byte[] buffer) =>
        new(OpenAIBody.Write(field, clientBody.Span, upstreamName, ref buffer));

    public AnswerTranslator? Translate(Stream toClient, HttpResponse response, UpstreamBody body, Usage.UsageMeter meter) => null;

    public int ClientStatus(int providerStatus) => providerStatus;

    public HeldBackAnswer ForClient(HeldBackAnswer answer) => answer;
}

/// <summary>The client's body as is, but for <c>model</c> (and the gateway's routing fields).</summary>
internal static class OpenAIBody
{
    public static int Write(in ModelField field, ReadOnlySpan<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        var needed = ModelField.MaxRewrittenLength(clientBody.Length, upstreamName);
        if (buffer.Length < needed)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(needed);
        }
        return field.Rewrite(clientBody, upstreamName, buffer);
    }
}
