using System.Security.Claims;
using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Portal.Components.Shared;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The key form and the limits form: the team's models to choose from with their prices, a key that only calls models
/// unless its creator chooses more, values checked with the REST API's rules and messages, and refusals shown on their
/// field while the dialog stays open.
/// </summary>
public sealed class KeyFormTests : PortalUiContext
{
    // TeamService finds members by normalised email, as Identity does in the host.
    public KeyFormTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    private const string NegativeBudget = "max_budget must not be negative: give an amount of USD, 0 or more, or none for no budget.";

    /// <summary>A proxy admin signed in, and a team with a model the price table knows and one it does not.</summary>
    private async Task<string> SeedAsync()
    {
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            await Database.MigrateAsync(db);
            db.Users.Add(new PortalUser
            {
                Id = "ui-admin", Email = "someone@example.com", UserName = "someone@example.com", NormalizedUserName = "SOMEONE@EXAMPLE.COM",
                IsProxyAdmin = true, SecurityStamp = Guid.NewGuid().ToString("N"), CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "ui-admin"));
        string team;
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            team = (await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
            var models = writes.ServiceProvider.GetRequiredService<ModelService>();
            await models.AddAsync(Caller.MasterKey, new ModelInput { ModelName = "priced", UpstreamModel = "openai/gpt-4o", ApiKey = "sk-provider-ui-0004", TeamId = team });
            await models.AddAsync(Caller.MasterKey, new ModelInput
            {
                ModelName = "local-llama", UpstreamModel = "hosted_vllm/meta-llama/Llama-3.3-70B-Instruct", ApiBase = "https://vllm.example.com/v1", TeamId = team,
            });
        }
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
        return team;
    }

