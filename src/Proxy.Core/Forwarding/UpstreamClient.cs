using System.Net;

namespace Proxy.Core.Forwarding;

/// <summary>The one pooled connection handler every upstream call shares; its connections pass <see cref="UpstreamPolicy"/>.</summary>
public sealed class UpstreamClient(UpstreamPolicy policy) : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = new(new SocketsHttpHandler
    {
        ConnectCallback = policy.ConnectAsync,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ActivityHeadersPropagator = null,
    }, disposeHandler: true);

    public void Dispose() => Invoker.Dispose();
}
