using Microsoft.Playwright;

namespace E2E;

/// <summary>The portal as a user sees it: intent methods over one browser page.</summary>
public sealed class PortalPage(IPage page, Uri baseAddress)
{
    public IPage Page => page;

    public async Task SignInAsync(string email, string password)
    {
        await page.GotoAsync(new Uri(baseAddress, "/Account/Login").ToString());
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#sign-in");
        await WaitInteractiveAsync();
    }

    public async Task SignOutAsync()
    {
        await page.ClickAsync("button.signout");
        await page.WaitForURLAsync("**/Account/Login**");
    }

    public async Task OpenAsync(string path)
    {
        await page.GotoAsync(new Uri(baseAddress, path).ToString());
        await WaitInteractiveAsync();
    }

    /// <summary>A click on the prerendered page is lost: wait until the Blazor circuit is connected.</summary>
    public async Task WaitInteractiveAsync()
    {
        try
        {
            await page.WaitForSelectorAsync("[data-interactive='true']", new() { Timeout = 20_000 });
        }
        catch (TimeoutException e)
        {
            await ScreenshotAsync("failed-" + DateTime.UtcNow.Ticks);
            throw new TimeoutException($"The portal never became interactive at {page.Url}. Page text: {await page.InnerTextAsync("body")}", e);
        }
    }

    public async Task CreateTeamAsync(string alias)
    {
        await page.ClickAsync("[data-testid=create-team]");
        await page.FillAsync("#team-alias", alias);
        await page.ClickAsync("[data-testid=team-save]");
        await page.GetByText("created.").First.WaitForAsync();
    }

    public async Task CreateUserAsync(string email, string password)
    {
        await OpenAsync("/admin");
        await page.FillAsync("#user-email", email);
        await page.FillAsync("#user-password", password);
        await page.ClickAsync("[data-testid=create-user]");
        await page.Locator("[data-testid=users]").GetByText(email).WaitForAsync();
    }

    public async Task OpenTeamAsync(string alias)
    {
        await OpenAsync("/");
        await page.Locator("[data-testid=team-link]", new() { HasText = alias }).ClickAsync();
        await page.Locator("[data-testid=team-title]", new() { HasText = alias }).WaitForAsync();
    }

    public Task OpenTabAsync(string name) => page.GetByRole(AriaRole.Tab, new() { Name = name }).ClickAsync();

    public async Task AddMemberAsync(string email, bool admin)
    {
        await OpenTabAsync("Members");
        await page.FillAsync("#member-email", email);
        // No wait between typing and clicking: the role is the button, so nothing can arrive late.
        await page.ClickAsync(admin ? "[data-testid=add-admin]" : "[data-testid=add-member]");
        var row = page.Locator("[data-testid=members] tr", new() { HasText = email });
        await row.GetByText(admin ? "admin" : "member", new() { Exact = true }).WaitForAsync();
    }

    public async Task RegisterModelAsync(string publicName, string upstreamModel, string apiBase, string apiKey)
    {
        await OpenTabAsync("Models");
        await page.ClickAsync("[data-testid=register-model]");
        await page.FillAsync("#model-public-name", publicName);
        await page.FillAsync("#model-upstream", upstreamModel);
        await page.FillAsync("#model-api-base", apiBase);
        await page.FillAsync("#model-api-key", apiKey);
        await page.ClickAsync("[data-testid=model-save]");
        await page.Locator("[data-testid=model-name]", new() { HasText = publicName }).WaitForAsync();
    }

    /// <summary>Creates a key and returns the raw key the "shown once" dialog displays (copied through the clipboard).</summary>
    public async Task<string> CreateKeyAsync(string alias)
    {
        await OpenTabAsync("Keys");
        await page.ClickAsync("[data-testid=create-key]");
        await page.FillAsync("#key-alias", alias);
        await page.ClickAsync("[data-testid=key-save]");
        var shown = await page.Locator("[data-testid=new-key]").InnerTextAsync();
        await page.ClickAsync("[data-testid=copy-new-key]");
        await page.GetByText("Copied key.").WaitForAsync();
        var copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        return copied == shown ? copied : throw new InvalidOperationException($"The clipboard holds '{copied}', the dialog shows '{shown}'.");
    }

    public Task ScreenshotAsync(string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, name + ".png"), FullPage = true });

    /// <summary>
    /// Opens the Register model dialog on the Models tab, fills it and sends it with Enter (a phone keyboard's "Go"),
    /// which works at every size; waits for nothing.
    /// </summary>
    public async Task SubmitModelAsync(string publicName, string upstreamModel, string apiBase, string apiKey)
    {
        await OpenTabAsync("Models");
        await page.ClickAsync("[data-testid=register-model]");
        await page.FillAsync("#model-public-name", publicName);
        await page.FillAsync("#model-upstream", upstreamModel);
        await page.FillAsync("#model-api-base", apiBase);
        await page.FillAsync("#model-api-key", apiKey);
        await page.PressAsync("#model-api-key", "Enter");
    }

    /// <summary>The Models tab's rows of the deployments under <paramref name="publicName"/>.</summary>
    public ILocator DeploymentRows(string publicName) =>
        page.Locator("[data-testid=models] tr", new() { Has = page.Locator($"[data-testid=deployment][data-group='{publicName}']") });

    /// <summary>The group header of <paramref name="publicName"/> on the Models tab.</summary>
    public ILocator ModelGroup(string publicName) => page.Locator($"[data-testid=model-group][data-group='{publicName}']");

    /// <summary>Waits until no snackbar is shown: on a phone they cover the top of the page, and what is under them.</summary>
    public Task WaitForSnackbarsGoneAsync() =>
        page.WaitForFunctionAsync("() => document.querySelectorAll('.mud-snackbar').length === 0", null, new() { Timeout = 20_000 });
}
