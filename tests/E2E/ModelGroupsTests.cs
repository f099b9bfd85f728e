using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;

namespace E2E;

/// <summary>
/// Issue 30, the Models tab as a team admin's daily tool, at a desktop's size and a phone's: deployments under their
/// public name, a duplicate name asked about, a refusal kept in the form, and a state that says what happened.
/// </summary>
public sealed class ModelGroupsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    /// <summary>Nothing listens on the discard port: the connection is refused.</summary>
    private const string ClosedPort = "http://127.0.0.1:9/v1";

    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static string Size(BrowserFixture.Screen screen) => screen == BrowserFixture.Screen.Phone ? "phone" : "desktop";

    /// <summary>The proxy admin on a new team's page.</summary>
    private async Task<(PortalPage Portal, string TeamId)> OnNewTeamAsync(BrowserFixture.Screen screen, string alias)
    {
        var team = await _gateway.CreateTeamAsync(alias);
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.OpenTeamAsync(alias);
        return (portal, team);
    }

    /// <summary>A full-page screenshot from the top, without the messages in the corner (the top bar is fixed: scrolled, it lands mid-page).</summary>
    private static async Task PhotographAsync(PortalPage portal, string name)
    {
        await portal.DismissMessagesAsync();
        await portal.Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await portal.ScreenshotAsync(name);
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task ARefusedApiBase_KeepsTheForm_WithThePlainReasonOnTheField(BrowserFixture.Screen screen)
    {
        var (portal, _) = await OnNewTeamAsync(screen, $"Refused {Size(screen)}");

        await portal.SubmitModelAsync("metadata-model", "gpt-4o", "http://169.254.169.254/v1", "sk-provider-refused-e2e-0001");

        var field = portal.Page.Locator(".mud-input-control", new() { Has = portal.Page.Locator("#model-api-base") });
        await field.GetByText("This API base points into a network the gateway may not call (169.254.169.254).").WaitForAsync();
        Assert.Equal("http://169.254.169.254/v1", await portal.Page.InputValueAsync("#model-api-base"));
        Assert.Equal("metadata-model", await portal.Page.InputValueAsync("#model-public-name"));
        Assert.Equal(0, await portal.Page.GetByText("litellm_params").CountAsync());
        await portal.ScreenshotAsync($"30-model-refused-{Size(screen)}");

        // Corrected in place, the same dialog registers it.
        await portal.Page.FillAsync("#model-api-base", _upstream.ApiBase("ok", out _));
        await portal.Page.ClickAsync("[data-testid=model-save]");
        await portal.ModelGroup("metadata-model").WaitForAsync();
        await portal.DeploymentRows("metadata-model").Locator("[data-testid=deployment-health]", new() { HasText = "healthy" }).WaitForAsync();
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task ADuplicateName_IsAskedAbout_AndAddingADeployment_ShowsTwoUnderOneHeader(BrowserFixture.Screen screen)
    {
        var (portal, _) = await OnNewTeamAsync(screen, $"Groups {Size(screen)}");
        await portal.SubmitModelAsync("my-team-model", "gpt-4o", _upstream.ApiBase("ok", out _), "sk-provider-groups-e2e-0001");
        await portal.ModelGroup("my-team-model").WaitForAsync();

        await portal.SubmitModelAsync("my-team-model", "gpt-4o-mini", _upstream.ApiBase("ok", out _), "sk-provider-groups-e2e-0002");

        var asked = portal.Page.Locator("[data-testid=model-name-taken]");
        await asked.GetByText("my-team-model already exists: add a deployment to it (traffic is shared) or choose another name.").WaitForAsync();
        await portal.ScreenshotAsync($"30-model-duplicate-{Size(screen)}");
        await portal.Page.ClickAsync("[data-testid=model-join]");

        await portal.ModelGroup("my-team-model").Locator("[data-testid=model-group-count]", new() { HasText = "2 deployments · traffic shared" }).WaitForAsync();
        Assert.Equal(1, await portal.Page.Locator("[data-testid=model-group]").CountAsync());
        var rows = portal.DeploymentRows("my-team-model");
        Assert.Equal(2, await rows.CountAsync());
        await rows.Filter(new() { HasText = "openai/gpt-4o-mini" }).Locator("[data-testid=deployment-health]", new() { HasText = "healthy" }).WaitForAsync();
        await PhotographAsync(portal, $"30-models-groups-{Size(screen)}");

        // The delete confirmation says which of the two goes.
        await portal.DismissMessagesAsync();
        await rows.Filter(new() { HasText = "openai/gpt-4o-mini" }).Locator("[data-testid=delete-deployment]").ClickAsync();
        var confirmation = portal.Page.GetByRole(AriaRole.Dialog);
        await confirmation.GetByText("Delete a deployment of my-team-model?").WaitForAsync();
        Assert.Contains("openai/gpt-4o-mini at 127.0.0.1:", await confirmation.InnerTextAsync());
        Assert.Contains("Calls to my-team-model go to its other 1 deployment.", await confirmation.InnerTextAsync());
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task ADeploymentOnAClosedPort_IsUnreachable_AfterTestConnection_AndAfterAFailingCall(BrowserFixture.Screen screen)
    {
        var (portal, team) = await OnNewTeamAsync(screen, $"Closed {Size(screen)}");

        // Registration tests the connection at once: the row says so.
        await portal.SubmitModelAsync("closed-model", "gpt-4o", ClosedPort, "sk-provider-closed-e2e-0001");
        var row = portal.DeploymentRows("closed-model");
        await row.Locator("[data-testid=deployment-health]", new() { HasText = "unreachable" }).WaitForAsync();
        await row.Locator("[data-testid=deployment-last-test]", new() { HasText = "no answer" }).WaitForAsync();

        await portal.DismissMessagesAsync();
        await row.Locator("[data-testid=test-connection]").ClickAsync();
        await row.Locator("[data-testid=deployment-testing]").WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.Equal("unreachable", (await row.Locator("[data-testid=deployment-health]").InnerTextAsync()).Trim());

        // A caller's call fails with 502; the page, opened again, says unreachable because of that call.
        var key = await _gateway.GenerateKeyAsync(team);
        var caller = new HttpClient { BaseAddress = _gateway.BaseAddress };
        caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var answer = await caller.PostAsJsonAsync("/v1/chat/completions", new { model = "closed-model", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        await portal.OpenTeamAsync($"Closed {Size(screen)}");
        await portal.OpenTabAsync("Models");
        await row.Locator("[data-testid=deployment-last-call]", new() { HasText = "no answer" }).WaitForAsync();
        Assert.Equal("unreachable", (await row.Locator("[data-testid=deployment-health]").InnerTextAsync()).Trim());
        Assert.Contains("On this instance", await row.Locator("[data-testid=deployment-failures]").InnerTextAsync());
        await PhotographAsync(portal, $"30-model-unreachable-{Size(screen)}");
    }
}
