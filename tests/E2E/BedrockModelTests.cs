using Portal.Tests.Infrastructure;

namespace E2E;

/// <summary>
/// Issue 28, a team admin registers an Amazon Bedrock model in the portal, at a desktop's size and a phone's: the dialog
/// asks for the AWS keys and region instead of an API key, lists the region's models with them, the model is registered, and its health check (a signed
/// Converse call the stand-in verifies) says it answers; editing shows the stored secrets only masked.
/// </summary>
public sealed class BedrockModelTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
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
    public async Task BedrockModel_IsRegisteredWithAwsKeys_AndAnswersItsHealthCheck(BrowserFixture.Screen screen)
    {
        var size = screen == BrowserFixture.Screen.Phone ? "phone" : "desktop";
        var alias = $"Bedrock {size}";
        await _gateway.CreateTeamAsync(alias);
        var portal = await browser.NewPortalAsync(_gateway.BaseAddress, screen);
        await portal.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);
        await portal.OpenTeamAsync(alias);

        await portal.StartModelWithProviderAsync("Amazon Bedrock");
        var page = portal.Page;
        await page.Locator("#model-aws-region").WaitForAsync();
        await page.FillAsync("#model-public-name", "claude-haiku");
        await page.FillAsync("#model-api-base", _upstream.ApiBase("bedrock", out var upstream));
        await page.FillAsync("#model-aws-region", BedrockStandIn.Region);
        await page.FillAsync("#model-aws-access-key-id", BedrockStandIn.AccessKeyId);
        await page.FillAsync("#model-aws-secret-access-key", BedrockStandIn.SecretAccessKey);
        // The region's models, listed with the keys just typed (a signed ListFoundationModels and ListInferenceProfiles).
        await page.ClickAsync("[data-testid=model-list]");
        await page.GetByText("The provider lists 4 models: pick one.").WaitForAsync();
        await page.Locator("div.mud-input-control.mud-select:has(#model-offered)").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").GetByText("anthropic.claude-3-haiku-20240307-v1:0", new() { Exact = true }).ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('model-upstream')?.value === 'anthropic.claude-3-haiku-20240307-v1:0'");
        await portal.ScreenshotAsync($"28-bedrock-model-{size}");
        await page.ClickAsync("[data-testid=model-save]");

        await portal.ModelGroup("claude-haiku").WaitForAsync();
        await portal.DeploymentRows("claude-haiku").Locator("[data-testid=deployment-health]", new() { HasText = "healthy" }).WaitForAsync();
        Assert.Contains(_upstream.ReceivedBy(upstream), r => r.Path.EndsWith("/converse", StringComparison.Ordinal));
        // The Key column names the AWS key by its last characters, as it does an API key.
        await portal.DeploymentRows("claude-haiku").GetByText("****" + BedrockStandIn.AccessKeyId[^4..]).WaitForAsync();
        Assert.Equal(0, await page.GetByText(BedrockStandIn.SecretAccessKey[..^4]).CountAsync());
    }
}
