using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;
using Proxy.Core.Users;

namespace E2E;

/// <summary>The key form in a real browser, at a desktop's size and a phone's: the API's rules, refusals in place, why a key is refused.</summary>
public sealed class KeyFormFlowTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
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
    public async Task TeamAdmin_CreatesAKeyWithANegativeBudget_SeesTheApisMessageUnderIt_FixesIt_AndSeesAnExhaustedKey(BrowserFixture.Screen screen)
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Keys" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "keeper@example.com", role = "admin" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync("keeper@example.com"))!, "Keeper-Password-1")).Succeeded);
        }
        (await admin.PostAsJsonAsync("/model/new", new
        {
            model_name = "priced-model",
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-keyform-e2e-1", api_base = _upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team, input_cost_per_token = 0.01, output_cost_per_token = 0.01 },
        })).EnsureSuccessStatusCode();

        // A key that has spent 0.36 USD, then gets a budget of 0.30: used up.
        var spent = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "spent-key" })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", spent);
        for (var i = 0; i < 2; i++)
        {
            (await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "priced-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 7 })).EnsureSuccessStatusCode();
        }
        Assert.True(await _gateway.WaitForUsageAsync(2, TimeSpan.FromSeconds(20)) >= 2, "the calls' usage rows were never written");
        (await admin.PostAsJsonAsync("/key/update", new { key = spent, max_budget = 0.3 })).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await admin.GetFromJsonAsync<JsonObject>($"/key/info?key={spent}"))!["info"]!["spend"]!.GetValue<double>() < 0.3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the key's spend was never written");
            await Task.Delay(100);
        }

        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        var suffix = screen == BrowserFixture.Screen.Phone ? "phone" : "desktop";
        await portal.SignInAsync("keeper@example.com", "Keeper-Password-1");
        await portal.OpenTeamAsync("Keys");
        await portal.OpenTabAsync("Keys");
        var spentRow = portal.Page.Locator("[data-testid=keys] tr", new() { HasText = "spent-key" });
        await spentRow.Locator("[data-testid=key-status]", new() { HasText = "budget exhausted" }).WaitForAsync();

        // -5 is refused with the REST API's message under the budget; the dialog and what was typed stay.
        await portal.StartKeyAsync("from-the-form", "-5");
        await portal.Page.Locator(".mud-select:has(#key-models)").Last.ClickAsync();
        await portal.Page.Locator("[data-testid=key-model-price]").GetByText("$10,000.00 in · $10,000.00 out per 1M tokens").WaitForAsync();
        await portal.Page.Locator(".mud-list-item", new() { HasText = "priced-model" }).ClickAsync();
        // Closed as a person does, by a tap beside the open list.
        await portal.Page.Locator(".mud-dialog-title").ClickAsync();
        await portal.Page.Locator(".mud-list-item", new() { HasText = "priced-model" }).WaitForAsync(new() { State = WaitForSelectorState.Hidden });
        await portal.Page.ClickAsync("[data-testid=key-save]");
        var error = portal.ErrorUnder("limits-max-budget");
        await error.WaitForAsync();
        Assert.Equal("max_budget must not be negative: give an amount of USD, 0 or more, or none for no budget.", (await error.InnerTextAsync()).Trim());
        Assert.Equal("from-the-form", await portal.Page.InputValueAsync("#key-alias"));
        Assert.Equal("Call models only", await portal.Page.InputValueAsync("#key-type"));
        await portal.ScreenshotAsync($"30-key-form-{suffix}");

        // Fixed, the key is created: shown once, then listed with its model and active.
        await portal.Page.FillAsync("#limits-max-budget", "5");
        await portal.Page.ClickAsync("[data-testid=key-save]");
        await portal.Page.Locator("[data-testid=new-key]").WaitForAsync();
        await portal.Page.ClickAsync("[data-testid=new-key-done]");
        var created = portal.Page.Locator("[data-testid=keys] tr", new() { HasText = "from-the-form" });
        await created.Locator("[data-testid=key-status]", new() { HasText = "active" }).WaitForAsync();
        Assert.Equal("priced-model", (await created.Locator("[data-testid=key-model]").InnerTextAsync()).Trim());
        await created.Locator("[data-testid=spend-budget]", new() { HasText = "$5.00" }).WaitForAsync();
        await portal.ScreenshotAsync($"30-keys-status-{suffix}");
    }
}
