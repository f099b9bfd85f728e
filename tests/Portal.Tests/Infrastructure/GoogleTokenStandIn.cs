using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Google's OAuth token endpoint for service accounts (<c>POST token_uri</c>, grant type jwt-bearer) on a real port. It
/// checks what Google checks before it issues a token: the RS256 signature of the assertion against the account's
/// public key, <c>iss</c> (the account), <c>aud</c> (Google's token URL), <c>scope</c>, <c>iat</c>/<c>exp</c> (at most an
/// hour, not expired). A refusal has Google's shape, <c>{"error": "invalid_grant", "error_description": ...}</c>.
/// Accounts are made with <see cref="NewAccount"/>; the key file it returns carries the private key, the stand-in keeps
/// only the public one. Time is <paramref name="time"/>'s, so a test moving the gateway's clock moves this one too.
/// </summary>
public sealed class GoogleTokenStandIn : IAsyncDisposable
{
    public const string CloudPlatform = "https://www.googleapis.com/auth/cloud-platform";

    /// <summary>
    /// The audience Google's endpoint requires of an access-token assertion, whichever URL it was posted to (Google's
    /// libraries send this one also when the key file's token_uri points elsewhere).
    /// </summary>
    public const string GoogleAudience = "https://oauth2.googleapis.com/token";

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, RSA> _publicKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Email, DateTimeOffset Expires)> _issued = new(StringComparer.Ordinal);
    private int _exchanges;

    public GoogleTokenStandIn(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/token", TokenAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        TokenUri = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/token";
    }

    /// <summary>This endpoint, as a key file's <c>token_uri</c> names it.</summary>
    public string TokenUri { get; }

    /// <summary>The tokens' lifetime (<c>expires_in</c>); Google's is an hour.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an exchange takes, so a test can have callers arrive while one is under way.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Tokens issued so far.</summary>
    public int Exchanges => Volatile.Read(ref _exchanges);

    /// <summary>A new service account this endpoint knows; its key file (as Google Cloud gives it) and the account's email.</summary>
    public (string KeyFile, string Email) NewAccount(string project = "standin-project")
    {
        var rsa = RSA.Create(2048);
        var email = $"gateway-{Guid.NewGuid():N}"[..20] + $"@{project}.iam.gserviceaccount.com";
        var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        _publicKeys[email] = publicKey;
        var keyFile = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = project,
            ["private_key_id"] = Guid.NewGuid().ToString("N"),
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = email,
            ["client_id"] = "104" + Random.Shared.NextInt64(100000000000000, 999999999999999),
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = TokenUri,
        }.ToJsonString();
        return (keyFile, email);
    }

    /// <summary>The account a token was issued to, if it was issued here and has not expired.</summary>
    public string? AccountOf(string token) =>
        _issued.TryGetValue(token, out var issued) && issued.Expires > _time.GetUtcNow() ? issued.Email : null;

    private async Task TokenAsync(HttpContext http)
    {
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }
        if (!http.Request.HasFormContentType)
        {
            await Refuse(http, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.");
            return;
        }
        var form = await http.Request.ReadFormAsync();
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            await Refuse(http, "unsupported_grant_type", "Invalid grant_type: " + form["grant_type"]);
            return;
        }
        var parts = form["assertion"].ToString().Split('.');
        if (parts.Length != 3)
        {
            await Refuse(http, "invalid_grant", "Invalid JWT: malformed assertion.");
            return;
        }
        var header = JsonNode.Parse(Base64Url(parts[0]))!;
        var claims = JsonNode.Parse(Base64Url(parts[1]))!;
        if (header["alg"]?.GetValue<string>() != "RS256")
        {
            await Refuse(http, "invalid_grant", "Invalid JWT: alg must be RS256.");
            return;
        }
        var email = claims["iss"]?.GetValue<string>() ?? "";
        if (!_publicKeys.TryGetValue(email, out var publicKey))
        {
            await Refuse(http, "invalid_grant", "Invalid JWT Signature.", 400);
            return;
        }
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        if (!publicKey.VerifyData(signed, Base64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            await Refuse(http, "invalid_grant", "Invalid JWT Signature.");
            return;
        }
        if (claims["aud"]?.GetValue<string>() != GoogleAudience)
        {
            await Refuse(http, "invalid_grant", $"Invalid JWT: aud must be {GoogleAudience}.");
            return;
        }
        if (claims["scope"]?.GetValue<string>()?.Split(' ').Contains(CloudPlatform) != true)
        {
            await Refuse(http, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
            return;
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var iat = claims["iat"]?.GetValue<long>() ?? 0;
        var exp = claims["exp"]?.GetValue<long>() ?? 0;
        if (exp <= now || iat > now + 60 || exp - iat > 3600)
        {
            await Refuse(http, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
            return;
        }
        Interlocked.Increment(ref _exchanges);
        var token = $"ya29.standin-{Guid.NewGuid():N}";
        _issued[token] = (email, _time.GetUtcNow() + Lifetime);
        await http.Response.WriteAsJsonAsync(new { access_token = token, expires_in = (int)Lifetime.TotalSeconds, token_type = "Bearer" });
    }

    private static Task Refuse(HttpContext http, string error, string description, int status = 400)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { error, error_description = description });
    }

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var key in _publicKeys.Values)
        {
            key.Dispose();
        }
    }
}
