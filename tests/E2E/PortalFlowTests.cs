using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;
using Proxy.Core.Users;

namespace E2E;

/// <summary>The portal in a real browser against a real gateway, SQLite file and provider stand-in.</summary>
public sealed class PortalFlowTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<PortalPage> NewPageAsync() => browser.NewPortalAsync(_gateway.BaseAddress);

    [Fact]
    public async Task AdminCreatesTeamAndTeamAdmin_TeamAdminRegistersModelAndKey_KeyReachesTheTeamsProvider()
    {
        const string teamAdmin = "lead@example.com";
        const string teamAdminPassword = "Lead-Password-1";
        const string providerKey = "sk-provider-from-the-portal-7e57";
        var portal = await NewPageAsync();

        // The proxy admin signs in, creates the team and the team admin's account.
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.CreateTeamAsync("Sweden");
        await portal.ScreenshotAsync("01-teams");
        await portal.CreateUserAsync(teamAdmin, teamAdminPassword);
        await portal.ScreenshotAsync("02-admin-users");
        await portal.OpenTeamAsync("Sweden");
        await portal.AddMemberAsync(teamAdmin, admin: true);
        await portal.ScreenshotAsync("03-members");
        await portal.SignOutAsync();

        // The team admin registers the team's model, sees it in the alias table and creates a key.
        await portal.SignInAsync(teamAdmin, teamAdminPassword);
        await portal.OpenTeamAsync("Sweden");
        await portal.RegisterModelAsync("my-team-model", "gpt-4o", _upstream.ApiBase("ok", out var upstreamId), providerKey);
        await portal.ScreenshotAsync("04-models");
        await portal.OpenTabAsync("Alias table");
        var internalName = await portal.Page.Locator("[data-testid=alias-row]", new() { HasText = "my-team-model" }).Locator("[data-testid=alias-internal]").InnerTextAsync();
        Assert.StartsWith("model_name_", internalName);
        await portal.ScreenshotAsync("05-alias-table");
        var key = await portal.CreateKeyAsync("from-the-portal");
        await portal.ScreenshotAsync("06-new-key-shown-once");
        await portal.Page.ClickAsync("[data-testid=new-key-done]");
        await portal.ScreenshotAsync("07-keys");

        // A plain HTTP call with that key reaches the stand-in with the team's provider key.
        var client = new HttpClient { BaseAddress = _gateway.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Registration tested the connection with a one-token "ping"; the call is the other request.
        var received = Assert.Single(_upstream.ReceivedBy(upstreamId), r => r.Json["messages"]![0]!["content"]!.GetValue<string>() == "hi");
        Assert.Equal($"Bearer {providerKey}", received.Header("authorization"));
        Assert.Equal("gpt-4o", received.Json["model"]!.GetValue<string>());

        // The call shows up in Usage (once the background writer has it: the tab reads once), the registration in Activity.
        Assert.True(await _gateway.WaitForUsageAsync(1, TimeSpan.FromSeconds(20)) >= 1, "the call's usage row was never written");
        await portal.OpenTeamAsync("Sweden");
        await portal.OpenTabAsync("Usage");
        await portal.Page.Locator("[data-testid=usage-models]").GetByText("my-team-model").WaitForAsync();
        await portal.ScreenshotAsync("08-usage");
        await portal.OpenTabAsync("Activity");
        await portal.Page.Locator("[data-testid=activity]").GetByText("registered model my-team-model").WaitForAsync();
        await portal.ScreenshotAsync("09-activity");
    }

    [Fact]
    public async Task MemberOfAnotherTeam_CannotSeeOrOpenTheFirstTeam()
    {
        var admin = _gateway.Client();
        var first = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "First" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var second = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Second" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = second, member = new { user_email = "outsider@example.com", role = "user" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var outsider = (await users.FindByEmailAsync("outsider@example.com"))!;
            Assert.True((await users.AddPasswordAsync(outsider, "Outsider-Password-1")).Succeeded);
        }
        var portal = await NewPageAsync();

        await portal.SignInAsync("outsider@example.com", "Outsider-Password-1");

        // A member of one team lands on it; the other team is nowhere.
        await portal.Page.Locator("[data-testid=team-title]", new() { HasText = "Second" }).WaitForAsync();
        Assert.Equal(0, await portal.Page.GetByText("First", new() { Exact = true }).CountAsync());
        // A member sees but cannot change: no register button on their own team.
        Assert.Equal(0, await portal.Page.Locator("[data-testid=register-model]").CountAsync());
        Assert.Equal(0, await portal.Page.GetByRole(AriaRole.Tab, new() { Name = "Activity" }).CountAsync());
        await portal.ScreenshotAsync("10-member-view");

        await portal.OpenAsync($"/teams/{first}");
        await portal.Page.GetByText("does not exist or you are not a member").WaitForAsync();
        Assert.Equal(0, await portal.Page.GetByText("First").CountAsync());
        await portal.OpenAsync("/admin");
        await portal.Page.GetByText("Only proxy admins can open this page.").WaitForAsync();
    }

    [Fact]
    public async Task AMemberAddedByEmail_GetsAnInviteLink_SetsAPassword_AndSeesTheTeam()
    {
        var admin = await NewPageAsync();
        await admin.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await admin.CreateTeamAsync("Invites");
        await admin.OpenTeamAsync("Invites");
        await admin.OpenTabAsync("Members");

        // Typed and added as admin at once: the role is the button, nothing arrives late.
        await admin.Page.FillAsync("#member-email", "invitee@example.com");
        await admin.Page.ClickAsync("[data-testid=add-admin]");
        var link = await admin.Page.Locator("[data-testid=invite-link]").InnerTextAsync();
        await admin.ScreenshotAsync("18-invite-link");
        await admin.Page.ClickAsync("[data-testid=invite-done]");
        await admin.Page.Locator("[data-testid=members] tr", new() { HasText = "invitee@example.com" }).GetByText("admin", new() { Exact = true }).WaitForAsync();

        var invitee = await NewPageAsync();
        await invitee.Page.GotoAsync(link);
        await invitee.Page.FillAsync("#new-password", "Invitee-Password-1");
        await invitee.Page.FillAsync("#confirm-password", "Invitee-Password-1");
        await invitee.Page.ClickAsync("#accept-invite");
        await invitee.WaitInteractiveAsync();
        await invitee.Page.Locator("[data-testid=team-title]", new() { HasText = "Invites" }).WaitForAsync();

        // Spent: the same link again is refused.
        var replay = await NewPageAsync();
        await replay.Page.GotoAsync(link);
        await replay.Page.FillAsync("#new-password", "Replay-Password-1");
        await replay.Page.FillAsync("#confirm-password", "Replay-Password-1");
        await replay.Page.ClickAsync("#accept-invite");
        await replay.Page.GetByText("invalid, expired or already used").WaitForAsync();
    }

    [Fact]
    public async Task TeamAdmin_SetsTheTeamBudgetAndAKeysLimits_AndSeesSpendAgainstThem()
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Budgets" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "payer@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("payer@example.com"))!, "Payer-Password-1")).Succeeded);
        }
        var key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "budgeted" })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/model/new", new
        {
            model_name = "priced-model",
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-budget-e2e-1", api_base = _upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team, input_cost_per_token = 0.01, output_cost_per_token = 0.01 },
        })).EnsureSuccessStatusCode();
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
        for (var i = 0; i < 2; i++)
        {
            (await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "priced-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 7 })).EnsureSuccessStatusCode();
        }
        Assert.True(await _gateway.WaitForUsageAsync(2, TimeSpan.FromSeconds(20)) >= 2, "the calls' usage rows were never written");
        var portal = await NewPageAsync();

        // Two calls of 18 tokens at 0.01 USD a token: 0.36 USD spent, no budget yet.
        await portal.SignInAsync("payer@example.com", "Payer-Password-1");
        await portal.OpenTeamAsync("Budgets");
        var budget = portal.Page.Locator("[data-testid=team-budget]");
        await budget.GetByText("$0.36").WaitForAsync();
        Assert.Contains("no budget", await budget.InnerTextAsync());

        await portal.Page.ClickAsync("[data-testid=team-edit-limits]");
        await portal.Page.FillAsync("#limits-max-budget", "2");
        await portal.Page.FillAsync("#limits-rpm", "600");
        await portal.Page.ClickAsync("[data-testid=limits-save]");
        await portal.Page.GetByText("Team budget and limits saved.").WaitForAsync();
        await budget.Locator("[data-testid=spend-budget]", new() { HasText = "$2.00" }).WaitForAsync();
        await budget.Locator("[data-testid=spend-bar]").WaitForAsync();
        Assert.Equal("600 rpm", await portal.Page.Locator("[data-testid=team-limits]").InnerTextAsync());

        await portal.OpenTabAsync("Keys");
        var row = portal.Page.Locator("[data-testid=keys] tr", new() { HasText = "budgeted" });
        await row.Locator("[data-testid=key-edit-limits]").ClickAsync();
        await portal.Page.FillAsync("#limits-max-budget", "1.3");
        await portal.Page.FillAsync("#limits-parallel", "2");
        await portal.Page.ClickAsync("[data-testid=limits-save]");
        await portal.Page.GetByText("Budget and limits saved.").First.WaitForAsync();
        await row.Locator("[data-testid=key-limits]", new() { HasText = "2 in flight" }).WaitForAsync();
        await row.Locator("[data-testid=spend-budget]", new() { HasText = "$1.30" }).WaitForAsync();
        await portal.ScreenshotAsync("11-budgets");

        // What the portal set is what the gateway enforces: the key has spent 0.36 of 1.30 and a call reserves its worst case,
        // 83 body bytes and 7 output tokens at 0.01 = 0.90: the next call fits (0.36 + 0.90), the one after it not (0.54 + 0.90).
        (await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "priced-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 7 })).EnsureSuccessStatusCode();
        var refused = await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "priced-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 7 });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("budget_exceeded", await refused.Content.ReadAsStringAsync());

        Assert.True(await _gateway.WaitForUsageAsync(3, TimeSpan.FromSeconds(20)) >= 3, "the third call's usage row was never written");
        await portal.OpenTeamAsync("Budgets");
        await portal.OpenTabAsync("Usage");
        await portal.Page.Locator("[data-testid=usage-per-day]").GetByText("priced-model").WaitForAsync();
        Assert.Contains("$0.54", await portal.Page.Locator("[data-testid=day-spend]").First.InnerTextAsync());
        await portal.ScreenshotAsync("12-usage-spend");
    }

    [Fact]
    public async Task TeamAdmin_SetsAFallback_AndSeesAFailingDeploymentCoolDown()
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Routing" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "router@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("router@example.com"))!, "Router-Password-1")).Succeeded);
        }
        var key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        foreach (var (name, scenario) in new[] { ("primary", "error503"), ("backup", "ok") })
        {
            (await admin.PostAsJsonAsync("/model/new", new
            {
                model_name = name,
                litellm_params = new { model = "openai/gpt-4o", api_key = $"sk-provider-{name}-e2e-0001", api_base = _upstream.ApiBase(scenario, out _) },
                model_info = new { team_id = team },
            })).EnsureSuccessStatusCode();
        }
        var portal = await NewPageAsync();

        await portal.SignInAsync("router@example.com", "Router-Password-1");
        await portal.OpenTeamAsync("Routing");
        await portal.Page.ClickAsync("[data-testid=team-edit-routing]");
        await portal.Page.ClickAsync("[data-testid=fallbacks-add]");
        await portal.Page.FillAsync("#fallbacks-model-0", "primary");
        await portal.Page.FillAsync("#fallbacks-targets-0", "backup");
        await portal.Page.ClickAsync("[data-testid=routing-save]");
        await portal.Page.GetByText("Routing saved.").WaitForAsync();
        await portal.Page.Locator("[data-testid=team-routing]", new() { HasText = "primary → backup" }).WaitForAsync();

        // What the portal set is what the gateway does: the failing model's calls are answered by the backup.
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
        for (var i = 0; i < 3; i++)
        {
            var answer = await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "primary", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("1", answer.Headers.GetValues("x-litellm-attempted-fallbacks").Single());
        }

        // Three failures within a minute: the Models tab shows the primary deployment cooling down.
        await portal.OpenTeamAsync("Routing");
        await portal.OpenTabAsync("Models");
        var primary = portal.DeploymentRows("primary");
        await primary.GetByText("cooling down until").WaitForAsync();
        await portal.ScreenshotAsync("13-routing");
    }

    [Fact]
    public async Task TeamAdmin_RegistersAGroqModel_PickedFromTheProvidersList_AndItAnswers()
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Providers" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "picker@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("picker@example.com"))!, "Picker-Password-1")).Succeeded);
        }
        var apiBase = _upstream.ApiBase("ok", out var upstreamId);
        var portal = await NewPageAsync();

        await portal.SignInAsync("picker@example.com", "Picker-Password-1");
        await portal.OpenTeamAsync("Providers");
        await portal.OpenTabAsync("Models");
        await portal.Page.ClickAsync("[data-testid=register-model]");
        await portal.Page.Locator("div.mud-input-control.mud-select:has(#model-provider)").ClickAsync();
        await portal.Page.Locator(".mud-popover-open .mud-list-item").GetByText("Groq", new() { Exact = true }).ClickAsync();
        await portal.Page.GetByText("Empty means https://api.groq.com/openai/v1.").WaitForAsync();
        await portal.Page.FillAsync("#model-public-name", "fast-model");
        await portal.Page.FillAsync("#model-api-base", apiBase);
        await portal.Page.FillAsync("#model-api-key", "sk-provider-groq-e2e-0001");
        await portal.Page.ClickAsync("[data-testid=model-list]");
        await portal.Page.GetByText("The provider lists 2 models: pick one.").WaitForAsync();
        await portal.Page.Locator("div.mud-input-control.mud-select:has(#model-offered)").ClickAsync();
        await portal.Page.Locator(".mud-popover-open .mud-list-item").GetByText("llama-3.3-70b", new() { Exact = true }).ClickAsync();
        await portal.Page.WaitForFunctionAsync("() => document.getElementById('model-upstream')?.value === 'llama-3.3-70b'");
        await portal.ScreenshotAsync("14-provider-models");
        await portal.Page.ClickAsync("[data-testid=model-save]");
        await portal.Page.Locator("[data-testid=model-name]", new() { HasText = "fast-model" }).WaitForAsync();

        var key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var answer = await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "fast-model", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var received = _upstream.ReceivedBy(upstreamId).Last();
        Assert.Equal("llama-3.3-70b", received.Json["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-provider-groq-e2e-0001", received.Header("authorization"));
    }

    [Fact]
    public async Task WrongPassword_GetsAClearMessage_AndRepeatedFailuresLockTheAccount()
    {
        var portal = await NewPageAsync();

        await portal.Page.GotoAsync(new Uri(_gateway.BaseAddress, "/Account/Login").ToString());
        await portal.Page.FillAsync("#email", GatewayFactory.AdminEmail);
        await portal.Page.FillAsync("#password", "wrong-password");
        await portal.Page.ClickAsync("#sign-in");
        await portal.Page.GetByText("Unknown email or wrong password.").WaitForAsync();
        await portal.ScreenshotAsync("00-sign-in-error");

        for (var i = 0; i < 4; i++)
        {
            await portal.Page.FillAsync("#email", GatewayFactory.AdminEmail);
            await portal.Page.FillAsync("#password", "wrong-password");
            // Each failed attempt must reach the server before the next: waiting for a page load raced the form post.
            await portal.Page.RunAndWaitForResponseAsync(() => portal.Page.ClickAsync("#sign-in"),
                r => r.Request.Method == "POST" && r.Url.Contains("/Account/Login", StringComparison.OrdinalIgnoreCase));
        }
        await portal.Page.GetByText("locked").First.WaitForAsync();
    }
}
