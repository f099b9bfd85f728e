using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// OAuth access tokens for Vertex AI, one cache per service account. Google's auth library signs the JWT assertion
/// with the account's RSA key, posts it to the key file's <c>token_uri</c> and keeps the token: a fresh one is answered
/// from memory, one near its expiry is refreshed ahead of it, and concurrent callers wait on one exchange. Kept across
/// route snapshots (keyed by the key file), so a change elsewhere in the gateway costs no new token.
/// </summary>
public sealed class VertexTokens(UpstreamPolicy policy, TimeProvider time)
{
    public const string Scope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly ConcurrentDictionary<string, ServiceAccountCredential> _accounts = new(StringComparer.Ordinal);

    // The route snapshot holds one key-file string per deployment: found by reference, a call hashes no key file.
    private readonly ConditionalWeakTable<string, ServiceAccountCredential> _byInstance = new();
    private readonly TokenClock _clock = new(time);
    private readonly TokenEndpointClients _clients = new(policy);

    /// <summary>
    /// The account's access token; an <see cref="AccessTokenFailure"/> naming the account (never its key) when the
    /// exchange fails. The failure carries no inner exception: the forwarder reports a failure's innermost message.
    /// </summary>
    public async ValueTask<string> AccessTokenAsync(string keyFile, CancellationToken ct)
    {
        if (!_byInstance.TryGetValue(keyFile, out var account))
        {
            account = _accounts.GetOrAdd(keyFile, Create, (_clock, _clients));
            _byInstance.AddOrUpdate(keyFile, account);
        }
        try
        {
            return await account.GetAccessTokenForRequestAsync(cancellationToken: ct);
        }
        catch (TokenResponseException e)
        {
            // Google's own words (error, error_description) name neither the key nor the assertion.
            var said = e.Error?.ErrorDescription is { Length: > 0 } description ? $"{e.Error.Error}: {description.TrimEnd('.')}" : e.Error?.Error ?? "no reason given";
            throw new AccessTokenFailure(
                $"Vertex AI: the token endpoint refused service account {account.Id} ({(int?)e.StatusCode} {said}); check litellm_params.vertex_credentials");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new AccessTokenFailure(
                $"Vertex AI: the token endpoint of service account {account.Id} could not be reached ({Innermost(e).Message.TrimEnd('.')})");
        }
    }

    private static ServiceAccountCredential Create(string keyFile, (TokenClock Clock, TokenEndpointClients Clients) with)
    {
        var account = ServiceAccount.Parse(keyFile);
        var initializer = new ServiceAccountCredential.Initializer(account.ClientEmail, account.TokenUri.AbsoluteUri)
        {
            Scopes = [Scope],
            KeyId = account.PrivateKeyId,
            Clock = with.Clock,
            HttpClientFactory = with.Clients,
            // A failed exchange fails the attempt now; the router tries another deployment rather than wait here.
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
        }.FromPrivateKey(account.PrivateKey);
        return new ServiceAccountCredential(initializer);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }
}
