using System.Diagnostics;
using Microsoft.AspNetCore.Http;
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
/// </summary>
internal sealed class UpstreamTransformer(DeploymentEntry deployment, LlmRoute route, string callId, AttemptsLeft next = default, Attempted attempted = default)
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

    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>The provider's status, once it answered.</summary>
    public int? Status { get; private set; }

    /// <summary>The provider's answer, when it was held back for another attempt.</summary>
    public HeldBackAnswer? HeldBack { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var incoming = httpContext.Request.Headers;
        foreach (var header in CallerHeaders)
        {
            // Looked up where it is cheap (Kestrel's known headers are fields), removed only where it was copied.
            if (incoming.ContainsKey(header))
            {
                proxyRequest.Headers.Remove(header);
            }
        }
        proxyRequest.RequestUri = deployment.UpstreamUri(route);
        var hops = int.TryParse(httpContext.Request.Headers[HopHeader], out var seen) ? seen : 0;
        proxyRequest.Headers.Remove(HopHeader);
        proxyRequest.Headers.TryAddWithoutValidation(HopHeader, (hops + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        proxyRequest.Headers.Host = null;
        deployment.Api.Authenticate(proxyRequest, deployment.ApiKey);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }
        deployment.State.Answered(Stopwatch.GetElapsedTime(_started));
        var status = deployment.Api.ClientStatus((int)proxyResponse.StatusCode);
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
        if (deployment.Api is not OpenAIApi and not AzureApi)
        {
            httpContext.Response.ContentLength = null;
        }
        Announce(httpContext.Response);
        return copied;
    }

    /// <summary>The gateway's headers on an answer the client gets.</summary>
    public void Announce(HttpResponse response) => attempted.Announce(response, deployment.ModelId, callId);
}

/// <summary>What a call can still do when an attempt fails, decided before the attempt: the transformer holds an answer back only if it can.</summary>
internal readonly record struct AttemptsLeft(bool Retry, bool Fallback, bool ContextWindowFallback)
{
    /// <summary>Whether a failure of this kind leads to another attempt.</summary>
    public bool After(UpstreamFailure failure) => failure switch
    {
        UpstreamFailure.Retryable => Retry || Fallback,
        UpstreamFailure.Refused => Fallback,
        UpstreamFailure.ContextWindow => ContextWindowFallback,
        _ => false,
    };
}

/// <summary>How many retries and fallbacks the call has made so far, as LiteLLM's headers report them.</summary>
internal readonly record struct Attempted(int Retries, int Fallbacks)
{
    public void Announce(HttpResponse response, string modelId, string callId)
    {
        response.Headers["x-litellm-model-id"] = modelId;
        response.Headers["x-litellm-call-id"] = callId;
        response.Headers["x-litellm-attempted-retries"] = Retries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["x-litellm-attempted-fallbacks"] = Fallbacks.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>What kind of failure an attempt met, for the decision whether to try again.</summary>
internal enum UpstreamFailure
{
    None,

    /// <summary>No connection, a timeout, or 408/429/500/502/503/504: another deployment may do better.</summary>
    Retryable,

    /// <summary>401/403/404: this deployment's key or model is wrong. Not retried in the group (it is cooled down at once); a fallback may serve.</summary>
    Refused,

    /// <summary>The provider says the prompt is longer than the model takes: only a context_window_fallback can help.</summary>
    ContextWindow,

    /// <summary>Every deployment left is at its own rpm/tpm limit.</summary>
    NoCapacity,
}

internal static class UpstreamFailures
{
    /// <summary>What a provider's status means for the call (a 400 is a context-window error only if its body says so).</summary>
    public static UpstreamFailure OfStatus(int status) => status switch
    {
        408 or 429 or 500 or 502 or 503 or 504 => UpstreamFailure.Retryable,
        401 or 403 or 404 => UpstreamFailure.Refused,
        _ => UpstreamFailure.None,
    };

    /// <summary>YARP's errors that mean nothing reached the client and another deployment may do better.</summary>
    public static bool IsRetryable(ForwarderError error) =>
        error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination;
}

/// <summary>A provider's answer kept instead of sent, to be sent after all when no other attempt succeeds.</summary>
public sealed record HeldBackAnswer(int Status, string? ContentType, byte[] Body)
{
    /// <param name="status">The status the client would get (the dialect's, e.g. Anthropic's 529 as 503).</param>
    public static async Task<HeldBackAnswer> ReadAsync(HttpResponseMessage response, int status, int maxBytes, CancellationToken ct)
    {
        var length = response.Content.Headers.ContentLength;
        var body = length is null || length <= maxBytes ? await ReadBoundedAsync(response.Content, maxBytes, ct) : [];
        return new HeldBackAnswer(status, response.Content.Headers.ContentType?.ToString(), body);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var copy = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0 && copy.Length < maxBytes)
        {
            copy.Write(buffer, 0, (int)Math.Min(read, maxBytes - copy.Length));
        }
        return copy.ToArray();
    }

    /// <summary>Sends it to the client as the provider gave it, with the gateway's headers.</summary>
    public async Task WriteAsync(HttpResponse response, CancellationToken ct)
    {
        response.StatusCode = Status;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        await response.Body.WriteAsync(Body, ct);
    }
}

/// <summary>How providers say what went wrong.</summary>
internal static class ProviderErrors
{
    /// <summary>
    /// The prompt did not fit: OpenAI's <c>context_length_exceeded</c> ("This model's maximum context length is..."),
    /// Azure's same code, Anthropic's "prompt is too long", and the "context window" of OpenAI-compatible servers.
    /// </summary>
    public static bool IsContextWindowExceeded(ReadOnlySpan<byte> body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        return text.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase)
            || text.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || text.Contains("context window", StringComparison.OrdinalIgnoreCase)
            || text.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase);
    }
}
