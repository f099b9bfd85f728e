using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;
using Proxy.Core.Users;

namespace E2E;

/// <summary>
/// A team admin reads the team's usage: calls made through the gateway to the stand-in show in the Usage tab by model
/// and by key (alias and masked form), for the range picked, and the daily report downloads as CSV: at a desktop's size
/// and a phone's.
/// </summary>
public sealed class UsageTabTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Lead = "lead@example.com";
    private const string LeadPassword = "Lead-Password-1";
    private const int PhoneWidth = 390;

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
    public async Task ATeamAdmin_PicksARange_SeesTheModelsAndKeys_AndDownloadsTheDailyReport(BrowserFixture.Screen screen)
    {
        var size = screen.ToString().ToLowerInvariant();
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Finance" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = Lead, role = "admin" } })).EnsureSuccessStatusCode();
        await using (var scope = _gateway.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.AddPasswordAsync((await users.FindByEmailAsync(Lead))!, LeadPassword)).Succeeded);
        }
        var ci = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "ci-pipeline" })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        var laptop = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "laptop" })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        await AddModelAsync(team, "priced-model", 0.01);
        await AddModelAsync(team, "cheap-model", 0.001);

        // Three calls of 18 tokens (11 prompt, 7 completion): two by CI on the priced model, one from a laptop on the cheap one.
        await CallAsync(ci, "priced-model");
        await CallAsync(ci, "priced-model");
        await CallAsync(laptop, "cheap-model");
        Assert.True(await _gateway.WaitForUsageAsync(3, TimeSpan.FromSeconds(20)) >= 3, "the calls' usage rows were never written");

        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        try
        {
            await ReadUsageAsync(portal, size, [ci, laptop]);
            if (screen == BrowserFixture.Screen.Phone)
            {
                Assert.True(await portal.PageWidthAsync() <= PhoneWidth, "the Usage tab is drawn wider than the phone");
                Assert.Equal(0, await portal.SidewaysTablesAsync());
            }
            await portal.ScreenshotAsync($"27-usage-{size}");
            await DownloadAsync(portal);
            await CustomRangeAsync(portal);
        }
        catch
        {
            await portal.ScreenshotAsync($"failed-27-{size}");
            throw;
        }
    }

    private async Task ReadUsageAsync(PortalPage portal, string size, string[] rawKeys)
    {
        await portal.SignInAsync(Lead, LeadPassword);
        await portal.OpenTeamAsync("Finance");
        await portal.OpenTabAsync("Usage");
        await portal.Page.Locator("[data-testid=usage-range-text]", new() { HasText = "UTC" }).WaitForAsync();

        await portal.Page.ClickAsync("[data-testid=range-7]");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        await portal.Page.Locator("[data-testid=usage-range-text]", new() { HasText = $"{today.AddDays(-6):yyyy-MM-dd} to {today:yyyy-MM-dd}" }).WaitForAsync();
        await portal.Page.Locator("[data-testid=usage-total-requests]", new() { HasText = "3" }).WaitForAsync();
        // 36 tokens at 0.01 USD and 18 at 0.001.
        Assert.Equal("$0.378", (await portal.Page.Locator("[data-testid=usage-total-spend]").InnerTextAsync()).Trim());
        Assert.Equal("54", (await portal.Page.Locator("[data-testid=usage-total-tokens]").InnerTextAsync()).Trim());

        var models = portal.Page.Locator("[data-testid=usage-models] tbody tr");
        Assert.Contains("$0.36", await models.Filter(new() { HasText = "priced-model" }).InnerTextAsync());
        Assert.Contains("$0.018", await models.Filter(new() { HasText = "cheap-model" }).InnerTextAsync());
        var keys = portal.Page.Locator("[data-testid=usage-keys] tbody tr");
        var ciRow = await keys.Filter(new() { HasText = "ci-pipeline" }).InnerTextAsync();
        Assert.Contains("sk-...", ciRow);
        Assert.Contains("$0.36", ciRow);
        Assert.Contains("$0.018", await keys.Filter(new() { HasText = "laptop" }).InnerTextAsync());
        var page = await portal.Page.ContentAsync();
        Assert.All(rawKeys, raw => Assert.DoesNotContain(raw, page));
    }

    /// <summary>The CSV is the range's daily report: a header, then one row per day and model, invariant numbers.</summary>
    private static async Task DownloadAsync(PortalPage portal)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var download = await portal.Page.RunAndWaitForDownloadAsync(() => portal.Page.ClickAsync("[data-testid=usage-csv]"));

        Assert.Equal($"usage-finance-{today.AddDays(-6):yyyy-MM-dd}-to-{today:yyyy-MM-dd}.csv", download.SuggestedFilename);
        var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync((await download.PathAsync())!)).TrimStart('\uFEFF');
        Assert.Equal(
            [
                "date,team,model,api_requests,successful_requests,failed_requests,prompt_tokens,completion_tokens,cache_read_input_tokens,total_tokens,spend_usd",
                $"{today:yyyy-MM-dd},Finance,cheap-model,1,1,0,11,7,0,18,0.018",
                $"{today:yyyy-MM-dd},Finance,priced-model,2,2,0,22,14,0,36,0.36",
                "",
            ],
            text.Split("\r\n"));
    }

    /// <summary>A custom range typed into the picker: yesterday alone held no call.</summary>
    private static async Task CustomRangeAsync(PortalPage portal)
    {
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1).ToString("yyyy-MM-dd");
        await portal.Page.ClickAsync("[data-testid=range-custom]");
        var inputs = portal.Page.Locator("[data-testid=usage-dates] input");
        // Each date is taken when its field is left, as a typed date is.
        await inputs.Nth(0).FillAsync(yesterday);
        await inputs.Nth(0).PressAsync("Tab");
        await inputs.Nth(1).FillAsync(yesterday);
        await inputs.Nth(1).PressAsync("Tab");

        await portal.Page.Locator("[data-testid=usage-range-text]", new() { HasText = $"{yesterday} to {yesterday}" }).WaitForAsync();
        await portal.Page.Locator("[data-testid=empty-state]", new() { HasText = "No calls in these days" }).WaitForAsync();
    }

    private async Task AddModelAsync(string team, string name, double pricePerToken) =>
        (await _gateway.Client().PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = new { model = "openai/gpt-4o", api_key = $"sk-provider-{name}-usage-e2e", api_base = _upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team, input_cost_per_token = pricePerToken, output_cost_per_token = pricePerToken },
        })).EnsureSuccessStatusCode();

    private async Task CallAsync(string key, string model)
    {
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
        (await caller.PostAsJsonAsync("/v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
    }
}