    /// <summary>The popover provider, where an open select's items are.</summary>
    private IRenderedComponent<MudPopoverProvider> popovers = default!;

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenKeyDialogAsync(string teamId)
    {
        popovers = Ui.Render<MudPopoverProvider>();
        var provider = Ui.Render<MudDialogProvider>();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<KeyDialog>("Create key",
            new DialogParameters<KeyDialog> { { d => d.TeamId, teamId }, { d => d.Models, ["local-llama", "priced"] } }));
        return (provider, dialog);
    }

    /// <summary>The message under the field with <paramref name="id"/> (its helper text turned error), or null.</summary>
    private static string? ErrorUnder(IRenderedComponent<MudDialogProvider> provider, string id) =>
        provider.Find(id).Closest(".mud-input-control")!.QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent.Trim();

    private async Task<List<VirtualKey>> StoredKeysAsync()
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PortalDb>().Keys.AsNoTracking().ToListAsync();
    }

    [Fact]
    public async Task KeyDialog_OffersTheTeamsModelsWithTheirPrices_AndAKeyThatCallsModelsOnly_UnlessChosen()
    {
        var team = await SeedAsync();
        var (provider, dialog) = await OpenKeyDialogAsync(team);

        Assert.Contains("None chosen: all the team's models (2), and those it adds later.", provider.Markup);
        Assert.Equal("Call models only", provider.Find("#key-type").GetAttribute("value"));
        Assert.Contains("Calls the team's models; refused on every management route.", provider.Markup);

        var models = provider.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Models");
        await provider.InvokeAsync(() => models.Instance.OpenMenu());
        popovers.WaitForAssertion(() => Assert.Equal(["local-llama", "priced"], popovers.FindAll("[data-testid=key-model-option]").Select(o => o.TextContent)));
        Assert.Equal(["no price", "$2.50 in · $10.00 out per 1M tokens"], popovers.FindAll("[data-testid=key-model-price]").Select(p => p.TextContent));

        await provider.InvokeAsync(() => models.Instance.SelectedValuesChanged.InvokeAsync(new HashSet<string> { "priced" }));
        Assert.Contains("Only these models.", provider.Markup);
        await provider.Find("form#key-form").SubmitAsync();

        var issued = Assert.IsType<IssuedKey>((await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data);
        Assert.Equal(["priced"], issued.Key.Models);
        Assert.Equal(KeyType.LlmApi, issued.Key.KeyType);
        Assert.Equal(team, Assert.Single(await StoredKeysAsync()).TeamId);
    }

    [Fact]
    public async Task KeyDialog_ANegativeBudget_GetsTheRestApisMessageUnderTheBudget_TheDialogStaysOpen_UntilItIsFixed()
    {
        var team = await SeedAsync();
        var (provider, dialog) = await OpenKeyDialogAsync(team);

        await provider.Find("#limits-max-budget").ChangeAsync(new ChangeEventArgs { Value = "-5" });
        await provider.Find("form#key-form").SubmitAsync();

        Assert.Equal(NegativeBudget, ErrorUnder(provider, "#limits-max-budget"));
        Assert.Equal("-5", provider.Find("#limits-max-budget").GetAttribute("value"));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Empty(await StoredKeysAsync());

        await provider.Find("#limits-max-budget").ChangeAsync(new ChangeEventArgs { Value = "5" });
        Assert.Null(ErrorUnder(provider, "#limits-max-budget"));
        await provider.Find("form#key-form").SubmitAsync();

        var issued = Assert.IsType<IssuedKey>((await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data);
        Assert.Equal(5, issued.Key.MaxBudget);
    }

    [Fact]
    public async Task KeyDialog_ARefusalOfTheService_IsShownOnTheFieldItNames_AndWhatWasTypedStays()
    {
        var team = await SeedAsync();
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<KeyService>().GenerateAsync(Caller.MasterKey, new KeyInput { TeamId = team, KeyAlias = "ci-pipeline" });
        }
        var (provider, dialog) = await OpenKeyDialogAsync(team);

        await provider.Find("#key-alias").ChangeAsync(new ChangeEventArgs { Value = "ci-pipeline" });
        await provider.Find("#limits-rpm").ChangeAsync(new ChangeEventArgs { Value = "60" });
        await provider.Find("form#key-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.Equal("key_alias 'ci-pipeline' is already used by another key. Key aliases are unique.", ErrorUnder(provider, "#key-alias")));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Equal("60", provider.Find("#limits-rpm").GetAttribute("value"));
        Assert.Single(await StoredKeysAsync());
    }

    [Fact]
    public async Task LimitsDialog_ChecksModelBudgetsWithTheApisRules_AndARefusalNamingNoFieldShowsAtTheTop()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var form = LimitsForm.ForNewKey();
        form.ModelBudgets.Add(new ModelBudgetRow { Model = "priced" });
        var saves = 0;
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<LimitsDialog>("Limits", new DialogParameters<LimitsDialog>
        {
            { d => d.Form, form }, { d => d.Models, ["priced"] },
            { d => d.Save, _ => { saves++; return Task.FromResult<ProxyError?>(ProxyError.Forbidden("Only an admin of team Sweden can change its keys.")); } },
        }));

        await provider.Find("form#limits-form").SubmitAsync();
        Assert.StartsWith("model_max_budget.priced.budget_limit is required: the USD the key may spend on priced per time_period", ErrorUnder(provider, "#model-budget-limit-0"));
        Assert.Equal(0, saves);

        await provider.Find("#model-budget-limit-0").ChangeAsync(new ChangeEventArgs { Value = "3" });
        await provider.Find("form#limits-form").SubmitAsync();
        Assert.Equal(1, saves);
        Assert.Equal("Only an admin of team Sweden can change its keys.", provider.Find("[data-testid=limits-refusal]").TextContent.Trim());
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public void KeysTab_ShowsWhyAKeyIsRefused_AndItsModelsAsChips()
    {
        RenderProviders();
        VirtualKey Key(string alias, Action<VirtualKey> set)
        {
            var key = new VirtualKey { Token = alias.PadRight(64, 'x'), KeyName = $"sk-...{alias[..4]}", KeyAlias = alias, TeamId = "t1" };
            set(key);
            return key;
        }
        var keys = new[]
        {
            Key("spent", k => { k.Spend = 1.0; k.MaxBudget = 1.0; k.Models = ["priced", "local-llama"]; }),
            Key("under", k => { k.Spend = 0.99; k.MaxBudget = 1.0; }),
            Key("blocked", k => k.Blocked = true),
            Key("expired", k => k.ExpiresAt = DateTime.UtcNow.AddMinutes(-1)),
        };

        var tab = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, keys).Add(t => t.CanManage, true));

        string Status(string alias) => tab.FindAll("tr").Single(r => r.QuerySelectorAll("td").Any(td => td.TextContent.Trim() == alias))
            .QuerySelector("[data-testid=key-status]")!.TextContent.Trim();
        Assert.Equal("budget exhausted", Status("spent"));
        Assert.Equal("active", Status("under"));
        Assert.Equal("blocked", Status("blocked"));
        Assert.Equal("expired", Status("expired"));
        Assert.Equal(["priced", "local-llama"], tab.FindAll("[data-testid=key-model]").Select(c => c.TextContent.Trim()));
        Assert.Equal(3, tab.FindAll("[data-testid=key-models-all]").Count);
    }
}
