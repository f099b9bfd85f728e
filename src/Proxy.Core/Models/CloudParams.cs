using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Core.Providers;

namespace Proxy.Core.Models;

/// <summary>
/// The <c>litellm_params</c> of cloud deployments, by LiteLLM's names. The secret ones (<see cref="Secrets"/>) are kept
/// together as one JSON object sealed in <see cref="ModelDeployment.CloudSecretsCipher"/> and shown only masked
/// (<see cref="ModelDeployment.CloudSecretsHint"/>); the others are ordinary columns.
/// </summary>
public static class CloudParams
{
    public const string AwsAccessKeyId = "aws_access_key_id";
    public const string AwsSecretAccessKey = "aws_secret_access_key";
    public const string AwsSessionToken = "aws_session_token";
    public const string AwsRegionName = "aws_region_name";
    public const string VertexCredentials = "vertex_credentials";
    public const string VertexProject = "vertex_project";
    public const string VertexLocation = "vertex_location";

    /// <summary>Every cloud param, in the order the API documents them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [AwsAccessKeyId, AwsSecretAccessKey, AwsSessionToken, AwsRegionName, VertexCredentials, VertexProject, VertexLocation];

    /// <summary>Sealed at rest, masked on every read. The access key id is not secret to AWS, but it names the account: masked too.</summary>
    public static IReadOnlyList<string> Secrets { get; } = [AwsAccessKeyId, AwsSecretAccessKey, AwsSessionToken, VertexCredentials];

    /// <summary>What an Amazon Bedrock deployment takes.</summary>
    public static IReadOnlyList<string> Aws { get; } = [AwsAccessKeyId, AwsSecretAccessKey, AwsSessionToken, AwsRegionName];

    /// <summary>What a Vertex AI deployment takes.</summary>
    public static IReadOnlyList<string> Vertex { get; } = [VertexCredentials, VertexProject, VertexLocation];

    public static bool IsSecret(string name) => Secrets.Contains(name);

    /// <summary>
    /// The masked form of a secret: its last four characters when it is long enough to keep them hidden; for a
    /// service-account JSON the account's <c>client_email</c> (an identity, not a secret), which is what tells two apart.
    /// </summary>
    public static string Mask(string name, string value)
    {
        if (name == VertexCredentials)
        {
            var email = ServiceAccountEmail(value);
            return email is null ? "****" : $"****({email})";
        }
        return value.Length >= 12 ? "****" + value[^4..] : "****";
    }

    /// <summary>
    /// A non-secret cloud param, checked: a region or location becomes part of the provider's host name
    /// (<c>bedrock-runtime.{region}.amazonaws.com</c>), so it may only be a region's name, never something that
    /// would point the call elsewhere; a project id is one path segment.
    /// </summary>
    public static string CheckedValue(string name, string value)
    {
        var text = Check.Text(value, $"litellm_params.{name}", 64);
        var valid = name == VertexProject
            ? text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ':' or '_')
            : text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && !text.StartsWith('-') && !text.EndsWith('-');
        return valid && text.Length > 0 ? text
            : throw ProxyError.BadRequest(name == VertexProject
                ? $"litellm_params.{name} '{text}' is not a Google Cloud project id (letters, digits, - . : _)."
                : $"litellm_params.{name} '{text}' is not a region name such as {(name == AwsRegionName ? "us-east-1" : "us-central1")}.", $"litellm_params.{name}");
    }

    /// <summary>The masked forms of a deployment's stored secrets, by param name; empty when it has none.</summary>
    public static IReadOnlyDictionary<string, string> Masked(ModelDeployment d) =>
        d.CloudSecretsHint is null ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(d.CloudSecretsHint) ?? [];

    /// <summary>What tells a cloud deployment's credentials apart, masked: its AWS access key id or its service account; null: none.</summary>
    public static string? MaskedIdentity(ModelDeployment d) =>
        d.CloudSecretsHint is null ? null : Masked(d) is var masked && masked.TryGetValue(AwsAccessKeyId, out var key) ? key : masked.GetValueOrDefault(VertexCredentials);

    /// <summary>A non-secret cloud param's stored value.</summary>
    public static string? Stored(ModelDeployment d, string name) => name switch
    {
        AwsRegionName => d.AwsRegionName,
        VertexProject => d.VertexProject,
        VertexLocation => d.VertexLocation,
        _ => null,
    };

    /// <summary>The deployment's credentials with its secrets opened (<paramref name="secrets"/>: the sealed JSON, opened).</summary>
    /// <param name="vertexTokens">The gateway's access-token cache, which a Vertex AI deployment authenticates through.</param>
    public static DeploymentCredentials Credentials(ModelDeployment d, string? apiKey, string? secrets, Providers.Vertex.VertexTokens? vertexTokens = null)
    {
        if (secrets is null && d.AwsRegionName is null && d.VertexProject is null && d.VertexLocation is null)
        {
            return DeploymentCredentials.OfKey(apiKey);
        }
        var opened = secrets is null ? [] : JsonSerializer.Deserialize<Dictionary<string, string>>(secrets) ?? [];
        return new DeploymentCredentials
        {
            ApiKey = apiKey,
            AwsAccessKeyId = opened.GetValueOrDefault(AwsAccessKeyId),
            AwsSecretAccessKey = opened.GetValueOrDefault(AwsSecretAccessKey),
            AwsSessionToken = opened.GetValueOrDefault(AwsSessionToken),
            AwsRegionName = d.AwsRegionName,
            VertexCredentials = opened.GetValueOrDefault(VertexCredentials),
            VertexProject = d.VertexProject,
            VertexLocation = d.VertexLocation,
            VertexTokens = vertexTokens,
        };
    }

    /// <summary>
    /// <c>vertex_credentials</c> as LiteLLM takes it, a JSON object or a string holding one, as text; a 400 when it is
    /// neither. Whether it is a usable service account is the Vertex provider's to say.
    /// </summary>
    public static string ServiceAccountJson(JsonNode node)
    {
        var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
        try
        {
            if (JsonNode.Parse(text) is JsonObject)
            {
                return text;
            }
        }
        catch (JsonException)
        {
        }
        throw ProxyError.BadRequest("litellm_params.vertex_credentials must be the service account's JSON key file: a JSON object, or a string holding one.",
            "litellm_params.vertex_credentials");
    }

    private static string? ServiceAccountEmail(string json)
    {
        try
        {
            return JsonNode.Parse(json)?["client_email"] is JsonValue v && v.TryGetValue<string>(out var email) ? email : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
