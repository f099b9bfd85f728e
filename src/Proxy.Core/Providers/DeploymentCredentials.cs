namespace Proxy.Core.Providers;

/// <summary>
/// What a deployment authenticates with, opened once when the route snapshot is built (never on a call): its
/// <c>api_key</c>, and for a cloud provider the <c>litellm_params</c> that sign or authorize its calls. A provider's
/// <see cref="IProviderApi.AuthenticateAsync"/> reads the ones it uses. Never printed: <see cref="ToString"/> says so.
/// </summary>
public sealed class DeploymentCredentials
{
    /// <summary>A deployment with no key at all (a self-hosted server).</summary>
    public static readonly DeploymentCredentials None = new();

    public string? ApiKey { get; init; }

    public string? AwsAccessKeyId { get; init; }

    public string? AwsSecretAccessKey { get; init; }

    /// <summary>The session token of temporary credentials (STS); null for a long-term key pair.</summary>
    public string? AwsSessionToken { get; init; }

    public string? AwsRegionName { get; init; }

    /// <summary>The service account's JSON key file, as text.</summary>
    public string? VertexCredentials { get; init; }

    public string? VertexProject { get; init; }

    public string? VertexLocation { get; init; }

    /// <summary>Where a Vertex AI deployment gets its access tokens (the gateway's one cache); null for other providers.</summary>
    public Vertex.VertexTokens? VertexTokens { get; init; }

    /// <summary>Only an api_key: the credentials of every provider that is not a cloud one.</summary>
    public static DeploymentCredentials OfKey(string? apiKey) => apiKey is null ? None : new() { ApiKey = apiKey };

    public override string ToString() => "DeploymentCredentials (secrets not shown)";
}
