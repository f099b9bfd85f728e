using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;
using Proxy.Core.Users;

namespace E2E;

/// <summary>
/// Portal sign-in through a real OpenID Connect provider on loopback (it signs real RS256 tokens), with the browser
/// following every redirect: the gateway's challenge, the provider's form_post back, the callback, the account.
/// </summary>
public sealed class SingleSignOnTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly OidcIssuer _issuer = new();
    private GatewayFactory _gateway = null!;

    public async Task InitializeAsync()
    {
        await _issuer.StartAsync();
        _gateway = new GatewayFactory
        {
            Settings = new()
            {
                ["Portal:Sso:Authority"] = _issuer.Authority.AbsoluteUri,
                ["Portal:Sso:ClientId"] = OidcIssuer.ClientId,
                ["Portal:Sso:ClientSecret"] = OidcIssuer.ClientSecret,
                ["Portal:Sso:RequireHttpsMetadata"] = "false",
                ["Portal:Sso:DisplayName"] = "Example Corp",
                ["Portal:Sso:AdminGroup"] = "gateway-admins",
            },
        };
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private async Task<PortalPage> SignInWithSsoAsync(OidcUser user)
    {
        _issuer.NextUser = user;
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress);
        await portal.Page.GotoAsync(new Uri(_gateway.BaseAddress, "/Account/Login").ToString());
        await portal.Page.ClickAsync("#sign-in-sso");
        return portal;
    }

    private async Task<PortalUser?> AccountAsync(string email)
    {
        await using var scope = _gateway.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email);
    }

    [Fact]
    public async Task AFirstSignIn_CreatesTheAccountWithNoTeam()
    {
        var portal = await SignInWithSsoAsync(new OidcUser("newhire@example.com", true, ["engineering"]));

        await portal.WaitInteractiveAsync();
        await portal.Page.GetByText("newhire@example.com").First.WaitForAsync();
        await portal.ScreenshotAsync("17-sso-first-sign-in");
        var account = await AccountAsync("newhire@example.com");
        Assert.NotNull(account);
        Assert.False(account.IsProxyAdmin);
        Assert.Null(account.PasswordHash);
        await using var scope = _gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        Assert.False(await db.Memberships.AnyAsync(m => m.UserId == account.Id));
        Assert.True(await db.AuditEvents.AnyAsync(e => e.Action == "user.create" && e.Actor == "sso" && e.TargetId == account.Id));
        Assert.Equal(1, _issuer.Issued);
    }

    [Fact]
    public async Task AnExistingAccount_IsMatchedByEmail_AndTheAdminGroupMakesAProxyAdmin()
    {
        var admin = _gateway.Client();
        var team = await _gateway.CreateTeamAsync("Finance");
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "controller@example.com", role = "admin" } })).EnsureSuccessStatusCode();

        var portal = await SignInWithSsoAsync(new OidcUser("Controller@Example.com", true, ["gateway-admins"]));

        await portal.WaitInteractiveAsync();
        await portal.Page.Locator("[data-testid=team-link]", new() { HasText = "Finance" }).WaitForAsync();
        await portal.OpenAsync("/admin");
        await portal.Page.Locator("[data-testid=users]").WaitForAsync();
        Assert.True((await AccountAsync("controller@example.com"))!.IsProxyAdmin);
    }

    [Fact]
    public async Task AnUnverifiedEmail_IsRefused_WithAMessage_AndNoAccount()
    {
        var portal = await SignInWithSsoAsync(new OidcUser("unverified@example.com", false, []));

        await portal.Page.WaitForURLAsync("**/Account/Login**");
        await portal.Page.GetByText("has not verified unverified@example.com").WaitForAsync();
        Assert.Null(await AccountAsync("unverified@example.com"));
    }

    [Fact]
    public async Task WithoutSsoSettings_TheButtonIsAbsent_AndTheRouteGoesBackToSignIn()
    {
        await using var plain = new GatewayFactory();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = plain.BaseAddress };

        Assert.DoesNotContain("sign-in-sso", await http.GetStringAsync("/Account/Login"));
        var sso = await http.GetAsync("/Account/Sso");
        Assert.Equal(HttpStatusCode.Redirect, sso.StatusCode);
        Assert.EndsWith("/Account/Login", sso.Headers.Location!.ToString());
    }
}
