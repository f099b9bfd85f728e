using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;
using Proxy.Core.Users;

namespace E2E;

/// <summary>
/// The portal held upright in one hand (390×844): the seed's job done on a phone, every page no wider than the screen,
/// the links in a drawer, and the one-time key's buttons on screen.
/// </summary>
public sealed class PhoneTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const int PhoneWidth = 390;

    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task OnAPhone_AdminCreatesTeamAndTeamAdmin_TeamAdminRegistersModelAndCopiesANewKey()
    {
        const string teamAdmin = "lead@example.com";
        const string teamAdminPassword = "Lead-Password-1";
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, BrowserFixture.Screen.Phone);

        // The proxy admin: the list, the drawer with Admin in it, the admin page.
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.CreateTeamAsync("Sweden");
        await AssertFitsAsync(portal, "the teams list");
        await portal.DismissMessagesAsync();
        await portal.ScreenshotAsync("30-teams-phone");
        await portal.OpenMenuIfFoldedAsync();
        var drawer = portal.Page.Locator("[data-testid=nav-drawer]");
        Assert.True(await drawer.Locator("[data-testid=nav-admin]").IsVisibleAsync(), "a proxy admin's drawer has no Admin link");
        await portal.DismissMessagesAsync();
        await portal.ScreenshotAsync("30-menu-phone");
        await drawer.Locator("[data-testid=nav-admin]").ClickAsync();
        await portal.Page.Locator("[data-testid=tab-users]").WaitForAsync();
        await portal.CreateUserAsync(teamAdmin, teamAdminPassword);
        await AssertFitsAsync(portal, "the admin page");
        await portal.ScreenshotAsync("30-admin-phone");
        await portal.OpenTeamAsync("Sweden");
        await portal.AddMemberAsync(teamAdmin, admin: true);
        await portal.SignOutAsync();

        // The team admin lands on their one team and has no Admin link to a page they cannot use.
        await portal.SignInAsync(teamAdmin, teamAdminPassword);
        await portal.Page.Locator("[data-testid=team-title]", new() { HasText = "Sweden" }).WaitForAsync();
        await portal.OpenMenuIfFoldedAsync();
        Assert.Equal(0, await drawer.Locator("[data-testid=nav-admin]").CountAsync());
        await portal.OpenAsync(new Uri(portal.Page.Url).PathAndQuery);
        await AssertFitsAsync(portal, "the team page");

        // Registering a model: the dialog's save button is on screen before anything scrolls.
        await portal.OpenTabAsync("Models");
        await portal.Page.ClickAsync("[data-testid=register-model]");
        await portal.Page.Locator("#model-public-name").WaitForAsync();
        Assert.True(await portal.IsOnScreenAsync("[data-testid=model-save]"), "the Register model dialog's save button is off screen");
        await portal.ScreenshotAsync("30-register-model-phone");
        await portal.Page.FillAsync("#model-public-name", "my-team-model");
        await portal.Page.FillAsync("#model-upstream", "gpt-4o");
        await portal.Page.FillAsync("#model-api-base", _upstream.ApiBase("ok", out var upstreamId));
        await portal.Page.FillAsync("#model-api-key", "sk-provider-from-a-phone-7e57");
        await portal.Page.ClickAsync("[data-testid=model-save]");
        await portal.Page.Locator("[data-testid=model-name]", new() { HasText = "my-team-model" }).WaitForAsync();
        await AssertFitsAsync(portal, "the Models tab");
        await portal.ScreenshotAsync("30-models-phone");

        // The one-time key: shown whole, copied, and both buttons on screen.
        var key = await portal.CreateKeyAsync("from-a-phone");
        Assert.True(await portal.IsOnScreenAsync("[data-testid=new-key]"), "the new key is not wholly on screen");
        Assert.True(await portal.IsOnScreenAsync("[data-testid=copy-new-key]"), "the new key's copy button is off screen");
        Assert.True(await portal.IsOnScreenAsync("[data-testid=new-key-done]"), "\"I have copied it\" is off screen");
        await portal.DismissMessagesAsync();
        await portal.ScreenshotAsync("30-new-key-phone");
        await portal.Page.ClickAsync("[data-testid=new-key-done]");
        await AssertFitsAsync(portal, "the Keys tab");
        await portal.ScreenshotAsync("30-keys-phone");

        // The copied key is the real one.
        var client = new HttpClient { BaseAddress = _gateway.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var answer = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Single(_upstream.ReceivedBy(upstreamId));

        // Every other tab of the team page fits the screen too.
        foreach (var tab in new[] { "Alias table", "Members", "Usage", "Activity" })
        {
            await portal.OpenTabAsync(tab);
            await portal.Page.Locator("[role=tabpanel]").First.WaitForAsync();
            await portal.Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await AssertFitsAsync(portal, $"the {tab} tab");
        }
        await portal.OpenTabAsync("Models");
        await portal.DismissMessagesAsync();
        await portal.ScreenshotAsync("30-team-phone");
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task AMemberOfOneTeam_LandsOnIt_AndIsNotOfferedAdmin(BrowserFixture.Screen screen)
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Only" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "solo@example.com", role = "user" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("solo@example.com"))!, "Solo-Password-1")).Succeeded);
        }
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);

        await portal.SignInAsync("solo@example.com", "Solo-Password-1");

        await portal.Page.Locator("[data-testid=team-title]", new() { HasText = "Only" }).WaitForAsync();
        Assert.EndsWith($"/teams/{team}", portal.Page.Url);
        await portal.OpenMenuIfFoldedAsync();
        await portal.Page.Locator("[data-testid=nav-teams]:visible").WaitForAsync();
        Assert.Equal(0, await portal.Page.Locator("[data-testid=nav-admin]").CountAsync());
        if (screen == BrowserFixture.Screen.Phone)
        {
            await portal.ScreenshotAsync("30-member-menu-phone");
        }
    }

    private static async Task AssertFitsAsync(PortalPage portal, string where)
    {
        var width = await portal.PageWidthAsync();
        var bar = await portal.TopBarWidthAsync();
        var sideways = await portal.SidewaysTablesAsync();
        if (width > PhoneWidth || bar > PhoneWidth || sideways > 0)
        {
            await portal.ScreenshotAsync("failed-too-wide-" + DateTime.UtcNow.Ticks);
        }
        Assert.True(width <= PhoneWidth, $"{where} is drawn {width} px wide on a {PhoneWidth} px screen");
        Assert.True(bar <= PhoneWidth, $"the top bar above {where} is {bar} px wide on a {PhoneWidth} px screen");
        Assert.True(sideways == 0, $"{sideways} table(s) on {where} scroll sideways: their cards run off the screen");
    }
}
