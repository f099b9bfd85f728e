using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>
/// SigV4 for a Bedrock call, by AWSSDK.Core's public signer (<see cref="AWSSigV4Signer"/>): it canonicalizes the URL
/// as the AWS SDKs do (the path as sent, each segment encoded once more, so a model id's <c>:</c>, sent as <c>%3A</c>,
/// is signed as <c>%253A</c>), hashes the body and derives the key. The gateway only hands it the request as sent.
/// </summary>
internal static class BedrockSigner
{
    /// <summary>The service name in Bedrock's credential scope (bedrock-runtime's endpoints sign as "bedrock").</summary>
    public const string Service = "bedrock";

    /// <summary>The headers that sign <paramref name="uri"/> and <paramref name="body"/>: Authorization, X-Amz-Date, X-Amz-Content-SHA256, and the session token when there is one.</summary>
    /// <param name="signedAt">A fixed signing time (tests); null: now, as the SDK corrects it for clock skew.</param>
    /// <param name="service">The credential scope's service: Bedrock's, but for AWS's published test vectors.</param>
    public static IDictionary<string, string> Sign(HttpMethod method, Uri uri, ReadOnlyMemory<byte> body, DeploymentCredentials credentials,
        DateTime? signedAt = null, string service = Service)
    {
        var request = new AWSSigningRequest { HttpMethod = method, RequestUri = uri, Content = body.ToArray() };
        var parameters = new AWSSigV4Parameters
        {
            Credentials = credentials.AwsSessionToken is { Length: > 0 } token
                ? new SessionAWSCredentials(credentials.AwsAccessKeyId, credentials.AwsSecretAccessKey, token)
                : new BasicAWSCredentials(credentials.AwsAccessKeyId, credentials.AwsSecretAccessKey),
            Region = Amazon.RegionEndpoint.GetBySystemName(credentials.AwsRegionName),
            Service = service,
            SignedAt = signedAt,
        };
        return AWSSigV4Signer.Sign(request, parameters).Headers;
    }
}
