using System.Net;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Alerts;

/// <summary>A team's <c>alert_webhook_url</c>: checked as a model's <c>api_base</c> is, stored sealed, shown masked.</summary>
public static class TeamWebhook
{
    public const string Field = "alert_webhook_url";

    /// <summary>
    /// An absolute http(s) URL without credentials or fragment, not a literal address in a network that
    /// <c>Proxy:Upstreams:DeniedNetworks</c> denies (a name is checked again at each connection); else a 400 naming the field.
    /// </summary>
    public static string Valid(string value, UpstreamPolicy policy)
    {
        var text = Check.Required(value, Field, 2048);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw ProxyError.BadRequest($"{Field} must be an absolute http(s) URL, e.g. https://hooks.slack.com/services/....", Field);
        }
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw ProxyError.BadRequest($"{Field} must not contain credentials or a fragment.", Field);
        }
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address) && policy.IsDenied(address))
        {
            throw ProxyError.BadRequest(
                $"{Field} points into a denied network ({address}). Allowed destinations are set by Proxy:Upstreams:DeniedNetworks.", Field);
        }
        return text;
    }

    /// <summary>What the API and the portal show of a stored webhook: its scheme and host, never its path (often the secret).</summary>
    public static string Mask(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/****" : "****";
}
