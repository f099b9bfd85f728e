namespace Proxy.Core.Providers.Vertex;

/// <summary>Both Vertex dialects authenticate alike: the service account's access token as a Bearer token.</summary>
internal static class VertexBearer
{
    public static async ValueTask AuthenticateAsync(HttpRequestMessage request, DeploymentCredentials credentials, CancellationToken ct)
    {
        if (credentials.VertexCredentials is not { } keyFile || credentials.VertexTokens is not { } tokens)
        {
            // Registration requires the key file; a deployment whose sealed file could not be opened goes out without one and Google refuses it.
            return;
        }
        var token = await tokens.AccessTokenAsync(keyFile, ct);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }
}
