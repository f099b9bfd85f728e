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
        await OpenMenuIfFoldedAsync();
        await page.ClickAsync("button.signout:visible");
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
        var link = page.Locator("[data-testid=team-link]", new() { HasText = alias });
        var title = page.Locator("[data-testid=team-title]", new() { HasText = alias });
        // A member of exactly one team lands on its page instead of the list.
        await link.Or(title).First.WaitForAsync();
        if (await link.CountAsync() > 0)
        {
            await link.ClickAsync();
        }
        await title.WaitForAsync();
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

    /// <summary>Opens the Keys tab's create dialog and fills the alias and the max budget, as typed (the dialog stays open until created).</summary>
    public async Task StartKeyAsync(string alias, string maxBudget)
    {
        await OpenTabAsync("Keys");
        await page.ClickAsync("[data-testid=create-key]");
        await page.FillAsync("#key-alias", alias);
        await page.FillAsync("#limits-max-budget", maxBudget);
    }

    /// <summary>The error under the form field with this id (its helper text, turned red).</summary>
    public ILocator ErrorUnder(string fieldId) =>
        page.Locator($".mud-input-control:has(#{fieldId}) .mud-input-helper-text.mud-input-error");

    /// <summary>On a phone the navigation is folded into a drawer behind the menu button; opens it there, does nothing at desktop.</summary>
    public async Task OpenMenuIfFoldedAsync()
    {
        var menu = page.Locator("[data-testid=nav-menu]");
        if (await menu.IsVisibleAsync())
        {
            await menu.ClickAsync();
            await page.Locator("[data-testid=nav-drawer] [data-testid=nav-teams]").WaitForAsync();
            // The drawer slides in: what is read or photographed next should see it in place.
            await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=nav-drawer]').getBoundingClientRect().left >= 0");
        }
    }

    /// <summary>How wide the page is drawn: wider than the window means the user scrolls sideways to reach part of it.</summary>
    public Task<int> PageWidthAsync() => page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");

    /// <summary>How many tables scroll sideways inside their frame: a row drawn as a card whose values run off its edge.</summary>
    public Task<int> SidewaysTablesAsync() =>
        page.EvaluateAsync<int>("() => [...document.querySelectorAll('.mud-table-container')].filter(t => t.scrollWidth > t.clientWidth).length");

    /// <summary>How wide the top bar's content is: the bar is fixed, so what overflows it does not widen the page, it is just out of reach.</summary>
    public Task<int> TopBarWidthAsync() => page.EvaluateAsync<int>("() => document.querySelector('.mud-appbar .mud-toolbar').scrollWidth");

    /// <summary>Whether the element is wholly inside the window as it is now, without scrolling the page.</summary>
    public async Task<bool> IsOnScreenAsync(string selector)
    {
        var box = await page.Locator(selector).BoundingBoxAsync();
        var window = page.ViewportSize!;
        return box is not null && box.X >= 0 && box.Y >= 0 && box.X + box.Width <= window.Width && box.Y + box.Height <= window.Height;
    }

    /// <summary>Closes the messages in the corner, so that a screenshot shows the page they cover.</summary>
    public async Task DismissMessagesAsync()
    {
        var close = page.Locator(".mud-snackbar button");
        for (var open = await close.CountAsync(); open > 0; open = await close.CountAsync())
        {
            await close.First.ClickAsync();
            await page.WaitForFunctionAsync($"() => document.querySelectorAll('.mud-snackbar button').length < {open}");
        }
    }

    /// <summary>A member's "Create my key" on the Quick start card; returns the raw key the "shown once" dialog displays, copied through the clipboard.</summary>
    public async Task<string> CreateMyKeyAsync()
    {
        await page.ClickAsync("[data-testid=create-my-key]");
        var shown = await page.Locator("[data-testid=new-key]").InnerTextAsync();
        await page.ClickAsync("[data-testid=copy-new-key]");
        await page.GetByText("Copied key.").WaitForAsync();
        var copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        await page.ClickAsync("[data-testid=new-key-done]");
        await page.Locator("[data-testid=key-hint]").WaitForAsync();
        return copied == shown ? copied : throw new InvalidOperationException($"The clipboard holds '{copied}', the dialog shows '{shown}'.");
    }

    /// <summary>Opens the Register model dialog on the Models tab, fills it and presses Register; waits for nothing.</summary>
    public async Task SubmitModelAsync(string publicName, string upstreamModel, string apiBase, string apiKey)
    {
        await OpenTabAsync("Models");
        await page.ClickAsync("[data-testid=register-model]");
        await page.FillAsync("#model-public-name", publicName);
        await page.FillAsync("#model-upstream", upstreamModel);
        await page.FillAsync("#model-api-base", apiBase);
        await page.FillAsync("#model-api-key", apiKey);
        await page.ClickAsync("[data-testid=model-save]");
    }

    /// <summary>The Models tab's rows of the deployments under <paramref name="publicName"/>.</summary>
    public ILocator DeploymentRows(string publicName) =>
        page.Locator("[data-testid=models] tr", new() { Has = page.Locator($"[data-testid=deployment][data-group='{publicName}']") });

    /// <summary>The group header of <paramref name="publicName"/> on the Models tab.</summary>
    public ILocator ModelGroup(string publicName) => page.Locator($"[data-testid=model-group][data-group='{publicName}']");

    /// <summary>Opens the Register model dialog on the Models tab and picks <paramref name="providerDisplayName"/> in its provider list.</summary>
    public async Task StartModelWithProviderAsync(string providerDisplayName)
    {
        await OpenTabAsync("Models");
        await page.ClickAsync("[data-testid=register-model]");
        await page.Locator("div.mud-input-control.mud-select:has(#model-provider)").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").GetByText(providerDisplayName, new() { Exact = true }).ClickAsync();
    }
}
