using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Models;
using Proxy.Core.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Shapes one upstream request: the provider's URL and credential in, the caller's key and identifying headers out.
/// Everything else (hop-by-hop handling, streaming the body both ways) is YARP's default.
/// </summary>
internal sealed class UpstreamTransformer(DeploymentEntry deployment, LlmRoute route, string callId) : HttpTransformer
{
    /// <summary>Headers that identify or authenticate the caller to the gateway; the provider must never see them.</summary>
    private static readonly string[] CallerHeaders =
    [
        "Authorization", "x-litellm-api-key", "api-key", "x-api-key", "Cookie", "OpenAI-Organization", "OpenAI-Project",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP",
    ];

    /// <summary>Counts gateways a call has passed, so an api_base that leads back here ends instead of looping.</summary>
    public const string HopHeader = "x-llm-gateway-hops";
    public const int MaxHops = 5;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        foreach (var header in CallerHeaders)
        {
            proxyRequest.Headers.Remove(header);
        }
        proxyRequest.RequestUri = deployment.UpstreamUri(route);
        var hops = int.TryParse(httpContext.Request.Headers[HopHeader], out var seen) ? seen : 0;
        proxyRequest.Headers.Remove(HopHeader);
        proxyRequest.Headers.TryAddWithoutValidation(HopHeader, (hops + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        proxyRequest.Headers.Host = null;
        if (deployment.ApiKey is { } key)
        {
            if (deployment.Provider == Provider.Azure)
            {
                proxyRequest.Headers.TryAddWithoutValidation("api-key", key);
            }
            else
            {
                proxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copied = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        httpContext.Response.Headers["x-litellm-model-id"] = deployment.ModelId;
        httpContext.Response.Headers["x-litellm-call-id"] = callId;
        return copied;
    }
}
