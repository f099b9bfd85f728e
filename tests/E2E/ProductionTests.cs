using Portal.Tests.Infrastructure;

namespace E2E;

/// <summary>
/// The portal as operators deploy it: a real process in Production, from a <c>dotnet publish</c> folder and from the
/// build output, in a real browser. Outside Development the static web assets are easy to lose (they come back as
/// empty 200s), which leaves an unstyled page whose buttons do nothing.
/// </summary>
public sealed class ProductionTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task FromAPublishFolder_InProduction_ThePortalIsStyledAndInteractive() =>
        await CheckAsync(await GatewayProcess.PublishAsync(), "15-production-publish");

    [Fact]
    public async Task FromTheBuildOutput_InProduction_ThePortalIsStyledAndInteractive() =>
        await CheckAsync(GatewayProcess.BuildOutputDll, "16-production-build-output");

    private async Task CheckAsync(string dll, string screenshot)
    {
        await using var gateway = await GatewayProcess.StartAsync(dll);
        var portal = await browser.NewPortalAsync(gateway.BaseAddress);

        await portal.SignInAsync(GatewayProcess.AdminEmail, GatewayProcess.AdminPassword);

        var mudRules = await portal.Page.EvaluateAsync<int>(
            "() => [...document.styleSheets].filter(s => (s.href || '').includes('MudBlazor')).reduce((n, s) => n + s.cssRules.length, 0)");
        Assert.True(mudRules > 1000, $"MudBlazor's stylesheet did not load ({mudRules} rules)");
        Assert.Equal("fixed", await portal.Page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-appbar')).position"));
        Assert.False(await portal.Page.Locator("#blazor-error-ui").IsVisibleAsync(), "the portal shows its unhandled-error bar");
        // Interactive: a click opens a dialog, which only the circuit can do.
        await portal.Page.ClickAsync("[data-testid=create-team]");
        await portal.Page.Locator("#team-alias").WaitForAsync();
        await portal.ScreenshotAsync(screenshot);
    }
}
