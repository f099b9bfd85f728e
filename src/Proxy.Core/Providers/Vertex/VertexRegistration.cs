using System.Text.RegularExpressions;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// What a <c>vertex_ai/...</c> registration must get right beyond the params every cloud deployment needs: a model the
/// gateway can speak to (Claude or Gemini), a location that makes a host name, and a key file that is a service account's,
/// whose <c>token_uri</c> passes the same network guard as an <c>api_base</c>.
/// </summary>
public static partial class VertexRegistration
{
    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex LocationName();

    /// <param name="keyFile">A newly given key file; null when the stored one is kept.</param>
    public static void Check(string upstreamName, string? location, string? keyFile, UpstreamPolicy upstreams)
    {
        if (VertexModels.ApiFor(upstreamName) is null)
        {
            throw ProxyError.BadRequest(
                $"vertex_ai/{upstreamName} is not supported: the gateway speaks Vertex AI's Claude models (vertex_ai/claude-...) and Gemini models (vertex_ai/gemini-...).",
                "litellm_params.model")
                .InPlainWords("Vertex AI models the gateway can call are Claude (claude-...) and Gemini (gemini-...).");
        }
        if (location is not null && !LocationName().IsMatch(location))
        {
            throw ProxyError.BadRequest($"litellm_params.vertex_location must be a Google Cloud location such as us-central1, europe-west4 or global.", "litellm_params.vertex_location");
        }
        if (keyFile is not null)
        {
            upstreams.CheckRegistration(ServiceAccount.Parse(keyFile).TokenUri, ServiceAccount.Field + ".token_uri");
        }
    }
}
