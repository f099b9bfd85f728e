using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime.Internal.Auth;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Bedrock;

namespace Portal.Tests.Providers;

/// <summary>
/// AWS's published SigV4 test suite (aws-sig-v4-test-suite: get-vanilla, post-vanilla, get-vanilla-query-order-key-case,
/// get-unreserved), run through the call the gateway signs Bedrock requests with (<see cref="BedrockSigner.Sign"/>).
/// That call also signs <c>x-amz-content-sha256</c>, as the .NET SDK does for every service, which the suite's requests
/// do not carry; so each vector is checked twice: the suite's canonical request gives the suite's signature through
/// AWSSDK.Core's key derivation, and the gateway's signature is the one of the suite's canonical request with that one
/// header added: the canonical path, query, headers and payload hash the gateway signs are the suite's.
/// </summary>
public sealed class BedrockSigV4Tests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static readonly DateTime SignedAt = new(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc);

    private static readonly DeploymentCredentials Credentials = new() { AwsAccessKeyId = AccessKey, AwsSecretAccessKey = Secret, AwsRegionName = "us-east-1" };

    public static TheoryData<string, string, string, string, string, string> Vectors => new()
    {
        // name, method, url, canonical path, canonical query, the suite's signature
        { "get-vanilla", "GET", "https://example.amazonaws.com/", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
        { "post-vanilla", "POST", "https://example.amazonaws.com/", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
        { "get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "/", "Param1=value1&Param2=value2",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
        { "get-unreserved", "GET", "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void SuiteVector_SignsAsPublished(string name, string method, string url, string path, string query, string published)
    {
        var suiteRequest = $"{method}\n{path}\n{query}\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EmptyHash}";
        Assert.True(published == Signature(suiteRequest, "host;x-amz-date"), $"{name}: the suite's canonical request does not give its signature");

        var headers = BedrockSigner.Sign(new HttpMethod(method), new Uri(url), ReadOnlyMemory<byte>.Empty, Credentials, SignedAt, service: "service");

        Assert.Equal("20150830T123600Z", headers["X-Amz-Date"]);
        Assert.Equal(EmptyHash, headers["X-Amz-Content-SHA256"]);
        var withHash = $"{method}\n{path}\n{query}\nhost:example.amazonaws.com\nx-amz-content-sha256:{EmptyHash}\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\n{EmptyHash}";
        Assert.Equal($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            + $"Signature={Signature(withHash, "host;x-amz-content-sha256;x-amz-date")}", headers["Authorization"]);
    }

    /// <summary>
    /// A Bedrock model id's <c>:</c> is sent percent-encoded (<c>%3A</c>) and signed encoded once more (<c>%253A</c>),
    /// as botocore and the other SDKs sign bedrock-runtime paths; a cross-region profile id's dots stay as they are.
    /// </summary>
    [Theory]
    [InlineData("anthropic.claude-3-haiku-20240307-v1:0", "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse")]
    [InlineData("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "/model/eu.anthropic.claude-3-7-sonnet-20250219-v1%253A0/converse")]
    public void ModelIdWithColon_IsSignedEncodedTwice(string modelId, string canonicalPath)
    {
        var uri = BedrockApi.Instance.UpstreamUri(new Uri("https://bedrock-runtime.us-east-1.amazonaws.com"), modelId, null, Proxy.Core.Forwarding.LlmRoute.ChatCompletions, Credentials);
        var body = "{\"messages\":[]}"u8.ToArray();
        var hash = Convert.ToHexStringLower(SHA256.HashData(body));

        var headers = BedrockSigner.Sign(HttpMethod.Post, uri, body, Credentials, SignedAt);

        Assert.Equal($"/model/{modelId.Replace(":", "%3A")}/converse", uri.AbsolutePath);
        var canonical = $"POST\n{canonicalPath}\n\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-content-sha256:{hash}\nx-amz-date:20150830T123600Z\n\n"
            + $"host;x-amz-content-sha256;x-amz-date\n{hash}";
        Assert.EndsWith($"Signature={Signature(canonical, "host;x-amz-content-sha256;x-amz-date", "bedrock")}", headers["Authorization"]);
    }

    [Fact]
    public void SessionToken_IsSentAndSigned()
    {
        var temporary = new DeploymentCredentials { AwsAccessKeyId = AccessKey, AwsSecretAccessKey = Secret, AwsSessionToken = "session-token-1", AwsRegionName = "eu-west-1" };

        var headers = BedrockSigner.Sign(HttpMethod.Post, new Uri("https://bedrock-runtime.eu-west-1.amazonaws.com/model/x/converse"), "{}"u8.ToArray(), temporary, SignedAt);

        Assert.Equal("session-token-1", headers.First(h => h.Key.Equals("X-Amz-Security-Token", StringComparison.OrdinalIgnoreCase)).Value);
        Assert.Contains("/20150830/eu-west-1/bedrock/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", headers["Authorization"]);
    }

    private static string Signature(string canonicalRequest, string signedHeaders, string service = "service") =>
        AWS4Signer.ComputeSignature(AccessKey, Secret, "us-east-1", SignedAt, service, signedHeaders, canonicalRequest).Signature;
}
