using System.Security.Cryptography;
using System.Text.Json;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// A Google Cloud service-account key file (<c>vertex_credentials</c>): who signs the token request, with which RSA key,
/// and where it is sent. Parsed whole at registration, so a team hears of a broken file then and not on its first call.
/// Its messages never repeat any part of the file: a JSON error would quote it.
/// </summary>
public sealed record ServiceAccount(string ClientEmail, string PrivateKey, string? PrivateKeyId, Uri TokenUri)
{
    public const string Field = "litellm_params.vertex_credentials";

    /// <summary>Google's token endpoint, where a key file without <c>token_uri</c> sends its assertion.</summary>
    public static readonly Uri GoogleTokenUri = new("https://oauth2.googleapis.com/token");

    /// <summary>The key file's fields, or a 400 naming what is missing or wrong.</summary>
    public static ServiceAccount Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            throw Refused("is not JSON: give the service account's key file as downloaded from Google Cloud (a JSON object with client_email and private_key).");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Refused("must be the service account's key file, a JSON object with client_email and private_key.");
            }
            if (root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "service_account")
            {
                throw Refused($"has type '{type.GetString()}'; only a service account's key file (type service_account) is supported.");
            }
            var email = Text(root, "client_email") ?? throw Refused("has no client_email.");
            var key = Text(root, "private_key") ?? throw Refused("has no private_key.");
            if (!IsRsaKey(key))
            {
                throw Refused("has a private_key that is not an RSA private key in PEM (-----BEGIN PRIVATE KEY-----).");
            }
            var tokenUri = GoogleTokenUri;
            if (Text(root, "token_uri") is { } uri
                && (!Uri.TryCreate(uri, UriKind.Absolute, out tokenUri!) || tokenUri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(tokenUri.UserInfo)))
            {
                throw Refused("has a token_uri that is not an absolute http(s) URL without credentials (Google's is https://oauth2.googleapis.com/token).");
            }
            return new ServiceAccount(email, key, Text(root, "private_key_id"), tokenUri);
        }
    }

    /// <summary>Never the key: a record would print every field.</summary>
    public override string ToString() => ClientEmail;

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    private static bool IsRsaKey(string pem)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    private static ProxyError Refused(string why) =>
        ProxyError.BadRequest($"{Field} {why}", Field)
            .InPlainWords($"The service-account key file {why}");
}
