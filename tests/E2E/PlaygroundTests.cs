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
/// A member talks to a team model in the playground (through the gateway's own HTTP route, streamed), stops an answer,
/// meets a provider's failure in plain words, and finds those calls in the team's Logs tab: at a desktop's size and a phone's.
/// </summary>
public sealed class PlaygroundTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Member = "member@example.com";
    private const string MemberPassword = "Member-Password-1";

    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task AMember_ChatsInThePlayground_AndFindsTheCallsInLogs(BrowserFixture.Screen screen)
    {
        var size = screen.ToString().ToLowerInvariant();
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Playground", team_member_permissions = new[] { "/key/info" } })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var added = await (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = Member, role = "user" } })).ReadJsonAsync(HttpStatusCode.OK);
        var memberId = added["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync(Member))!, MemberPassword)).Succeeded);
        }
        var key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, user_id = memberId, key_alias = "member-key" })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        await AddModelAsync(team, "chat-model", _upstream.ApiBase("gated", out var chatId));
        await AddModelAsync(team, "slow-model", _upstream.ApiBase("gated", out var slowId));
        await AddModelAsync(team, "broken-model", _upstream.ApiBase("error500", out _));

        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        try
        {
            await ChatThenReadLogsAsync(portal, size, key, chatId, slowId);
        }
        catch
        {
            await portal.ScreenshotAsync($"failed-30-{size}");
            throw;
        }
    }

    private async Task ChatThenReadLogsAsync(PortalPage portal, string size, string key, string chatId, string slowId)
    {
        await portal.SignInAsync(Member, MemberPassword);
        await portal.OpenTeamAsync("Playground");
        await portal.Page.ClickAsync("[data-testid=open-playground]");
        await portal.Page.Locator("[data-testid=playground-title]").WaitForAsync();
        await portal.WaitInteractiveAsync();
        // This team's members may not create keys of their own, so the playground asks for one and says why.
        await portal.Page.Locator("[data-testid=playground-paste-why]").WaitForAsync();
        Assert.Equal(0, await portal.Page.Locator("[data-testid=playground-issue-key]").CountAsync());
        await portal.Page.FillAsync("#playground-key", key);

        // The answer streams: its first piece shows while the provider still holds the rest back.
        await PickAsync(portal, "playground-model", "chat-model");
        await SendAsync(portal, "hi");
        var answer = portal.Page.Locator("[data-testid=chat-assistant] [data-testid=chat-text]").Last;
        await answer.Filter(new() { HasTextString = "Sunny" }).WaitForAsync();
        await portal.Page.Locator("[data-testid=playground-stop]").WaitForAsync();
        Assert.Equal("Sunny", (await answer.InnerTextAsync()).Trim());
        _upstream.Release(chatId);
        await portal.Page.Locator("[data-testid=chat-assistant]", new() { HasText = "Sunny in Boston." }).WaitForAsync();
        await portal.Page.Locator("[data-testid=playground-send]").WaitForAsync();
        await portal.ScreenshotAsync($"30-playground-{size}");

        // Stop cancels the stream, up to the provider.
        await PickAsync(portal, "playground-model", "slow-model");
        await SendAsync(portal, "and tomorrow?");
        await portal.Page.Locator("[data-testid=chat-assistant]", new() { HasText = "Sunny" }).Nth(1).WaitForAsync();
        await portal.Page.ClickAsync("[data-testid=playground-stop]");
        await portal.Page.Locator("[data-testid=chat-stopped]").WaitForAsync();
        Assert.True(await EventuallyAsync(() => _upstream.Cancelled.ContainsKey(slowId)), "the provider's stream was never cancelled");

        // A provider's failure shows in the conversation, in words.
        await PickAsync(portal, "playground-model", "broken-model");
        await SendAsync(portal, "hi");
        var error = portal.Page.Locator("[data-testid=chat-error]");
        await error.WaitForAsync();
        Assert.Contains("The provider failed (500)", await error.InnerTextAsync());
        await portal.ScreenshotAsync($"30-playground-error-{size}");
        // The multi-turn conversation went to the provider whole: both earlier user turns and the first answer.
        var sent = _upstream.ReceivedBy(slowId).Single().Json["messages"]!.AsArray();
        Assert.Equal(["user:hi", "assistant:Sunny in Boston.", "user:and tomorrow?"], sent.Select(m => $"{m!["role"]}:{m["content"]}"));

        await portal.Page.ClickAsync("[data-testid=playground-clear]");
        await portal.Page.Locator("[data-testid=playground-empty]").WaitForAsync();

        // The calls in Logs: the answered one with its tokens, the failed one with the gateway's words for it.
        var written = await _gateway.WaitForUsageAsync(3, TimeSpan.FromSeconds(20));
        Assert.True(written >= 3, $"only {written} usage rows were written");
        await portal.OpenTeamAsync("Playground");
        await portal.OpenTabAsync("Logs");
        var logs = portal.Page.Locator("[data-testid=logs]");
        var chat = logs.Locator("tr", new() { HasText = "chat-model" });
        await chat.WaitForAsync();
        Assert.Equal("11 / 3", (await chat.Locator("[data-testid=log-tokens]").InnerTextAsync()).Trim());
        Assert.Contains("200", await chat.Locator("[data-testid=log-status]").InnerTextAsync());
        Assert.Contains("member-key", await chat.Locator("[data-testid=log-key]").InnerTextAsync());
        var broken = logs.Locator("tr", new() { HasText = "broken-model" });
        Assert.Contains("500", await broken.Locator("[data-testid=log-status]").InnerTextAsync());
        Assert.Contains("The provider answered 500 Internal Server Error.", await broken.Locator("[data-testid=log-error]").InnerTextAsync());
        Assert.Equal("1", (await broken.Locator("[data-testid=log-attempts]").InnerTextAsync()).Trim());
        await portal.Page.Locator("[data-testid=logs-note]").GetByText("Request and response bodies are not stored").WaitForAsync();
        await portal.ScreenshotAsync($"30-logs-{size}");

        // Errors only: the failed call stays, the answered one goes.
        await PickAsync(portal, "logs-status", "Errors");
        await chat.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.True(await broken.CountAsync() >= 1);
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task ATeamAdmin_UsesAOneHourKeyThePortalIssues_InTheirName(BrowserFixture.Screen screen)
    {
        const string lead = "lead@example.com";
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Issued" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var added = await (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = lead, role = "admin" } })).ReadJsonAsync(HttpStatusCode.OK);
        var leadId = added["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync(lead))!, "Lead-Password-1")).Succeeded);
        }
        await AddModelAsync(team, "chat-model", _upstream.ApiBase("sse", out _));

        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync(lead, "Lead-Password-1");
        await portal.OpenAsync($"/teams/{team}/playground");
        await portal.Page.ClickAsync("[data-testid=playground-issue-key]");
        var issued = portal.Page.Locator("[data-testid=playground-key-issued]");
        await issued.GetByText($"playground-{lead}").WaitForAsync();
        await PickAsync(portal, "playground-model", "chat-model");
        await SendAsync(portal, "hi");
        await portal.Page.Locator("[data-testid=chat-assistant]", new() { HasText = "Sunny in Boston." }).WaitForAsync();
        await portal.ScreenshotAsync($"30-playground-issued-key-{screen.ToString().ToLowerInvariant()}");

        // A real key of the team, in the lead's name, for LLM calls only, expiring within the hour.
        var key = (await (await admin.GetAsync($"/key/list?team_id={team}&return_full_object=true")).ReadJsonAsync(HttpStatusCode.OK))["keys"]!.AsArray()
            .Single(k => k!["key_alias"]?.GetValue<string>() == $"playground-{lead}")!;
        Assert.Equal(leadId, key["user_id"]!.GetValue<string>());
        Assert.Equal("llm_api", key["key_type"]!.GetValue<string>());
        var expires = key["expires"]!.GetValue<DateTime>().ToUniversalTime();
        Assert.InRange(expires, DateTime.UtcNow.AddMinutes(55), DateTime.UtcNow.AddMinutes(61));
    }

    private async Task AddModelAsync(string team, string name, string apiBase) =>
        (await _gateway.Client().PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-playground-e2e-1", api_base = apiBase },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

    private static async Task PickAsync(PortalPage portal, string selectId, string option)
    {
        await portal.Page.Locator($"div.mud-input-control.mud-select:has(#{selectId})").ClickAsync();
        await portal.Page.Locator(".mud-popover-open .mud-list-item").GetByText(option, new() { Exact = true }).ClickAsync();
        await portal.Page.Locator(".mud-popover-open").WaitForAsync(new() { State = WaitForSelectorState.Detached });
    }

    private static async Task SendAsync(PortalPage portal, string message)
    {
        await portal.Page.FillAsync("#playground-message", message);
        await portal.Page.ClickAsync("[data-testid=playground-send]");
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(100);
        }
        return condition();
    }
}
