using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers.Vertex;

namespace Portal.Tests.Providers;

/// <summary>
/// Vertex AI's access tokens: a service account's key file exchanged at its <c>token_uri</c> (the stand-in verifies the
/// RS256 assertion with the account's public key) and kept until shortly before it expires.
/// </summary>
public sealed class VertexTokenTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly GoogleTokenStandIn _google;
    private readonly VertexTokens _tokens;

    public VertexTokenTests()
    {
        _google = new GoogleTokenStandIn(_clock);
        _tokens = new VertexTokens(Policy(), _clock);
    }

    private static UpstreamPolicy Policy() =>
        new(Options.Create(new UpstreamOptions()), new ServiceCollection().BuildServiceProvider());

    [Fact]
    public async Task AToken_IsExchangedOnce_ThenAnsweredFromMemory()
    {
        var (keyFile, email) = _google.NewAccount();

        var first = await _tokens.AccessTokenAsync(keyFile, default);
        var second = await _tokens.AccessTokenAsync(keyFile, default);

        Assert.Equal(email, _google.AccountOf(first));
        Assert.Equal(first, second);
        Assert.Equal(1, _google.Exchanges);
    }

    [Fact]
    public async Task AToken_IsRefreshedShortlyBeforeItExpires_NotAfter()
    {
        var (keyFile, _) = _google.NewAccount();
        var first = await _tokens.AccessTokenAsync(keyFile, default);

        _clock.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(first, await _tokens.AccessTokenAsync(keyFile, default));
        Assert.Equal(1, _google.Exchanges);

        // Google's library refreshes in the last minutes of a token's hour; from 4 minutes before expiry it no longer uses it.
        _clock.Advance(TimeSpan.FromMinutes(6.5));
        var refreshed = await EventuallyAsync(async () => await _tokens.AccessTokenAsync(keyFile, default), t => t != first);

        Assert.NotEqual(first, refreshed);
        Assert.Equal(2, _google.Exchanges);
        Assert.NotNull(_google.AccountOf(refreshed));
    }

    [Fact]
    public async Task ConcurrentCallers_ShareOneExchange()
    {
        var (keyFile, _) = _google.NewAccount();
        _google.Delay = TimeSpan.FromMilliseconds(300);

        var tokens = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () => await _tokens.AccessTokenAsync(keyFile, default))));

        Assert.Single(tokens.Distinct());
        Assert.Equal(1, _google.Exchanges);
    }

    [Fact]
    public async Task AKeyTheEndpointDoesNotKnow_IsRefused_NamingTheAccountAndNotTheKey()
    {
        var (keyFile, email) = _google.NewAccount();
        using var other = RSA.Create(2048);
        var forged = JsonNode.Parse(keyFile)!.AsObject();
        var otherKey = other.ExportPkcs8PrivateKeyPem();
        forged["private_key"] = otherKey;

        var failure = await Assert.ThrowsAsync<AccessTokenFailure>(() => _tokens.AccessTokenAsync(forged.ToJsonString(), default).AsTask());

        Assert.Contains("refused", failure.Message);
        Assert.Contains(email, failure.Message);
        Assert.Contains("invalid_grant", failure.Message);
        Assert.Contains("Invalid JWT Signature", failure.Message);
        Assert.DoesNotContain("PRIVATE KEY", failure.Message);
        Assert.DoesNotContain(otherKey.Split('\n')[1][..40], failure.ToString());
        Assert.Equal(0, _google.Exchanges);
    }

    [Fact]
    public async Task ATokenUriInADeniedNetwork_IsNeverConnectedTo()
    {
        var (keyFile, _) = _google.NewAccount();
        var metadata = JsonNode.Parse(keyFile)!.AsObject();
        metadata["token_uri"] = "http://169.254.169.254/computeMetadata/v1/token";

        var failure = await Assert.ThrowsAsync<AccessTokenFailure>(() => _tokens.AccessTokenAsync(metadata.ToJsonString(), default).AsTask());

        Assert.Contains("could not be reached", failure.Message);
        Assert.Contains("denied by Proxy:Upstreams:DeniedNetworks", failure.Message);
    }

    [Theory]
    [InlineData("not json", "is not JSON")]
    [InlineData("""{"type":"authorized_user","client_email":"a@b","private_key":"x"}""", "only a service account's key file")]
    [InlineData("""{"type":"service_account","private_key":"x"}""", "has no client_email")]
    [InlineData("""{"type":"service_account","client_email":"a@b"}""", "has no private_key")]
    [InlineData("""{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----"}""", "not an RSA private key")]
    public void ABrokenKeyFile_IsA400_ThatQuotesNoneOfIt(string keyFile, string expected)
    {
        var error = Assert.Throws<ProxyError>(() => ServiceAccount.Parse(keyFile));

        Assert.Equal(400, error.Status);
        Assert.Equal("litellm_params.vertex_credentials", error.Param);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("c2VjcmV0", error.Message);
        Assert.DoesNotContain("not json", error.Message);
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(20);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _google.DisposeAsync();
}
