using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Server-side request forgery guard for <c>api_base</c>: checked when a model is registered (for a literal address or
/// this gateway itself) and again when each upstream connection is made (for names that resolve into a denied network,
/// whatever they resolved to when registered).
/// </summary>
public sealed class UpstreamPolicy(IOptions<UpstreamOptions> options, IServiceProvider services)
{
    private readonly IPNetwork[] _denied = options.Value.DeniedNetworks.Select(IPNetwork.Parse).ToArray();

    /// <summary>
    /// A typed <c>api_base</c> as a registration takes it (absolute http(s), no credentials, query or fragment, allowed
    /// by <see cref="CheckRegistration"/>), without its trailing slash; else a 400 naming the field.
    /// </summary>
    public string ValidApiBase(string value)
    {
        var text = Check.Required(value, "litellm_params.api_base", 2048);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw ProxyError.BadRequest("litellm_params.api_base must be an absolute http(s) URL, e.g. https://api.openai.com/v1.", "litellm_params.api_base")
                .InPlainWords("The API base must be a web address starting with http:// or https://, e.g. https://api.openai.com/v1.");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw ProxyError.BadRequest("litellm_params.api_base must not contain credentials; pass the key as litellm_params.api_key.", "litellm_params.api_base")
                .InPlainWords("The API base must not contain a user name or password: put the key in the provider API key field.");
        }
        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw ProxyError.BadRequest("litellm_params.api_base must not have a query string or fragment.", "litellm_params.api_base")
                .InPlainWords("The API base must end at its path: nothing after a ? or #.");
        }
        CheckRegistration(uri);
        return text.TrimEnd('/');
    }

    /// <summary>Throws a 400 naming the setting when <paramref name="apiBase"/> may not be used.</summary>
    /// <param name="field">The setting that names the address (also Vertex AI's <c>token_uri</c>, in <c>vertex_credentials</c>).</param>
    public void CheckRegistration(Uri apiBase, string field = "litellm_params.api_base")
    {
        if (IPAddress.TryParse(apiBase.IdnHost.Trim('[', ']'), out var address) && IsDenied(address))
        {
            throw ProxyError.BadRequest(
                $"{field} points into a denied network ({address}). Allowed upstreams are set by Proxy:Upstreams:DeniedNetworks.",
                field)
                .InPlainWords($"This API base points into a network the gateway may not call ({address}). "
                    + "Operators choose the networks it may not call with Proxy:Upstreams:DeniedNetworks.");
        }
        if (IsThisGateway(apiBase))
        {
            throw ProxyError.BadRequest($"{field} points at this gateway itself, which would loop.", field)
                .InPlainWords("This API base is this gateway itself: its calls would go round in a loop. Give the provider's address.");
        }
    }

    public bool IsDenied(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in _denied)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Resolves and connects like the default handler, skipping addresses in denied networks.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(a => !IsDenied(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{host} resolves only to networks denied by Proxy:Upstreams:DeniedNetworks");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private bool IsThisGateway(Uri apiBase)
    {
        var isLocal = apiBase.IsLoopback || apiBase.Host is "0.0.0.0" or "[::]";
        if (!isLocal)
        {
            return false;
        }
        var addresses = services.GetService(typeof(IServer)) is IServer server
            ? server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []
            : [];
        return addresses.Any(a => Uri.TryCreate(a.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var own)
            && own.Port == apiBase.Port);
    }
}
