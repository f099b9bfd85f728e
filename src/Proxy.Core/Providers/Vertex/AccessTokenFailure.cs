namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// A service account's access token could not be had: its token endpoint refused the assertion or could not be reached.
/// The message names the service account and what the endpoint said, never the key file.
/// </summary>
public sealed class AccessTokenFailure(string message) : HttpRequestException(message);
