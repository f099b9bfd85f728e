using System.Text;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace E2E;

/// <summary>
/// Issue 28, a team admin registers a Claude model on Vertex AI in the portal, at a desktop's size and a phone's: the
/// dialog takes the project, the location and the service account's JSON key file (picked as a file), the model is
/// registered from Model Garden's list, and its health check (a call with an access token the token stand-in issued for that account) says it
/// answers; the key file's private key appears nowhere on the page.
/// </summary>
public sealed class VertexModelTests : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly BrowserFixture _browser;
    private readonly GatewayFactory _gateway = new();
    private readonly GoogleTokenStandIn _google = new();
    private readonly VertexStandIn _vertex;

    public VertexModelTests(BrowserFixture browser)
    {
        _browser = browser;
        _vertex = new VertexStandIn(_google);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _vertex.DisposeAsync();
        await _google.DisposeAsync();
    }

    [Theory]
    [InlineData(BrowserFixture.Screen.Desktop)]
    [InlineData(BrowserFixture.Screen.Phone)]
    public async Task VertexModel_IsRegisteredWithAServiceAccountKeyFile_AndAnswersItsHealthCheck(BrowserFixture.Screen screen)
    {
        var size = screen == BrowserFixture.Screen.Phone ? "phone" : "desktop";
        var alias = $"Vertex {size}";
        await _gateway.CreateTeamAsync(alias);
        var (keyFile, email) = _google.NewAccount("standin-project");
        var portal = await _browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.OpenTeamAsync(alias);

        await portal.StartModelWithProviderAsync("Google Vertex AI");
        var page = portal.Page;
        await page.Locator("#model-vertex-project").WaitForAsync();
        await page.FillAsync("#model-public-name", "claude-sonnet");
        await page.FillAsync("#model-api-base", _vertex.ApiBase("vertex", out var upstream));
        await page.FillAsync("#model-vertex-project", "standin-project");
        await page.FillAsync("#model-vertex-location", "us-east5");
        await page.SetInputFilesAsync("#model-vertex-credentials",
            new FilePayload { Name = "service-account.json", MimeType = "application/json", Buffer = Encoding.UTF8.GetBytes(keyFile) });
        await page.GetByText($"Key of {email} read").WaitForAsync();
        // Model Garden's Gemini and Claude models, listed with the picked key file's token; Claude's with its version.
        await page.ClickAsync("[data-testid=model-list]");
        await page.GetByText("The provider lists 6 models: pick one.").WaitForAsync();
        await page.Locator("div.mud-input-control.mud-select:has(#model-offered)").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").GetByText("claude-sonnet-4-5@20250929", new() { Exact = true }).ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('model-upstream')?.value === 'claude-sonnet-4-5@20250929'");
        await portal.ScreenshotAsync($"28-vertex-model-{size}");
        await page.ClickAsync("[data-testid=model-save]");

        await portal.ModelGroup("claude-sonnet").WaitForAsync();
        await portal.DeploymentRows("claude-sonnet").Locator("[data-testid=deployment-health]", new() { HasText = "healthy" }).WaitForAsync();
        var probe = Assert.Single(_vertex.ReceivedBy(upstream), r => r.Path.EndsWith(":rawPredict", StringComparison.Ordinal));
        Assert.Equal(email, _google.AccountOf(probe.Header("authorization")!["Bearer ".Length..]));
        var privateKey = System.Text.Json.Nodes.JsonNode.Parse(keyFile)!["private_key"]!.GetValue<string>().Split('\n')[1][..24];
        Assert.DoesNotContain(privateKey, await page.ContentAsync());
    }
}
