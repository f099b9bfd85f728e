using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>The alias tab edits the team's model_aliases through TeamService: what TeamService refuses is shown, not stored.</summary>
public sealed class AliasTabTests : PortalUiContext
{
    // TeamService finds members by normalised email, as Identity does in the host.
    public AliasTabTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    /// <summary>A migrated database with a signed-in proxy admin, a global model and a team with a model of its own.</summary>
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
        await using var writes = Ui.Services.CreateAsyncScope();
        await writes.ServiceProvider.GetRequiredService<ModelService>().AddAsync(Caller.MasterKey,
            new ModelInput { ModelName = "gpt-4o-mini", UpstreamModel = "openai/gpt-4o-mini", ApiKey = "sk-provider-ui-0001" });
        var team = await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" });
        await writes.ServiceProvider.GetRequiredService<ModelService>().AddAsync(Caller.MasterKey,
            new ModelInput { ModelName = "team-model", UpstreamModel = "openai/gpt-4o", ApiKey = "sk-provider-ui-0002", TeamId = team.Team.TeamId });
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
        return team.Team.TeamId;
    }

    private async Task<IReadOnlyDictionary<string, string>> StoredAsync(string teamId)
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TeamService>().GetAsync(Caller.MasterKey, teamId)).Team.ModelAliases;
    }

    private static async Task TypeAsync(IRenderedComponent<AliasTab> tab, string selector, string value) =>
        await tab.Find(selector).ChangeAsync(new ChangeEventArgs { Value = value });

    [Fact]
    public async Task Admin_AddsAnAlias_SeesARefusal_AndRemovesIt()
    {
        var teamId = await SeedAsync();
        RenderProviders();
        var snackbars = Ui.Render<MudSnackbarProvider>();
        var changed = 0;
        var tab = Ui.Render<AliasTab>(p => p.Add(t => t.TeamId, teamId).Add(t => t.CanManage, true)
            .Add(t => t.Aliases, new Dictionary<string, string>()).Add(t => t.OnChanged, () => changed++));

        await TypeAsync(tab, "#alias-name", "cheap-model");
        await TypeAsync(tab, "#alias-target", "gpt-4o-mini");
        await tab.Find("[data-testid=add-alias]").ClickAsync(new MouseEventArgs());

        Assert.Equal("gpt-4o-mini", (await StoredAsync(teamId))["cheap-model"]);
        Assert.Equal(1, changed);

        // An alias that would hide the team's own model: TeamService refuses, the page says why, nothing is stored.
        tab.Render(p => p.Add(t => t.ModelAliases, new Dictionary<string, string> { ["cheap-model"] = "gpt-4o-mini" }));
        await TypeAsync(tab, "#alias-name", "team-model");
        await TypeAsync(tab, "#alias-target", "gpt-4o-mini");
        await tab.Find("[data-testid=add-alias]").ClickAsync(new MouseEventArgs());

        snackbars.WaitForAssertion(() => Assert.Contains("an alias cannot hide it", snackbars.Markup));
        Assert.False((await StoredAsync(teamId)).ContainsKey("team-model"));
        Assert.Equal(1, changed);

        await tab.Find("[data-testid=remove-alias]").ClickAsync(new MouseEventArgs());

        Assert.Empty(await StoredAsync(teamId));
        Assert.Equal(2, changed);
    }

    [Fact]
    public async Task EmptyFields_AreExplained_BeforeAnythingIsSent()
    {
        RenderProviders();
        var tab = Ui.Render<AliasTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.CanManage, true).Add(t => t.Aliases, new Dictionary<string, string>()));

        await tab.Find("[data-testid=add-alias]").ClickAsync(new MouseEventArgs());

        Assert.Equal("Give the alias a name.", tab.Find("[data-testid=alias-problem]").TextContent);
    }

    [Fact]
    public void Member_SeesTheAliases_WithoutActions()
    {
        RenderProviders();
        var tab = Ui.Render<AliasTab>(p => p.Add(t => t.Aliases, new Dictionary<string, string>())
            .Add(t => t.ModelAliases, new Dictionary<string, string> { ["cheap-model"] = "gpt-4o-mini" }));

        Assert.Equal("cheap-model", tab.Find("[data-testid=model-alias-name]").TextContent);
        Assert.Equal("gpt-4o-mini", tab.Find("[data-testid=model-alias-target]").TextContent);
        Assert.Empty(tab.FindAll("[data-testid=add-alias]"));
        Assert.Empty(tab.FindAll("[data-testid=remove-alias]"));
    }
}
