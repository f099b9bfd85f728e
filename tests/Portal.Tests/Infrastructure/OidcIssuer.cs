using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.Tests.Infrastructure;

/// <summary>Who the issuer signs in next: it has no login page of its own, it vouches for this user.</summary>
public sealed record OidcUser(string Email, bool EmailVerified, string[] Groups);

/// <summary>
/// A small OpenID Connect provider on loopback, for the portal's SSO tests: discovery, a JWKS with a real RSA key,
/// the authorization endpoint (code flow, answering with form_post as ASP.NET asks) and the token endpoint, which
/// checks the client secret, the redirect URI and the PKCE verifier and signs an RS256 id_token with the nonce.
/// </summary>
public sealed class OidcIssuer : IAsyncDisposable
{
    public const string ClientId = "llm-gateway-portal";
    public const string ClientSecret = "issuer-client-secret-0123456789";
    private const string KeyId = "test-signing-key";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, Grant> _grants = new();
    private WebApplication? _app;

    public Uri Authority { get; private set; } = null!;
    public OidcUser NextUser { get; set; } = new("alice@example.com", true, []);

    /// <summary>Tokens issued so far.</summary>
    public int Issued => _issued;
    private int _issued;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = $"{Issuer}/authorize",
            ["token_endpoint"] = $"{Issuer}/token",
            ["jwks_uri"] = $"{Issuer}/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["response_modes_supported"] = new[] { "form_post", "query" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["scopes_supported"] = new[] { "openid", "profile", "email" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
        }));
        _app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        _app.MapGet("/authorize", Authorize);
        _app.MapPost("/token", TokenAsync);
        await _app.StartAsync();
        Authority = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private string Issuer => Authority.AbsoluteUri.TrimEnd('/');

    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        if (q["client_id"] != ClientId || q["response_type"] != "code" || string.IsNullOrEmpty(q["redirect_uri"]))
        {
            return Results.BadRequest("unknown client or unsupported response_type");
        }
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _grants[code] = new Grant(q["redirect_uri"]!, q["nonce"], q["code_challenge"], NextUser);
        var redirect = q["redirect_uri"].ToString();
        var state = q["state"].ToString();
        if (q["response_mode"] == "form_post")
        {
            var html = $"""
                <!doctype html><html><body><p>Signing you in as {WebUtility.HtmlEncode(NextUser.Email)}…</p>
                <form method="post" action="{WebUtility.HtmlEncode(redirect)}">
                <input type="hidden" name="code" value="{code}"><input type="hidden" name="state" value="{WebUtility.HtmlEncode(state)}">
                </form><script>document.forms[0].submit()</script></body></html>
                """;
            return Results.Content(html, "text/html");
        }
        return Results.Redirect($"{redirect}?code={code}&state={Uri.EscapeDataString(state)}");
    }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var (clientId, secret) = ClientCredentials(request, form);
        if (clientId != ClientId || secret != ClientSecret)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }
        if (form["grant_type"] != "authorization_code" || !_grants.TryRemove(form["code"].ToString(), out var grant) || grant.RedirectUri != form["redirect_uri"])
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }
        var verifier = form["code_verifier"].ToString();
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (grant.CodeChallenge is not null && challenge != grant.CodeChallenge)
        {
            return Results.Json(new { error = "invalid_grant", error_description = "PKCE verification failed" }, statusCode: 400);
        }
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(grant.User.Email)))[..16],
            ["email"] = grant.User.Email,
            ["email_verified"] = grant.User.EmailVerified,
            ["name"] = grant.User.Email.Split('@')[0],
            ["groups"] = grant.User.Groups,
        };
        if (grant.Nonce is not null)
        {
            claims["nonce"] = grant.Nonce;
        }
        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = ClientId,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = KeyId }, SecurityAlgorithms.RsaSha256),
        });
        Interlocked.Increment(ref _issued);
        return Results.Json(new { access_token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), token_type = "Bearer", expires_in = 300, id_token = idToken });
    }

    private static (string? Id, string? Secret) ClientCredentials(HttpRequest request, IFormCollection form)
    {
        if (request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..])).Split(':', 2);
            return (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
        }
        return (form["client_id"], form["client_secret"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        _rsa.Dispose();
    }

    private sealed record Grant(string RedirectUri, string? Nonce, string? CodeChallenge, OidcUser User);
}
