using Microsoft.Playwright;

namespace E2E;

/// <summary>Debian's Chromium, driven by Playwright (nothing is downloaded), shared by one test class.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots land here so a reviewer can look at the pages.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>The two sizes every portal job is tried at: a desktop window and a phone held upright.</summary>
    public enum Screen { Desktop, Phone }

    /// <summary>A fresh browser context (its own cookies) on the portal at <paramref name="baseAddress"/>, at a desktop size or a phone's.</summary>
    public async Task<PortalPage> NewPortalAsync(Uri baseAddress, Screen screen = Screen.Desktop)
    {
        var phone = screen == Screen.Phone;
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Permissions = ["clipboard-read", "clipboard-write"],
            ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1400, Height = 900 },
            IsMobile = phone,
            HasTouch = phone,
        });
        return new PortalPage(await context.NewPageAsync(), baseAddress);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
