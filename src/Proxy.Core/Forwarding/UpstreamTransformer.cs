using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Dialects;
using Proxy.Core.Providers;
using Proxy.Core.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Shapes one upstream attempt: the provider's URL and credential in, the caller's key and identifying headers out.
/// On the way back it decides whether the provider's answer goes to the client, or is held back because the call will
/// be tried again elsewhere (<see cref="Next"/> says what the call still has): then nothing of it reaches the client,
/// and what it said is kept in <see cref="HeldBack"/> in case no later attempt does better.
/// Everything else (hop-by-hop handling, streaming the body both ways) is YARP's default.
/// <paramref name="inbound"/>: the caller's dialect is spoken to the deployment through chat completions.
/// <paramref name="streams"/>: the provider is asked for a stream (<see cref="UpstreamBody.Streams"/>).
/// </summary>
/// <paramref name="streams"/>: the body asks the provider's streaming operation (<see cref="UpstreamBody.Streams"/>).
internal sealed class UpstreamTransformer(
    DeploymentEntry deployment, LlmRoute route, string callId, AttemptsLeft next = default, Attempted attempted = default, IInboundDialect? inbound = null,
    bool streams = false)
    : HttpTransformer
{
    /// <summary>Headers that identify or authenticate the caller to the gateway; the provider must never see them.</summary>
    private static readonly string[] CallerHeaders =
    [
        "Authorization", "x-litellm-api-key", "api-key", "x-api-key", "Cookie", "OpenAI-Organization", "OpenAI-Project",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP",
    ];

    /// <summary>A provider's error body is read whole only up to this size (real ones are a few hundred bytes).</summary>
    private const int MaxErrorBody = 1024 * 1024;

    /// <summary>Counts gateways a call has passed, so an api_base that leads back here ends instead of looping.</summary>
    public const string HopHeader = "x-llm-gateway-hops";
    public const int MaxHops = 5;

    /// <summary>The only caller headers an Anthropic-dialect route (Messages) forwards; its provider gets nothing else of the caller's.</summary>
    private static readonly string[] AnthropicCallerHeaders = ["anthropic-version", "anthropic-beta"];

    private readonly long _started = Stopwatch.GetTimestamp();

    public LlmRoute Route => route;

    /// <summary>The route the provider is called on: the caller's, or chat completions when the call is translated through them.</summary>
    public LlmRoute UpstreamRoute => inbound is null ? route : LlmRoute.ChatCompletions;

    /// <summary>The caller's dialect spoken through chat completions; null when the deployment serves the route itself.</summary>
    public IInboundDialect? Inbound => inbound;

    /// <summary>A Messages call passed through to Anthropic: the caller speaks the provider's own dialect.</summary>
    private bool IsAnthropicPassthrough => route.Dialect == ApiDialect.Anthropic && inbound is null;

    /// <summary>The provider's status, once it answered.</summary>
    public int? Status { get; private set; }

    /// <summary>The provider's answer, when it was held back for another attempt.</summary>
    public HeldBackAnswer? HeldBack { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var incoming = httpContext.Request.Headers;
        if (route.Dialect == ApiDialect.Anthropic || inbound is not null)
        {
            // A coding tool sends its own telemetry, session and client headers. A Messages call passed through to
            // Anthropic keeps Anthropic's two; a translated call keeps none, as they mean nothing to the other provider.
            foreach (var header in proxyRequest.Headers.Select(h => h.Key).ToArray())
            {
                if (!IsAnthropicPassthrough || !AnthropicCallerHeaders.Contains(header, StringComparer.OrdinalIgnoreCase))
                {
                    proxyRequest.Headers.Remove(header);
                }
            }
        }
        foreach (var header in CallerHeaders)
        {
            // Looked up where it is cheap (Kestrel's known headers are fields), removed only where it was copied.
            if (incoming.ContainsKey(header))
            {
                proxyRequest.Headers.Remove(header);
            }
        }
        proxyRequest.RequestUri = streams ? deployment.StreamUri(UpstreamRoute) : deployment.UpstreamUri(UpstreamRoute);
        var hops = int.TryParse(httpContext.Request.Headers[HopHeader], out var seen) ? seen : 0;
        proxyRequest.Headers.Remove(HopHeader);
        proxyRequest.Headers.TryAddWithoutValidation(HopHeader, (hops + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        proxyRequest.Headers.Host = null;
        await deployment.Api.AuthenticateAsync(proxyRequest, SentBody(httpContext), deployment.Credentials, cancellationToken);
    }

    /// <summary>
    /// The body the provider gets: the attempt's buffer, which <see cref="Attempt.Prepare"/> (and the probe) hand YARP
    /// as a visible <see cref="MemoryStream"/>, so a provider that signs it (Bedrock) reads it without a copy.
    /// </summary>
    private static ReadOnlyMemory<byte> SentBody(HttpContext httpContext) =>
        httpContext.Request.Body is MemoryStream sent && sent.TryGetBuffer(out var bytes) ? bytes.AsMemory() : ReadOnlyMemory<byte>.Empty;

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }
        deployment.State.Answered(Stopwatch.GetElapsedTime(_started));
        // A Messages caller speaks Anthropic: it gets Anthropic's own status (529 "overloaded" included).
        var status = IsAnthropicPassthrough ? (int)proxyResponse.StatusCode : deployment.Api.ClientStatus((int)proxyResponse.StatusCode);
        Status = status;
        var failure = UpstreamFailures.OfStatus(status);
        if (failure is not UpstreamFailure.None && next.After(failure))
        {
            // Nothing of this answer reaches the client: the call goes on elsewhere.
            HeldBack = await HeldBackAnswer.ReadAsync(proxyResponse, status, MaxErrorBody, cancellationToken);
            return false;
        }
        if (status == 400 && next.ContextWindowFallback && proxyResponse.Content.Headers.ContentLength is null or (> 0 and <= MaxErrorBody))
        {
            // Only a context-window error moves to a context_window_fallback: the body tells. Read here, it is sent from here.
            var answer = await HeldBackAnswer.ReadAsync(proxyResponse, status, MaxErrorBody, cancellationToken);
            if (ProviderErrors.IsContextWindowExceeded(answer.Body))
            {
                HeldBack = answer;
                return false;
            }
            // Not that error after all: the answer goes on as the provider gave it (through the dialect's translation).
            await CopyAsync(httpContext, proxyResponse, status, cancellationToken);
            await httpContext.Response.Body.WriteAsync(answer.Body, cancellationToken);
            return false;
        }
        return await CopyAsync(httpContext, proxyResponse, status, cancellationToken);
    }

    /// <summary>The provider's status and headers go to the client, with the gateway's; a translated answer has a length of its own.</summary>
    private async ValueTask<bool> CopyAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, int status, CancellationToken cancellationToken)
    {
        var copied = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        httpContext.Response.StatusCode = status;
        if (inbound is not null || (deployment.Api is not OpenAIApi and not AzureApi && !(IsAnthropicPassthrough && deployment.Api is Providers.Anthropic.AnthropicApi)))
        {
            httpContext.Response.ContentLength = null;
        }
        Announce(httpContext.Response);
        return copied;
    }

    /// <summary>The gateway's headers on an answer the client gets.</summary>
    public void Announce(HttpResponse response) => attempted.Announce(response, deployment.ModelId, callId);
}
