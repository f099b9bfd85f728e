namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// A service account's access token could not be had: its token endpoint refused the assertion or could not be reached.
/// The message names the service account and what the endpoint said, never the key file.
/// </summary>
public sealed class AccessTokenFailure(string message, bool refused) : HttpRequestException(message)
{
    /// <summary>The endpoint refused the credentials (a wrong or revoked key): retrying with them will not help.</summary>
    public bool Refused { get; } = refused;
}
