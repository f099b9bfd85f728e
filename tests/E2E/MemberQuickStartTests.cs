using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Users;

namespace E2E;

/// <summary>
/// A plain member's own way in (issue 30), at a desktop's size and a phone's: they sign in, open their team, create
/// their own key from the Quick start card, copy it and call the team's model with it; they never see where the model
/// sends its calls, nor a colleague's key settings.
/// </summary>
public sealed class MemberQuickStartTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Member = "dev@example.com";
    private const string MemberPassword = "Dev-Password-1";
    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();
    private string _memberId = "";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task Member_CreatesTheirOwnKey_FromQuickStart_AndCallsTheTeamsModel(BrowserFixture.Screen screen)
    {
        var apiBase = _upstream.ApiBase("ok", out var upstreamId);
        var team = await TeamWithSelfServiceAsync(apiBase);
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);

        await portal.SignInAsync(Member, MemberPassword);
        await portal.OpenTeamAsync("Quick");
        var card = portal.Page.Locator("[data-testid=quick-start]");
        Assert.Equal($"{_gateway.BaseAddress.ToString().TrimEnd('/')}/v1", await card.Locator("[data-testid=base-url]").InnerTextAsync());
        Assert.Contains("\"model\": \"team-gpt\"", await card.Locator("[data-testid=snippet-curl]").TextContentAsync());
        var key = await portal.CreateMyKeyAsync();
        await portal.ScreenshotAsync($"30-member-quickstart-{screen.ToString().ToLowerInvariant()}");

        // The key works: the stand-in answers the team's model.
        var client = _gateway.Client(key);
        var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "team-gpt", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.ReceivedBy(upstreamId));
        var info = (await (await _gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!;
        Assert.Equal(team, info["team_id"]!.GetValue<string>());
        Assert.Equal(_memberId, info["user_id"]!.GetValue<string>());
        Assert.Equal("llm_api", info["key_type"]!.GetValue<string>());

        // The team's model without where it sends its calls; their own key in full, a colleague's masked.
        await portal.Page.Locator("[data-testid=model-name]", new() { HasText = "team-gpt" }).WaitForAsync();
        var body = await portal.Page.InnerTextAsync("body");
        Assert.DoesNotContain(apiBase, body);
        Assert.DoesNotContain("API base", body);
        await portal.OpenTabAsync("Keys");
        await portal.Page.Locator("[data-testid=my-key-name]").First.WaitForAsync();
        await portal.Page.Locator("[data-testid=other-keys]").GetByText("colleague-key").WaitForAsync();
        body = await portal.Page.InnerTextAsync("body");
        Assert.DoesNotContain(apiBase, body);
        Assert.DoesNotContain("42.50", body);
        Assert.DoesNotContain("secret-model", body);

        // The team's daily sums (as LiteLLM shows a team's daily activity to its members), not its change log.
        await portal.OpenTabAsync("Usage");
        await portal.Page.GetByText("team-gpt").First.WaitForAsync();
        Assert.Equal(0, await portal.Page.Locator("[data-testid=tab-activity]").CountAsync());
    }

    /// <summary>Team "Quick" whose members may create their own keys, its model on the stand-in, the member, and a colleague's key with settings.</summary>
    private async Task<string> TeamWithSelfServiceAsync(string apiBase)
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new
        {
            team_alias = "Quick",
            team_member_permissions = new[] { "/key/info", "/key/generate", "/key/update", "/key/regenerate", "/key/delete" },
        })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        await _gateway.AddTeamModelAsync(GatewayFactory.MasterKey, team, "team-gpt", apiBase: apiBase);
        foreach (var email in new[] { Member, "colleague@example.com" })
        {
            (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = email, role = "user" } })).EnsureSuccessStatusCode();
        }
        await using var scope = _gateway.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var member = (await users.FindByEmailAsync(Member))!;
        _memberId = member.Id;
        Assert.True((await users.AddPasswordAsync(member, MemberPassword)).Succeeded);
        var colleague = (await users.FindByEmailAsync("colleague@example.com"))!.Id;
        await _gateway.GenerateKeyAsync(team, new { user_id = colleague, key_alias = "colleague-key", max_budget = 42.5, models = new[] { "secret-model" } });
        return team;
    }
}
