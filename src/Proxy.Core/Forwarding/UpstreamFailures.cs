using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>What a provider's answer or YARP's error means for the call: try again, fall back, or give the client what came.</summary>
internal static class UpstreamFailures
{
    /// <summary>What a provider's status means for the call (a 400 is a context-window error only if its body says so).</summary>
    public static UpstreamFailure OfStatus(int status) => status switch
    {
        408 or 429 or 500 or 502 or 503 or 504 or 529 => UpstreamFailure.Retryable,
        401 or 403 or 404 => UpstreamFailure.Refused,
        _ => UpstreamFailure.None,
    };

    /// <summary>YARP's errors that mean nothing reached the client and another deployment may do better.</summary>
    public static bool IsRetryable(ForwarderError error) =>
        error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination;

    /// <summary>The status the client gets when the provider gave none.</summary>
    public static int StatusOf(ForwarderError error) => error switch
    {
        ForwarderError.RequestTimedOut => (int)HttpStatusCode.GatewayTimeout,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => 499,
        _ => (int)HttpStatusCode.BadGateway,
    };

    /// <summary>Why YARP gave up, in words (e.g. "Connection refused"), else the error's name.</summary>
    public static string Reason(HttpContext http, ForwarderError error) =>
        http.Features.Get<IForwarderErrorFeature>()?.Exception is { } e ? Describe(e) : error.ToString();

    /// <summary>The innermost reason, which names no key: api_base cannot carry credentials.</summary>
    private static string Describe(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message.TrimEnd('.');
    }
}
