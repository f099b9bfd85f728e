using Google.Apis.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// The connections Google's auth library opens to a key file's <c>token_uri</c>: a team supplies that address, so it
/// passes the same network guard as every <c>api_base</c> (<see cref="UpstreamPolicy.ConnectAsync"/>), without proxy or redirects.
/// </summary>
internal sealed class TokenEndpointClients(UpstreamPolicy policy) : HttpClientFactory
{
    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) => new SocketsHttpHandler
    {
        ConnectCallback = policy.ConnectAsync,
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };
}
