using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;
using Proxy.Core.Users;

namespace E2E;

/// <summary>
/// Setting up a team in one place (a new team with its first admin, who gets an invite link), the users table's
/// confirmation before granting proxy admin, and the team's Activity in sentences; at a desktop's size and a phone's.
/// </summary>
public sealed class TeamSetupTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly GatewayFactory _gateway = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static string Size(BrowserFixture.Screen screen) => screen == BrowserFixture.Screen.Phone ? "phone" : "desktop";

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task ProxyAdmin_CreatesATeamWithANewAdminsEmail_TheInviteeSetsAPassword_AndIsTheTeamsAdmin(BrowserFixture.Screen screen)
    {
        var admin = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await admin.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);

        // One dialog: the team's name and its first admin's email.
        await admin.Page.ClickAsync("[data-testid=create-team]");
        await admin.Page.FillAsync("#team-alias", "Nordics");
        await admin.Page.FillAsync("#team-admin-email", "lena@example.com");
        await admin.Page.ClickAsync("[data-testid=team-save]");

        // The invite link is shown in place, in the same dialog, with a copy button.
        await admin.Page.Locator("[data-testid=team-created]", new() { HasText = "lena@example.com" }).WaitForAsync();
        var link = await admin.Page.Locator("[data-testid=invite-link]").InnerTextAsync();
        Assert.Contains("/Account/Invite?user=", link);
        await admin.Page.ClickAsync("[data-testid=copy-invite-link]");
        await admin.Page.GetByText("Copied invite link.").WaitForAsync();
        Assert.Equal(link, await admin.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await admin.ScreenshotAsync($"30-new-team-{Size(screen)}");
        await admin.Page.ClickAsync("[data-testid=invite-done]");
        await admin.Page.Locator("[data-testid=team-link]", new() { HasText = "Nordics" }).WaitForAsync();

        // The invitee opens the link, sets a password, and is the team's admin.
        var invitee = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await invitee.Page.GotoAsync(link);
        await invitee.Page.FillAsync("#new-password", "Lena-Password-1");
        await invitee.Page.FillAsync("#confirm-password", "Lena-Password-1");
        await invitee.Page.ClickAsync("#accept-invite");
        await invitee.WaitInteractiveAsync();
        // The link names the team: the invitee lands on it.
        await invitee.Page.Locator("[data-testid=team-title]", new() { HasText = "Nordics" }).WaitForAsync();
        await invitee.Page.GetByText("you are team admin").WaitForAsync();
        await invitee.OpenTabAsync("Members");
        var row = invitee.Page.Locator("[data-testid=members] tr", new() { HasText = "lena@example.com" });
        await row.GetByText("admin", new() { Exact = true }).WaitForAsync();
        // As the team's only admin, Lena cannot remove or demote herself.
        Assert.True(await row.Locator("[data-testid=member-remove]").IsDisabledAsync());
        Assert.True(await row.Locator("[data-testid=member-demote]").IsDisabledAsync());
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task GrantingProxyAdmin_AsksFirst_NamingThePerson(BrowserFixture.Screen screen)
    {
        var api = _gateway.Client();
        var team = (await (await api.PostAsJsonAsync("/team/new", new { team_alias = "Research" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await api.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "ada@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.OpenAsync("/admin");

        // The row names the person and their team by name, with the role; no ids.
        var row = portal.Page.Locator("[data-testid=users] tr", new() { HasText = "ada@example.com" });
        await row.Locator("[data-testid=user-teams]", new() { HasText = "Research · admin" }).WaitForAsync();
        Assert.DoesNotContain(team, await portal.Page.Locator("[data-testid=users]").InnerTextAsync());
        Assert.Equal("no", (await row.Locator("[data-testid=user-proxy-admin]").InnerTextAsync()).Trim());

        await row.Locator("[data-testid=user-toggle-admin]").ClickAsync();
        var dialog = portal.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByText("Make ada@example.com a proxy admin?").WaitForAsync();
        await portal.ScreenshotAsync($"30-users-{Size(screen)}");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await dialog.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.Equal("no", (await row.Locator("[data-testid=user-proxy-admin]").InnerTextAsync()).Trim());

        await row.Locator("[data-testid=user-toggle-admin]").ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Make proxy admin" }).ClickAsync();
        await row.Locator("[data-testid=user-proxy-admin]", new() { HasText = "yes" }).WaitForAsync();

        // The signed-in admin's own row: nothing to click that the core would refuse after a confirmation.
        var own = portal.Page.Locator("[data-testid=users] tr", new() { HasText = GatewayFactory.AdminEmail });
        Assert.Equal(0, await own.Locator("[data-testid=user-toggle-admin]").CountAsync());
        Assert.True(await own.Locator("[data-testid=user-toggle-admin-own]").IsDisabledAsync());
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task Activity_SaysWhoBlockedWhichKey_InOneLineThatFitsTheScreen(BrowserFixture.Screen screen)
    {
        var api = _gateway.Client();
        var team = (await (await api.PostAsJsonAsync("/team/new", new { team_alias = "Platform" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await api.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "lena@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "ci-pipeline" })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("lena@example.com"))!, "Lena-Password-1")).Succeeded);
        }
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync("lena@example.com", "Lena-Password-1");
        await portal.OpenAsync($"/teams/{team}");

        await portal.OpenTabAsync("Keys");
        var key = portal.Page.Locator("[data-testid=keys] tr", new() { HasText = "ci-pipeline" });
        await key.GetByRole(AriaRole.Button, new() { Name = "Block", Exact = true }).ClickAsync();
        await key.GetByText("blocked", new() { Exact = true }).WaitForAsync();

        await portal.OpenTabAsync("Activity");
        var activity = portal.Page.Locator("[data-testid=activity]");
        await activity.GetByText("lena@example.com blocked key ci-pipeline").WaitForAsync();
        await activity.GetByText("The master key created key ci-pipeline").WaitForAsync();
        await activity.GetByText("blocked: no → yes").WaitForAsync();
        Assert.DoesNotContain(team, await activity.InnerTextAsync());

        // No sideways scrolling: the list fits the viewport, and the stored event opens in place.
        var width = await portal.Page.EvaluateAsync<int>("() => window.innerWidth");
        Assert.True((await activity.BoundingBoxAsync())!.Width <= width, "the activity list is wider than the screen");
        Assert.True(await portal.Page.EvaluateAsync<bool>("() => document.querySelector('[data-testid=activity]').scrollWidth <= document.querySelector('[data-testid=activity]').clientWidth"));
        var blockEvent = portal.Page.Locator("[data-testid=activity-event]", new() { HasText = "lena@example.com blocked key" });
        await blockEvent.GetByText("Stored event").ClickAsync();
        await blockEvent.Locator("[data-testid=activity-raw]", new() { HasText = "key.block" }).WaitForAsync();
        await portal.ScreenshotAsync($"30-activity-{Size(screen)}");
    }
}
