using System.Security.Claims;
using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The members tab shows each member's spend in the team against max_budget_in_team, and its Budget editor changes that
/// budget through TeamService: what the REST API refuses is refused here with the same message, and nothing is stored.
/// </summary>
public sealed class MembersTabTests : PortalUiContext
{
    private const string Lead = "lead@example.com";
    private const string Dev = "dev@example.com";

    // TeamService finds members by normalised email, as Identity does in the host.
    public MembersTabTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    /// <summary>
    /// A migrated database with a proxy admin, and a team with an admin (<see cref="Lead"/>) and a plain member
    /// (<see cref="Dev"/>), neither of them a proxy admin. The proxy admin is signed in.
    /// </summary>
    private async Task<string> SeedAsync(double? devBudget = null, double devSpend = 0)
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
        string teamId;
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
            teamId = (await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
            await teams.AddMembersAsync(Caller.MasterKey, teamId,
                [new MemberInput(null, Lead, TeamRole.Admin), new MemberInput(null, Dev, TeamRole.User, devBudget)]);
        }
        if (devSpend != 0)
        {
            await using var scope = Ui.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            var dev = await db.Set<TeamMembership>().Include(m => m.User).SingleAsync(m => m.TeamId == teamId && m.User!.Email == Dev);
            dev.Spend = devSpend;
            await db.SaveChangesAsync();
        }
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
        return teamId;
    }

    /// <summary>The team as TeamService returns it, as the team page loads it for the tab.</summary>
    private async Task<Team> TeamAsync(string teamId)
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TeamService>().GetAsync(Caller.MasterKey, teamId)).Team;
    }

    private async Task<double?> StoredBudgetAsync(string teamId, string email) =>
        (await TeamAsync(teamId)).Members.Single(m => m.User?.Email == email).MaxBudgetInTeam;

    private async Task<string> UserIdAsync(string teamId, string email) =>
        (await TeamAsync(teamId)).Members.Single(m => m.User?.Email == email).UserId;

    /// <summary>The error text MudBlazor draws under the add form's email field.</summary>
    private static string ErrorUnderEmail(IRenderedComponent<MembersTab> tab) =>
        tab.FindAll(".mud-input-control").Single(c => c.QuerySelector("#member-email") is not null)
            .QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent ?? "";

    private void SignIn(string userId) => Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));

    private static IElement Row(IRenderedComponent<MembersTab> tab, string email) =>
        tab.FindAll("[data-testid=members] tbody tr").Single(r => r.TextContent.Contains(email, StringComparison.Ordinal));

    private static string BudgetCell(IRenderedComponent<MembersTab> tab, string email) =>
        Row(tab, email).QuerySelector("[data-testid=member-budget]")!.TextContent;

    private static async Task OpenBudgetEditorAsync(IRenderedComponent<MembersTab> tab, string email) =>
        await Row(tab, email).QuerySelector("[data-testid=member-budget-edit]")!.ClickAsync(new MouseEventArgs());

    private static async Task SaveBudgetAsync(IRenderedComponent<MembersTab> tab, string text)
    {
        await tab.Find("#member-budget-input").ChangeAsync(new ChangeEventArgs { Value = text });
        await tab.Find("[data-testid=member-budget-save]").ClickAsync(new MouseEventArgs());
    }

    /// <summary>Renders the tab as the team page does; <paramref name="changed"/> counts OnChanged (the page reloads then).</summary>
    private async Task<IRenderedComponent<MembersTab>> RenderTabAsync(string teamId, bool canManage, Action? changed = null)
    {
        var team = await TeamAsync(teamId);
        return Ui.Render<MembersTab>(p => p.Add(t => t.Team, team).Add(t => t.CanManage, canManage).Add(t => t.OnChanged, () => changed?.Invoke()));
    }

    [Fact]
    public async Task TeamAdmin_SetsAMembersBudget_ItIsStored_AndTheRowShowsIt()
    {
        var teamId = await SeedAsync();
        // The team's admin, not a proxy admin, does it.
        SignIn(await UserIdAsync(teamId, Lead));
        RenderProviders();
        var snackbars = Ui.Render<MudSnackbarProvider>();
        var changed = 0;
        var tab = await RenderTabAsync(teamId, canManage: true, () => changed++);
        Assert.Contains("no budget", BudgetCell(tab, Dev));

        await OpenBudgetEditorAsync(tab, Dev);
        await SaveBudgetAsync(tab, "12.5");

        Assert.Equal(12.5, await StoredBudgetAsync(teamId, Dev));
        Assert.Null(await StoredBudgetAsync(teamId, Lead));
        Assert.Equal(1, changed);
        snackbars.WaitForAssertion(() => Assert.Contains("Budget in the team changed.", snackbars.Markup));

        // The page reloads the team on OnChanged; the row then shows the spend against the new budget.
        tab.Render(p => p.Add(t => t.Team, TeamAsync(teamId).GetAwaiter().GetResult()));
        Assert.Empty(tab.FindAll("#member-budget-input"));
        Assert.Equal("$0.00 of $12.50", BudgetCell(tab, Dev).Trim());
        Assert.Contains("no budget", BudgetCell(tab, Lead));
    }

    [Fact]
    public async Task AddingSomeoneAlreadyInTheTeam_IsRefusedUnderTheEmail_WhichStays()
    {
        var teamId = await SeedAsync();
        RenderProviders();
        var snackbars = Ui.Render<MudSnackbarProvider>();
        var changed = 0;
        var tab = await RenderTabAsync(teamId, canManage: true, () => changed++);

        await tab.Find("#member-email").ChangeAsync(new ChangeEventArgs { Value = Dev });
        await tab.Find("[data-testid=add-member]").ClickAsync(new MouseEventArgs());

        tab.WaitForAssertion(() => Assert.Equal($"{Dev} is already a member of ui: change their role in the list below.", ErrorUnderEmail(tab)));
        Assert.Equal(Dev, tab.Find("#member-email").GetAttribute("value"));
        Assert.Equal(0, changed);
        Assert.DoesNotContain("already", snackbars.Markup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task NegativeBudget_IsRefused_WithTheRestApisMessage_AndNothingIsStored()
    {
        var teamId = await SeedAsync(devBudget: 5);
        RenderProviders();
        var snackbars = Ui.Render<MudSnackbarProvider>();
        var changed = 0;
        var tab = await RenderTabAsync(teamId, canManage: true, () => changed++);

        await OpenBudgetEditorAsync(tab, Dev);
        await SaveBudgetAsync(tab, "-1");

        // The message /team/member_update answers with (UserCompatibilityTests), shown at the field; the editor stays open.
        tab.WaitForAssertion(() => Assert.Contains("max_budget_in_team must not be negative.", BudgetCell(tab, Dev)));
        Assert.NotEmpty(tab.FindAll("#member-budget-input"));
        Assert.Equal(5, await StoredBudgetAsync(teamId, Dev));
        Assert.Equal(0, changed);
        Assert.DoesNotContain("Budget in the team changed.", snackbars.Markup);
    }

    [Fact]
    public async Task ClearingTheBudget_RemovesIt()
    {
        var teamId = await SeedAsync(devBudget: 5);
        RenderProviders();
        var changed = 0;
        var tab = await RenderTabAsync(teamId, canManage: true, () => changed++);
        Assert.Equal("$0.00 of $5.00", BudgetCell(tab, Dev).Trim());

        await OpenBudgetEditorAsync(tab, Dev);
        await SaveBudgetAsync(tab, "");

        Assert.Null(await StoredBudgetAsync(teamId, Dev));
        Assert.Equal(1, changed);
        tab.Render(p => p.Add(t => t.Team, TeamAsync(teamId).GetAwaiter().GetResult()));
        Assert.Contains("no budget", BudgetCell(tab, Dev));
        Assert.DoesNotContain("$5.00", BudgetCell(tab, Dev));
    }

    [Fact]
    public async Task PlainMember_SeesSpendAndBudget_ButNoBudgetEditor()
    {
        var teamId = await SeedAsync(devBudget: 5, devSpend: 0.25);
        SignIn(await UserIdAsync(teamId, Dev));
        RenderProviders();
        // The team page gives a member without admin rights CanManage = false.
        var tab = await RenderTabAsync(teamId, canManage: false);

        Assert.Equal("$0.25 of $5.00", BudgetCell(tab, Dev).Trim());
        Assert.Contains("no budget", BudgetCell(tab, Lead));
        Assert.Empty(tab.FindAll("[data-testid=member-budget-edit]"));
        Assert.DoesNotContain(tab.FindAll("button"), b => b.TextContent.Trim() == "Budget");
        Assert.Empty(tab.FindAll("#member-budget-input"));
        Assert.Empty(tab.FindAll("[data-testid=member-budget-save]"));
    }

    [Fact]
    public async Task TheLastAdmin_CannotBeRemovedOrDemoted_TheButtonsSayWhy()
    {
        var teamId = await SeedAsync();
        SignIn(await UserIdAsync(teamId, Lead));
        var popovers = Ui.Render<MudPopoverProvider>();
        Ui.Render<MudDialogProvider>();
        var tab = await RenderTabAsync(teamId, canManage: true);

        var lead = Row(tab, Lead);
        Assert.True(lead.QuerySelector("[data-testid=member-remove]")!.HasAttribute("disabled"));
        Assert.True(lead.QuerySelector("[data-testid=member-demote]")!.HasAttribute("disabled"));
        var dev = Row(tab, Dev);
        Assert.False(dev.QuerySelector("[data-testid=member-remove]")!.HasAttribute("disabled"));
        Assert.False(dev.QuerySelector("[data-testid=member-promote]")!.HasAttribute("disabled"));

        // Pointing at the disabled buttons tells why, in the rule book's words.
        await lead.QuerySelector(".mud-tooltip-root")!.TriggerEventAsync("onpointerenter", new PointerEventArgs());
        popovers.WaitForAssertion(() => Assert.Contains("The team needs at least one admin.", popovers.Markup));
    }

    [Fact]
    public async Task TheProxyAdmin_MayStillRemoveTheLastAdmin_AsTheCoreAllows()
    {
        var teamId = await SeedAsync();
        RenderProviders();
        var tab = await RenderTabAsync(teamId, canManage: true);

        Assert.False(Row(tab, Lead).QuerySelector("[data-testid=member-remove]")!.HasAttribute("disabled"));
        Assert.Empty(tab.FindAll(".mud-tooltip-root"));
    }
}
