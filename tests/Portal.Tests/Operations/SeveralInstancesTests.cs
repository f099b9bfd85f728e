using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Operations;

/// <summary>Two gateway instances on one database, as behind a load balancer: a portal sign-in on one is good on the other.</summary>
[Trait("Category", "Database")]
public sealed class SeveralInstancesTests : IAsyncLifetime
{
    private readonly GatewayFactory _first = new();
    private GatewayFactory _second = null!;

    public Task InitializeAsync()
    {
        _ = _first.BaseAddress;
        _second = new GatewayFactory { Settings = new() { ["ConnectionStrings:Portal"] = _first.ConnectionString } };
        _ = _second.BaseAddress;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    [Fact]
    public async Task ACookieIssuedByOneInstance_IsAcceptedByTheOther()
    {
        using var onFirst = new PortalForms(_first.BaseAddress);
        var signedIn = await onFirst.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        using var onSecond = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _second.BaseAddress };
        onSecond.DefaultRequestHeaders.Add("Cookie", onFirst.SignInCookie());
        var admin = await onSecond.GetAsync("/admin");

        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        var page = await admin.Content.ReadAsStringAsync();
        Assert.Contains(GatewayFactory.AdminEmail, page);
        Assert.DoesNotContain("id=\"sign-in\"", page);
    }

    [Fact]
    public async Task TheSharedKeyRing_IsInTheDatabase_SealedWithTheEncryptionKey()
    {
        using var forms = new PortalForms(_first.BaseAddress);
        await forms.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);

        await using var scope = _first.Services.CreateAsyncScope();
        var keys = await scope.ServiceProvider.GetRequiredService<PortalDb>().DataProtectionKeys.AsNoTracking().ToListAsync();
        var key = Assert.Single(keys);
        Assert.Matches("<sealed[^>]*>v1\\.", key.Xml);
        // The key material itself (Data Protection's <masterKey>) is never stored in the clear.
        Assert.DoesNotContain("masterKey", key.Xml);
    }
}
